"""Working hours: when a person can be reminded, in their own time zone.

Hours are wall-clock times on ISO weekdays (``User.working_days``, Monday=1)
in ``User.timezone``, expanded day by day in that zone and only then converted
to UTC, so a DST change neither skips nor doubles an opening (the kind of bug
FIELD-CASES BR-21 describes for rotations). ``work_start == work_end`` means
around the clock on working days; an end before the start is a window that
runs past midnight.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from .models import User


def _zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _local(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    # Normalise through UTC so a wall time inside a spring-forward gap lands just after it.
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


def next_working_time(user: User, at: dt.datetime) -> dt.datetime:
    """The first instant at or after ``at`` inside ``user``'s working hours, as aware UTC.

    ``at`` itself when it is inside them. A person with no working days is
    treated as always reachable (nobody is silently never reminded).
    """
    days = {int(d) for d in (user.working_days or "") if d.isdigit()}
    if not days:
        return at.astimezone(dt.UTC)
    zone = _zone(user)
    local = at.astimezone(zone)
    start, end = user.work_start, user.work_end
    for offset in range(-1, 9):  # yesterday's overnight window may still be open
        day = local.date() + dt.timedelta(days=offset)
        if day.isoweekday() not in days:
            continue
        opens = _local(day, start, zone)
        closes = _local(day + dt.timedelta(days=1) if end <= start else day, end, zone)
        if closes <= local:
            continue
        return max(opens, local).astimezone(dt.UTC)
    return at.astimezone(dt.UTC)  # unreachable with at least one working day; kept as a safe default


def calendar_month(at: dt.datetime, zone: str | ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The calendar month in ``zone`` containing the instant ``at``: (its first instant, the next month's), aware UTC.

    Both bounds are local midnights expanded in the zone, so the month's length
    follows its DST changes (March 2026 in Europe/Berlin lasts 743 hours,
    October 745). A midnight that a DST change skips lands on the first instant
    after the gap.
    """
    zone = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    local = at.astimezone(zone)
    first = local.date().replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return _local(first, dt.time(0), zone).astimezone(dt.UTC), _local(following, dt.time(0), zone).astimezone(dt.UTC)
