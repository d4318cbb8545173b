"""Wall-clock rules at DST gaps and folds (issue 13 item 3, the kind of BR-21), against an independent oracle.

The oracle shares no code with ``ownership.hours``: it walks UTC minute by
minute (plain UTC arithmetic), reads each minute's wall clock with zoneinfo's
UTC-to-local conversion (which is never ambiguous), and applies the working-
hours rule to that reading in whole minutes of the day. Every minute of each
DST change day is asked, in zones of both hemispheres, with a 30-minute DST
(Lord Howe), half-hour offsets (Adelaide, Kathmandu's 45), zones that changed
their standard offset (Moscow 2011 and 2014, Apia skipping 30 December 2011)
and changes at midnight (Santiago, Asuncion); hypothesis tries other hours
and other instants around the same changes.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ownership.hours import calendar_month, in_working_hours, next_working_time
from ownership.models import User

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)

# (zone, a local date on which its UTC offset changes, what happens)
CHANGE_DAYS = [
    ("Europe/Berlin", "2026-03-29", "02:00 -> 03:00"),
    ("Europe/Berlin", "2026-10-25", "03:00 -> 02:00"),
    ("America/New_York", "2026-03-08", "02:00 -> 03:00"),
    ("America/New_York", "2026-11-01", "02:00 -> 01:00"),
    ("Australia/Sydney", "2026-04-05", "03:00 -> 02:00, southern autumn"),
    ("Australia/Sydney", "2026-10-04", "02:00 -> 03:00, southern spring"),
    ("Australia/Lord_Howe", "2026-04-05", "02:00 -> 01:30, a 30-minute DST"),
    ("Australia/Lord_Howe", "2026-10-04", "02:00 -> 02:30"),
    ("Australia/Adelaide", "2026-04-05", "03:00 -> 02:00 at +10:30"),
    ("Australia/Adelaide", "2026-10-04", "02:00 -> 03:00 at +09:30"),
    ("Europe/Moscow", "2011-03-27", "02:00 -> 03:00, then +04 all year"),
    ("Europe/Moscow", "2014-10-26", "02:00 -> 01:00, back to +03 for good"),
    ("Pacific/Apia", "2011-12-29", "23:59:59 -10:00 -> 31 December 00:00 +14:00"),
    ("Pacific/Apia", "2011-12-31", "the day after the skipped Friday"),
    ("Pacific/Apia", "2011-04-02", "04:00 -> 03:00"),
    ("America/Santiago", "2026-04-04", "24:00 -> 23:00 the same day"),
    ("America/Santiago", "2026-09-06", "00:00 -> 01:00, midnight skipped"),
    ("America/Asuncion", "2017-10-01", "00:00 -> 01:00 on the 1st of a month"),
    ("Asia/Kathmandu", "2026-03-29", "no change: +05:45 all year"),
]

# (work_start, work_end, working days): plain office hours, a start inside most changes' gap or fold,
# an overnight window ending inside them, a short window inside Lord Howe's, around the clock on weekends.
HOURS = [
    ("09:00", "17:00", "12345"),
    ("02:30", "09:00", "1234567"),
    ("22:00", "02:30", "12345"),
    ("01:45", "02:15", "1234567"),
    ("00:00", "00:00", "67"),
]


def clock(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def person(zone: str, start: str, end: str, days: str) -> User:
    return User(timezone=zone, work_start=clock(start), work_end=clock(end), working_days=days)


def oracle_inside(reading: dt.datetime, start: int, end: int, days: str) -> bool:
    """The rule read off one wall-clock reading; ``start``/``end`` in minutes of the day."""
    minute = reading.hour * 60 + reading.minute
    weekday = str(reading.isoweekday())
    day_before = str((reading.isoweekday() + 5) % 7 + 1)
    if start == end:
        return weekday in days
    if start < end:
        return weekday in days and start <= minute < end
    return (weekday in days and minute >= start) or (day_before in days and minute < end)


def minutes(text: str) -> int:
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


def oracle_next(zone: ZoneInfo, at: dt.datetime, start: str, end: str, days: str) -> dt.datetime:
    """Brute force: ``at`` if inside, else the first whole UTC minute after it that is inside."""
    first, last, days = minutes(start), minutes(end), days
    if oracle_inside(at.astimezone(zone), first, last, days):
        return at
    step = at.replace(second=0, microsecond=0) + MINUTE
    for _ in range(12 * 24 * 60):
        if oracle_inside(step.astimezone(zone), first, last, days):
            return step
        step += MINUTE
    raise AssertionError("no working minute within 12 days")


def utc_minutes_of_local_day(zone: ZoneInfo, day: dt.date) -> list[dt.datetime]:
    """Every whole UTC minute whose wall-clock reading in ``zone`` falls on ``day`` (found by walking UTC)."""
    step = dt.datetime.combine(day, dt.time(0), tzinfo=UTC) - dt.timedelta(hours=15)
    found = []
    for _ in range(54 * 60):
        if step.astimezone(zone).date() == day:
            found.append(step)
        step += MINUTE
    return found


@pytest.mark.parametrize(("zone_name", "day", "what"), CHANGE_DAYS, ids=[f"{z}-{d}" for z, d, _ in CHANGE_DAYS])
def test_every_minute_of_a_change_day_agrees_with_the_oracle(zone_name, day, what):
    zone = ZoneInfo(zone_name)
    asked = utc_minutes_of_local_day(zone, dt.date.fromisoformat(day))
    # The walk itself: the day has 24 h of minutes unless the zone changed its offset that day.
    assert asked
    horizon = [asked[0] + MINUTE * i for i in range(len(asked) + 11 * 24 * 60)]
    for start, end, days in HOURS:
        who = person(zone_name, start, end, days)
        first, last = minutes(start), minutes(end)
        inside = [oracle_inside(m.astimezone(zone), first, last, days) for m in horizon]
        following: list[dt.datetime | None] = [None] * len(horizon)  # the first inside minute at or after each
        for i in range(len(horizon) - 1, -1, -1):
            following[i] = horizon[i] if inside[i] else (following[i + 1] if i + 1 < len(horizon) else None)
        wrong = []
        for i, at in enumerate(asked):
            got = next_working_time(who, at)
            if got != following[i] or in_working_hours(who, at) != inside[i]:
                wrong.append((at.isoformat(), got.isoformat(), following[i].isoformat()))
        assert not wrong, f"{zone_name} {day} ({what}), hours {start}-{end} days {days}: {wrong[:5]} of {len(wrong)}"


ZONES = sorted({zone for zone, _, _ in CHANGE_DAYS})
HOURS_OF_DAY = st.integers(0, 23 * 60 + 59).map(lambda m: f"{m // 60:02d}:{m % 60:02d}")
AROUND_CHANGES = st.sampled_from(CHANGE_DAYS).flatmap(
    lambda case: st.tuples(
        st.just(case[0]),
        st.integers(-2 * 86400, 3 * 86400).map(
            lambda s, day=case[1]: dt.datetime.fromisoformat(day).replace(tzinfo=UTC) + dt.timedelta(seconds=s)
        ),
    )
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    around=AROUND_CHANGES,
    start=st.one_of(st.sampled_from(["00:00", "01:30", "01:45", "02:00", "02:30", "03:00", "23:30"]), HOURS_OF_DAY),
    end=st.one_of(st.sampled_from(["00:00", "01:30", "02:00", "02:30", "03:00", "09:00"]), HOURS_OF_DAY),
    days=st.sets(st.sampled_from("1234567"), min_size=1).map(lambda s: "".join(sorted(s))),
    seconds=st.integers(0, 59),
)
def test_any_hours_at_any_instant_near_a_change_agree_with_the_oracle(around, start, end, days, seconds):
    zone_name, at = around
    at = at.replace(second=seconds)
    got = next_working_time(person(zone_name, start, end, days), at)
    assert got == oracle_next(ZoneInfo(zone_name), at, start, end, days)
    assert got >= at


def test_the_two_known_failures_are_gone():
    # A local opening the spring-forward skips (02:30 in Berlin on 29 March 2026) opens when the clock
    # jumps, 03:00 CEST = 01:00 UTC, not an hour later at "03:30".
    early = person("Europe/Berlin", "02:30", "09:00", "1234567")
    assert next_working_time(early, dt.datetime(2026, 3, 29, 0, 10, tzinfo=UTC)) == dt.datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )
    # In the repeated hour (25 October 2026) 02:10 CET (01:10 UTC) comes after 02:30 CEST (00:30 UTC):
    # the answer is 02:30 CET, 01:30 UTC, never the earlier 00:30 UTC.
    asked = dt.datetime(2026, 10, 25, 1, 10, tzinfo=UTC)
    assert next_working_time(early, asked) == dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_a_day_the_zone_skipped_has_no_hours():
    # Friday 30 December 2011 did not happen in Samoa: a Friday-only worker waits for 6 January 2012.
    friday = person("Pacific/Apia", "09:00", "17:00", "5")
    got = next_working_time(friday, dt.datetime(2011, 12, 29, 12, tzinfo=UTC))  # Thursday 02:00 local
    assert got.astimezone(ZoneInfo("Pacific/Apia")).replace(tzinfo=None) == dt.datetime(2012, 1, 6, 9, 0)


MONTHS = [
    (zone, year, month)
    for zone, year in [
        *((z, 2026) for z in ZONES),
        ("Europe/Moscow", 2011),
        ("Europe/Moscow", 2014),
        ("Pacific/Apia", 2011),
        ("America/Asuncion", 2017),
    ]
    for month in range(1, 13)
]


@pytest.mark.parametrize("zone_name", sorted({zone for zone, _, _ in MONTHS}))
def test_calendar_months_begin_where_the_clock_turns_to_the_first(zone_name):
    zone = ZoneInfo(zone_name)
    for _, year, month in (m for m in MONTHS if m[0] == zone_name):
        middle = dt.datetime(year, month, 15, 12, tzinfo=UTC)
        start, end = calendar_month(middle, zone)
        # The minute before the start reads the previous month, the start reads this one; the same at the end.
        assert (start - MINUTE).astimezone(zone).month != month, (zone_name, year, month)
        assert start.astimezone(zone).month == month and start.astimezone(zone).day == 1
        assert (end - MINUTE).astimezone(zone).month == month
        assert end.astimezone(zone).month == month % 12 + 1 and end.astimezone(zone).day == 1


@pytest.mark.parametrize(("zone_name", "day", "what"), CHANGE_DAYS, ids=[f"{z}-{d}" for z, d, _ in CHANGE_DAYS])
def test_every_minute_of_a_change_day_lies_in_its_calendar_month(zone_name, day, what):
    zone = ZoneInfo(zone_name)
    for at in utc_minutes_of_local_day(zone, dt.date.fromisoformat(day)):
        start, end = calendar_month(at, zone)
        assert start <= at < end
        assert start.astimezone(zone).month == at.astimezone(zone).month


def test_a_month_whose_first_midnight_is_skipped_begins_at_the_change():
    # Asuncion sprang from 00:00 to 01:00 on 1 October 2017: October began at 01:00 local, 04:00 UTC.
    start, end = calendar_month(dt.datetime(2017, 10, 10, tzinfo=UTC), "America/Asuncion")
    assert start == dt.datetime(2017, 10, 1, 4, tzinfo=UTC)
    assert end == dt.datetime(2017, 11, 1, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("asked", "held_until"),
    [
        # 01:10 CET on the spring-forward day: hours from 02:30, which is skipped, open at the jump (01:00 UTC).
        ("2026-03-29T00:10:00+00:00", "2026-03-29T01:00:00+00:00"),
        # 02:10 CET in the repeated hour, after 02:30 CEST had passed: held until 02:30 CET, never before asked.
        ("2026-10-25T01:10:00+00:00", "2026-10-25T01:30:00+00:00"),
    ],
)
def test_a_reminder_planned_at_a_change_is_held_until_the_same_opening(db, asked, held_until):
    """The reminder door: a delivery's hold is the working-hours rule's answer, at a gap and in a fold."""
    from postmortems.models import ReminderDelivery
    from postmortems.reminders import reminders_plan_due
    from tests.factories import PostMortemFactory, UserFactory

    owner = UserFactory(timezone="Europe/Berlin", work_start=clock("02:30"), work_end=clock("09:00"))
    now = dt.datetime.fromisoformat(asked)
    PostMortemFactory(published=True, published_at=now - dt.timedelta(minutes=1), owner=owner)
    assert reminders_plan_due(now=now) == 1
    holds = set(ReminderDelivery.objects.filter(recipient_user=owner).values_list("not_before", flat=True))
    assert holds == {dt.datetime.fromisoformat(held_until)}
