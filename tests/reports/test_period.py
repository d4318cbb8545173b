"""reports.period: what ?start=&end= and ?days= mean, and what is refused (naming the parameter)."""

import datetime as dt

import pytest

from reports.period import MAX_DAYS, Period, iso_week, period_from_query
from sredesk.inputs import InputError

NOW = dt.datetime(2026, 12, 5, 13, 30, tzinfo=dt.UTC)


def test_dates_are_utc_days_both_included():
    period = period_from_query({"start": "2026-11-02", "end": "2026-11-08"}, now=NOW)
    assert period == Period(dt.datetime(2026, 11, 2, tzinfo=dt.UTC), dt.datetime(2026, 11, 9, tzinfo=dt.UTC))
    assert period.previous() == Period(dt.datetime(2026, 10, 26, tzinfo=dt.UTC), period.start)
    assert period.query() == "start=2026-11-02&end=2026-11-08"


def test_days_end_now_and_the_default_is_28_days():
    assert period_from_query({"days": "7"}, now=NOW) == Period(NOW - dt.timedelta(days=7), NOW)
    assert period_from_query({}, now=NOW) == Period(NOW - dt.timedelta(days=28), NOW)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"days": "0"}, "days"),
        ({"days": str(MAX_DAYS + 1)}, "days"),
        ({"days": "٣"}, "days"),
        ({"days": "7", "start": "2026-11-02"}, "days"),
        ({"start": "2026-11-02"}, "end"),
        ({"end": "2026-11-02"}, "start"),
        ({"start": "2026-02-30", "end": "2026-03-01"}, "start"),
        ({"start": "2026-1-2", "end": "2026-03-01"}, "start"),
        ({"start": "２０２６-11-02", "end": "2026-11-03"}, "start"),
        ({"start": "2026-11-02T00:00", "end": "2026-11-03"}, "start"),
        ({"start": "2026-11-03", "end": "2026-11-02"}, "end"),
        ({"start": "2025-01-01", "end": "2026-01-02"}, "end"),
    ],
)
def test_malformed_periods_are_refused_naming_the_parameter(params, field):
    with pytest.raises(InputError) as caught:
        period_from_query(params, now=NOW)
    assert caught.value.field == field


def test_iso_week_runs_monday_to_monday_utc():
    week = iso_week(dt.date(2026, 12, 5))  # a Saturday
    assert week == Period(dt.datetime(2026, 11, 30, tzinfo=dt.UTC), dt.datetime(2026, 12, 7, tzinfo=dt.UTC))
