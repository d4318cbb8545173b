"""/metrics says how much of the next 14 days each schedule leaves nobody on call (from the final schedule)."""

import datetime as dt
import re

import pytest
import time_machine

from oncall.models import LayerMember
from tests.factories import LayerFactory, ScheduleFactory, UserFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 2, 0, tzinfo=UTC)  # a Monday


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_gap_seconds_per_schedule(client):
    covered = LayerFactory(schedule=ScheduleFactory(slug="covered", timezone="UTC"), anchor_date=dt.date(2026, 3, 2),
                           handoff_time=dt.time(0))  # fmt: skip
    LayerMember.objects.create(layer=covered, user=UserFactory(), position=0, active_from=NOW - dt.timedelta(days=1))
    office_hours = ScheduleFactory(slug="office-hours", timezone="UTC")
    weekdays = LayerFactory(schedule=office_hours, anchor_date=dt.date(2026, 3, 2), handoff_time=dt.time(0),
                            restrict_days="12345", restrict_start=dt.time(9), restrict_end=dt.time(18))  # fmt: skip
    LayerMember.objects.create(layer=weekdays, user=UserFactory(), position=0, active_from=NOW - dt.timedelta(days=1))
    ScheduleFactory(slug="empty")
    body = client.get("/metrics").content.decode()
    gaps = dict(re.findall(r'^sredesk_oncall_gap_seconds\{schedule="([\w-]+)"\} (\S+)$', body, re.MULTILINE))
    office = 14 * 86400 - 10 * 9 * 3600  # two weeks minus ten weekdays of 09:00-18:00
    assert {k: float(v) for k, v in gaps.items()} == {"covered": 0.0, "office-hours": office, "empty": 14 * 86400.0}
