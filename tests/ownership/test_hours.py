"""Working hours (``ownership.hours``): when a person can next be told something, in their own zone."""

import datetime as dt

import pytest

from ownership.hours import next_working_time
from ownership.models import User

UTC = dt.UTC


@pytest.mark.parametrize(
    ("zone", "at", "expected"),
    [
        # Inside hours: at once.
        ("Europe/Berlin", "2024-05-02T10:00:00+00:00", "2024-05-02T10:00:00+00:00"),
        # Friday evening in Berlin: Monday 09:00 local.
        ("Europe/Berlin", "2024-05-03T18:00:00+00:00", "2024-05-06T07:00:00+00:00"),
        # The weekend DST ends in Berlin (27 Oct 2024): Monday 09:00 CET is 08:00 UTC, not 07:00.
        ("Europe/Berlin", "2024-10-26T12:00:00+00:00", "2024-10-28T08:00:00+00:00"),
        # The weekend DST starts in New York (10 Mar 2024): Monday 09:00 EDT is 13:00 UTC.
        ("America/New_York", "2024-03-09T12:00:00+00:00", "2024-03-11T13:00:00+00:00"),
        # UTC+13 (Tonga): Friday 22:00 UTC is Saturday 11:00 there; next opening Monday 09:00 = Sunday 20:00 UTC.
        ("Pacific/Tongatapu", "2026-11-27T22:00:00+00:00", "2026-11-29T20:00:00+00:00"),
        # Sunday 21:00 UTC is Monday 10:00 in Tonga: inside hours although it is Sunday in UTC.
        ("Pacific/Tongatapu", "2026-11-29T21:00:00+00:00", "2026-11-29T21:00:00+00:00"),
    ],
)
def test_next_working_time(zone, at, expected):
    person = User(timezone=zone, work_start=dt.time(9), work_end=dt.time(17), working_days="12345")
    assert next_working_time(person, dt.datetime.fromisoformat(at)) == dt.datetime.fromisoformat(expected)


def test_round_the_clock_and_overnight_windows():
    always = User(timezone="UTC", work_start=dt.time(0), work_end=dt.time(0), working_days="1234567")
    night = User(timezone="UTC", work_start=dt.time(22), work_end=dt.time(6), working_days="12345")
    saturday_3am = dt.datetime(2024, 5, 4, 3, tzinfo=UTC)
    assert next_working_time(always, saturday_3am) == saturday_3am
    assert next_working_time(night, saturday_3am) == saturday_3am  # Friday's night shift runs into Saturday
    assert next_working_time(night, dt.datetime(2024, 5, 6, 12, tzinfo=UTC)) == dt.datetime(2024, 5, 6, 22, tzinfo=UTC)
