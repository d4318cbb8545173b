"""Wall-clock rules in a person's or an SLO's zone, answered as instants (aware UTC).

A local rule ("09:00 to 17:00 on weekdays", "the 1st of the month at
midnight") is read off the wall clock of the zone, and the answer is an
instant; instants are compared in UTC, never as local times. Two comparisons
of local times go wrong at DST changes (FIELD-CASES BR-21 is the kind): in a
repeated hour Python orders two readings of one zone by their wall time and
ignores ``fold``, so 02:10 of the second pass sorts before 02:30 of the first
although it is later; and a wall time a change skips (02:30 on the spring-
forward day) does not exist, and zoneinfo reads it with the old offset, which
lands it an hour late (03:30). So a local boundary is expanded to every
instant the zone's clock shows it (both passes of a repeated hour), plus the
zone's changes themselves (the instant a skipped boundary is jumped over),
and the earliest instant that satisfies the rule is taken.

Working hours (``User.work_start``, ``work_end``, ``working_days``, ``timezone``):
an instant is inside them when the wall clock in the person's zone then reads a
date and time inside them:

* ``start < end``: the date is a working day (ISO weekday, Monday=1) and
  ``start <= time < end``;
* ``start > end`` (a window past midnight): the date is a working day and
  ``time >= start``, or the day before is and ``time < end``;
* ``start == end``: around the clock on working days.

In a repeated hour the clock reading decides (with hours from 02:30, 02:10 of
the second pass is outside although 02:30 of the first has passed); a day the
zone skips entirely (Pacific/Apia, 30 December 2011) has no hours.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from .models import User

UTC = dt.UTC
_STEP = 6 * 3600  # seconds; no zone changes its offset twice within six hours


def _zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def zone_changes(zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The instants in ``(start, end]`` at which ``zone``'s UTC offset changes, aware UTC, on whole seconds.

    zoneinfo does not list its transitions, so the offset is sampled every six hours
    and each change found is narrowed down to its second by bisection.
    """
    changes = []
    left = int(start.timestamp())
    stop = end.timestamp()
    before = _offset_at(left, zone)
    while left < stop:
        right = left + _STEP
        after = _offset_at(right, zone)
        if after != before:
            low, high = left, right  # the offset at low is `before`, at high it is not
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if _offset_at(middle, zone) == before else (low, middle)
            change = dt.datetime.fromtimestamp(high, UTC)
            if start < change <= end:
                changes.append(change)
        left, before = right, after
    return changes


def _offset_at(seconds: int, zone: ZoneInfo) -> dt.timedelta:
    return dt.datetime.fromtimestamp(seconds, zone).utcoffset()


def _readings(day: dt.date, at: dt.time, zone: ZoneInfo) -> set[dt.datetime]:
    """Both readings (first and second pass) of ``day`` ``at`` in ``zone`` as instants; one when it is unambiguous.

    For a wall time a change skips these are not readings of it; callers add the change itself.
    """
    naive = dt.datetime.combine(day, at)
    return {naive.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)}


def first_reading(wall: dt.datetime, zone: str | ZoneInfo) -> dt.datetime:
    """The first instant at which ``zone``'s clock reads ``wall`` (naive local) or later, aware UTC.

    ``wall`` itself when it is unambiguous; its first pass in a repeated hour;
    the change's instant when a change skips it (02:30 on the spring-forward
    day in Europe/Berlin is 03:00 CEST, 01:00 UTC).
    """
    zone = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    readings = _readings(wall.date(), wall.time(), zone)
    shown = [r for r in readings if r.astimezone(zone).replace(tzinfo=None) == wall]
    if shown:  # the clock shows it: nothing before its first reading shows it or later (else it was skipped)
        return min(shown)
    around = min(readings)
    candidates = readings | set(zone_changes(zone, around - dt.timedelta(days=2), around + dt.timedelta(days=2)))
    return min(c for c in candidates if c.astimezone(zone).replace(tzinfo=None) >= wall)


def in_working_hours(user: User, at: dt.datetime) -> bool:
    """Whether the wall clock in ``user``'s zone reads a time inside their working hours at the instant ``at``.

    A person with no working days counts as always inside (see ``next_working_time``).
    """
    days = _working_days(user)
    return not days or _inside(at.astimezone(_zone(user)), days, user.work_start, user.work_end)


def _working_days(user: User) -> set[int]:
    return {int(d) for d in (user.working_days or "") if d.isdigit()}


def wall_inside(local: dt.datetime, days: set[int], start: dt.time, end: dt.time) -> bool:
    """Whether the wall-clock reading ``local`` is inside the daily window ``start``..``end`` on ``days``.

    The rule of the module docstring (ISO weekdays; ``start > end`` runs past midnight, the window
    belonging to the day it starts on; ``start == end`` is the whole day), shared by working hours and
    on-call layer restrictions (``oncall.rotation``). It changes only where the clock reaches ``start``,
    ``end`` or midnight, or jumps.
    """
    return _inside(local, days, start, end)


def _inside(local: dt.datetime, days: set[int], start: dt.time, end: dt.time) -> bool:
    day, time = local.date(), local.time()
    today = day.isoweekday() in days
    if start == end:
        return today
    if start < end:
        return today and start <= time < end
    yesterday = (day - dt.timedelta(days=1)).isoweekday() in days
    return (today and time >= start) or (yesterday and time < end)


def next_working_time(user: User, at: dt.datetime) -> dt.datetime:
    """The first instant at or after ``at`` inside ``user``'s working hours, as aware UTC.

    ``at`` itself when it is inside them, never an instant before it. A person
    with no working days is treated as always reachable (nobody is silently
    never reminded). The hours can only begin where the clock reaches
    ``work_start`` on a working day (either pass of a repeated hour), at its
    midnight for around-the-clock days, or where the zone's offset changes;
    those instants are the candidates, tried in order a day at a time.
    """
    at = at.astimezone(UTC)
    days = _working_days(user)
    if not days:
        return at
    zone, start, end = _zone(user), user.work_start, user.work_end
    if _inside(at.astimezone(zone), days, start, end):
        return at
    today = at.astimezone(zone).date()
    opening = dt.time(0) if start == end else start  # around the clock: a working day opens at midnight
    for offset in range(10):  # a day at a time, usually one or two
        low, high = at + dt.timedelta(days=offset), at + dt.timedelta(days=offset + 1)
        candidates = set(zone_changes(zone, low, high))
        for day in (today + dt.timedelta(days=offset + d) for d in (-1, 0, 1, 2)):
            if day.isoweekday() in days:
                candidates |= {c for c in _readings(day, opening, zone) if low < c <= high}
        for candidate in sorted(candidates):
            if _inside(candidate.astimezone(zone), days, start, end):
                return candidate
    return at  # unreachable with at least one working day; kept as a safe default


def calendar_month(at: dt.datetime, zone: str | ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The calendar month in ``zone`` containing the instant ``at``: (its first instant, the next month's), aware UTC.

    Each bound is the first instant the zone's clock reads the 1st at 00:00
    or later (``first_reading``), so the month's length follows its DST
    changes (March 2026 in Europe/Berlin lasts 743 hours, October 745), and a
    midnight that a change skips begins the month at the change.
    """
    zone = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    first = at.astimezone(zone).date().replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first_reading(dt.datetime.combine(first, dt.time(0)), zone), first_reading(
        dt.datetime.combine(following, dt.time(0)), zone
    )
