"""/metrics' on-call gap gauge is computed at most once per SREDESK_METRICS_ONCALL_GAPS_SECONDS (bench/oncall.py:
every schedule's final schedule over 14 days, 1.2 s a scrape at 1,000 schedules), then follows the schedules."""

import datetime as dt
import re

import pytest
import time_machine

from tests.factories import ScheduleFactory

NOW = dt.datetime(2026, 3, 2, 0, tzinfo=dt.UTC)


def gauged(client) -> set[str]:
    body = client.get("/metrics").content.decode()
    return set(re.findall(r'^sredesk_oncall_gap_seconds\{schedule="([\w-]+)"\}', body, re.MULTILINE))


@pytest.mark.django_db
def test_the_gap_gauge_is_reused_for_its_period_then_computed_again(client, settings):
    settings.SREDESK_METRICS_ONCALL_GAPS_SECONDS = 60
    ScheduleFactory(slug="first")
    with time_machine.travel(NOW, tick=False):
        assert gauged(client) == {"first"}
    ScheduleFactory(slug="second")
    with time_machine.travel(NOW + dt.timedelta(seconds=30), tick=False):
        assert gauged(client) == {"first"}  # within the minute: the figure computed at NOW
    with time_machine.travel(NOW + dt.timedelta(seconds=61), tick=False):
        assert gauged(client) == {"first", "second"}


@pytest.mark.django_db
def test_zero_computes_the_gauge_on_every_scrape(client, settings):
    settings.SREDESK_METRICS_ONCALL_GAPS_SECONDS = 0
    ScheduleFactory(slug="first")
    assert gauged(client) == {"first"}
    ScheduleFactory(slug="second")
    assert gauged(client) == {"first", "second"}
