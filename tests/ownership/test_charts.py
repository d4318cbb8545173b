"""The service dashboard's charts (``ownership.charts``): axis ticks, weekly medians and counts in the viewer's week."""

import datetime as dt

import pytest

from ownership.charts import incidents_per_week, nice_ticks, response_trends, weekly_medians
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_nice_ticks():
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(3) == [0, 1, 2, 3]
    assert nice_ticks(12) == [0, 5, 10, 15]
    assert nice_ticks(0.3) == [0, 0.1, 0.2, 0.3]


def test_weekly_medians_ignore_missing_end_points_and_bucket_in_the_viewers_week():
    now = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)  # a Wednesday
    this_week = now - dt.timedelta(days=1)
    acked = [
        IncidentFactory.build(
            started_at=this_week, detected_at=this_week, acknowledged_at=this_week + dt.timedelta(minutes=m)
        )
        for m in (2, 4, 30)
    ]
    unacked = IncidentFactory.build(started_at=this_week, detected_at=this_week)
    resolved = IncidentFactory.build(
        started_at=this_week - dt.timedelta(hours=3), detected_at=this_week, resolved_at=this_week
    )
    mondays, mtta, mttr = weekly_medians([*acked, unacked, resolved], now=now, weeks=4)

    assert mondays[-1] == dt.date(2024, 5, 13) and len(mondays) == 4
    assert mtta == [None, None, None, 240.0]  # the median of 2, 4 and 30 minutes; the unacknowledged one is left out
    assert mttr == [None, None, None, 10_800.0]
    charts = response_trends([*acked, resolved], now=now, weeks=4)
    assert [c.title for c in charts] == ["MTTA", "MTTR"] and all("<script" not in c.svg for c in charts)


def test_incidents_per_week_counts_by_severity_in_the_viewers_zone(settings):
    from django.utils import timezone as tz

    now = dt.datetime(2024, 5, 13, 12, 0, tzinfo=dt.UTC)  # Monday
    sunday_night_utc = dt.datetime(2024, 5, 12, 23, 30, tzinfo=dt.UTC)  # already Monday in Berlin
    incident = IncidentFactory.build(severity=1, started_at=sunday_night_utc, detected_at=sunday_night_utc)
    with tz.override("Europe/Berlin"):
        berlin = incidents_per_week([incident], now=now, weeks=2)
    with tz.override("UTC"):
        utc = incidents_per_week([incident], now=now, weeks=2)
    assert berlin.rows[-1][1:] == (1, 0, 0, 0, 1)
    assert utc.rows[-2][1:] == (1, 0, 0, 0, 1) and utc.rows[-1][1:] == (0, 0, 0, 0, 0)
