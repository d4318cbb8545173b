"""The period a report covers, read strictly from a request's query: ``?start=&end=`` or ``?days=``.

* ``start`` and ``end`` are ISO calendar dates (``2026-11-02``, ASCII
  digits), both given, read in UTC and both included: the period runs from
  ``start`` 00:00 UTC to the day after ``end`` 00:00 UTC.
* ``days=N`` (1..``MAX_DAYS``) is the ``N`` × 24 h ending now.
* Neither: the last ``DEFAULT_DAYS`` days. Both forms at once, one of start
  and end alone, a malformed date, ``end`` before ``start`` or a span over
  ``MAX_DAYS`` days are refused with :class:`sredesk.inputs.InputError`
  naming the parameter (a 400 at the API, a message on the page).

Periods are half-open ``[start, end)`` of aware UTC instants; ``previous``
is the period of the same length just before (the trend beside a figure).
"""

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sredesk.inputs import InputError, parse_int

MAX_DAYS = 366
DEFAULT_DAYS = 28
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


@dataclass(frozen=True)
class Period:
    """``[start, end)``, aware UTC instants."""

    start: dt.datetime
    end: dt.datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def previous(self) -> "Period":
        """The period of the same length that ends where this one starts."""
        return Period(self.start - (self.end - self.start), self.start)

    def query(self) -> str:
        """``start=…&end=…`` naming the UTC dates this period touches (links between report pages)."""
        last = (self.end - dt.timedelta(microseconds=1)).date()
        return f"start={self.start.date().isoformat()}&end={last.isoformat()}"

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M} UTC"


def _date(params: Mapping[str, str], field: str) -> dt.date:
    value = params.get(field, "")
    if not _DATE.fullmatch(value):
        raise InputError(field, "Give a date as YYYY-MM-DD (e.g. 2026-11-02).")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(field, f"{value} is not a calendar date.") from None


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def period_from_query(params: Mapping[str, str], *, now: dt.datetime) -> Period:
    """The period ``params`` (a request's GET) asks for, at the aware instant ``now`` (module docstring)."""
    has_dates = "start" in params or "end" in params
    if "days" in params and has_dates:
        raise InputError("days", "Give either days or start and end, not both.")
    if "days" in params:
        days = parse_int(params["days"], field="days", min_value=1, max_value=MAX_DAYS)
        end = now.astimezone(dt.UTC)
        return Period(end - dt.timedelta(days=days), end)
    if not has_dates:
        end = now.astimezone(dt.UTC)
        return Period(end - dt.timedelta(days=DEFAULT_DAYS), end)
    for field in ("start", "end"):
        if field not in params:
            raise InputError(field, "Give both start and end (or days).")
    first, last = _date(params, "start"), _date(params, "end")
    if last < first:
        raise InputError("end", "end is before start.")
    if (last - first).days + 1 > MAX_DAYS:
        raise InputError("end", f"A period spans at most {MAX_DAYS} days.")
    return Period(_midnight(first), _midnight(last + dt.timedelta(days=1)))


def iso_week(day: dt.date) -> Period:
    """The ISO week (Monday 00:00 UTC to the next Monday) holding ``day``."""
    monday = day - dt.timedelta(days=day.weekday())
    return Period(_midnight(monday), _midnight(monday + dt.timedelta(days=7)))
