"""Hand-off and "on call in 24 h" notices come from the final schedule, once each (BR-34 points 4 and 7)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from notifications.models import Notification
from oncall.handoffs import handoffs_plan
from oncall.models import LayerMember, Override
from tests.factories import IncidentFactory, LayerFactory, ScheduleFactory, UserFactory

BERLIN = ZoneInfo("Europe/Berlin")
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def payments():
    people = {n: UserFactory(username=n, first_name=n, last_name="") for n in ("U-A", "U-B", "U-C", "U-D")}
    schedule = ScheduleFactory(name="payments-primary", slug="payments-primary", timezone="Europe/Berlin")
    layer = LayerFactory(schedule=schedule, anchor_date=dt.date(2026, 3, 2), handoff_time=dt.time(9))
    for position, name in enumerate(("U-A", "U-B", "U-C")):
        LayerMember.objects.create(layer=layer, user=people[name], position=position, active_from=EPOCH)
    Override.objects.create(schedule=schedule, user=people["U-C"], start=dt.datetime(2026, 3, 9, 5, tzinfo=BERLIN),
                            end=dt.datetime(2026, 3, 9, 9, tzinfo=BERLIN), note="swap S1")  # fmt: skip
    return schedule, people


def notices() -> list[tuple[str, str]]:
    rows = Notification.objects.filter(channel="outbox", dedup_key__startswith="oncall-").order_by("id")
    return [(n.address, n.subject) for n in rows]


def test_the_swap_gets_its_notices_and_the_incoming_person_the_follow_ups(payments):
    schedule, _ = payments
    IncidentFactory(owning_team=schedule.team, title="Card payments failing", severity=1)
    handoffs_plan(now=dt.datetime(2026, 3, 8, 5, 5, tzinfo=BERLIN))
    assert notices() == [("user:U-C", "You go on call for payments-primary in 24 hours")]
    handoffs_plan(now=dt.datetime(2026, 3, 9, 5, 5, tzinfo=BERLIN))
    handoffs_plan(now=dt.datetime(2026, 3, 9, 5, 10, tzinfo=BERLIN))  # the next tick: nothing twice
    assert notices()[1:] == [("user:U-C", "You are on call for payments-primary now")]
    handoffs_plan(now=dt.datetime(2026, 3, 9, 9, 1, tzinfo=BERLIN))
    incoming = Notification.objects.filter(channel="outbox", address="user:U-B").order_by("id").last()
    assert incoming.subject == "You are on call for payments-primary now"
    assert "1 open incidents: INC-" in incoming.text and "Card payments failing" in incoming.text
    assert "2026-03-09 08:00 UTC" in incoming.text
    assert len(notices()) == 3  # U-A, going off at 05:00, is told nothing; nobody twice


def test_the_beat_task_plans_pages_and_notices(payments):
    import time_machine

    from oncall.tasks import escalations_plan_task

    with time_machine.travel(dt.datetime(2026, 3, 8, 5, 5, tzinfo=BERLIN), tick=False):
        escalations_plan_task.apply()
        escalations_plan_task.apply()
    assert notices() == [("user:U-C", "You go on call for payments-primary in 24 hours")]
