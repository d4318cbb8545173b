"""/metrics says how much of the next 14 days each schedule leaves nobody on call, as the gap sweep
(``oncall.schedules_sweep``, every 5 minutes) stored it: every web process reads the same figure, and a scrape
never computes a final schedule (1.2 s at 1,000 schedules, bench/oncall.py)."""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oncall.gaps import gaps_report
from oncall.models import LayerMember
from tests.factories import LayerFactory, ScheduleFactory, UserFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 2, 0, tzinfo=UTC)  # a Monday
pytestmark = pytest.mark.django_db


def samples(client, name: str) -> dict[str, float]:
    body = client.get("/metrics").content.decode()
    pattern = rf'^{name}\{{schedule="([\w-]+)"\}} (\S+)$'
    return {slug: float(value) for slug, value in re.findall(pattern, body, re.MULTILINE)}


def covered_schedule(slug: str):
    layer = LayerFactory(schedule=ScheduleFactory(slug=slug, timezone="UTC"), anchor_date=dt.date(2026, 3, 2),
                         handoff_time=dt.time(0))  # fmt: skip
    LayerMember.objects.create(layer=layer, user=UserFactory(), position=0, active_from=NOW - dt.timedelta(days=1))
    return layer.schedule


def test_gap_seconds_per_schedule_as_the_sweep_stored_them(client):
    covered_schedule("covered")
    office_hours = ScheduleFactory(slug="office-hours", timezone="UTC")
    weekdays = LayerFactory(schedule=office_hours, anchor_date=dt.date(2026, 3, 2), handoff_time=dt.time(0),
                            restrict_days="12345", restrict_start=dt.time(9), restrict_end=dt.time(18))  # fmt: skip
    LayerMember.objects.create(layer=weekdays, user=UserFactory(), position=0, active_from=NOW - dt.timedelta(days=1))
    ScheduleFactory(slug="empty")
    assert samples(client, "sredesk_oncall_gap_seconds") == {}  # no sweep yet: no figure, not a made-up 0
    with time_machine.travel(NOW, tick=False):
        gaps_report(now=NOW)
    office = 14 * 86400 - 10 * 9 * 3600  # two weeks minus ten weekdays of 09:00-18:00
    assert samples(client, "sredesk_oncall_gap_seconds") == {"covered": 0.0, "office-hours": office,
                                                             "empty": 14 * 86400.0}  # fmt: skip
    computed = samples(client, "sredesk_oncall_gap_computed_timestamp_seconds")
    assert computed == dict.fromkeys(["covered", "office-hours", "empty"], NOW.timestamp())


def test_the_figure_follows_the_next_sweep_not_the_scrape(client):
    covered_schedule("first")
    gaps_report(now=NOW)
    ScheduleFactory(slug="second")  # made after the sweep: nobody on call, but not swept yet
    assert samples(client, "sredesk_oncall_gap_seconds") == {"first": 0.0}
    later = NOW + dt.timedelta(minutes=5)
    gaps_report(now=later)
    assert samples(client, "sredesk_oncall_gap_seconds") == {"first": 0.0, "second": 14 * 86400.0}
    assert samples(client, "sredesk_oncall_gap_computed_timestamp_seconds")["second"] == later.timestamp()


def test_a_scrape_reads_the_gap_figures_in_the_same_statements_whatever_the_schedules(client):
    def scrape() -> int:
        gaps_report(now=NOW)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/metrics").status_code == 200
        return len(queries)

    covered_schedule("one")
    few = scrape()
    for n in range(6):
        covered_schedule(f"more-{n}")
    assert scrape() == few
    assert len(samples(client, "sredesk_oncall_gap_seconds")) == 7
