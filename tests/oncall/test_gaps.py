"""Gaps of the next 14 days: told to the team's channel once per (schedule, gap start), shown on the schedule and
service pages."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from notifications.models import Notification
from oncall.gaps import gaps_report
from oncall.models import LayerMember, Override
from ownership.models import Responsibility
from tests.factories import LayerFactory, ScheduleFactory, ServiceFactory, UserFactory

BERLIN = ZoneInfo("Europe/Berlin")
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 10, 12, tzinfo=BERLIN)
# U-B is removed from Wednesday: nobody else covers it
WED = (dt.datetime(2026, 3, 11, 9, tzinfo=BERLIN), dt.datetime(2026, 3, 12, 9, tzinfo=BERLIN))

pytestmark = pytest.mark.django_db


@pytest.fixture
def payments():
    people = {n: UserFactory(username=n, first_name=n, last_name="") for n in ("U-A", "U-B", "U-C")}
    schedule = ScheduleFactory(name="payments-primary", slug="payments-primary", timezone="Europe/Berlin")
    schedule.team.slug = "payments"
    schedule.team.save()
    layer = LayerFactory(schedule=schedule, anchor_date=dt.date(2026, 3, 2), handoff_time=dt.time(9))
    for position, name in enumerate(("U-A", "U-B", "U-C")):
        LayerMember.objects.create(layer=layer, user=people[name], position=position, active_from=EPOCH)
    Override.objects.create(schedule=schedule, kind="remove", user=people["U-B"], start=WED[0], end=WED[1])
    return schedule, people


def told() -> list[tuple[str, str]]:
    rows = Notification.objects.filter(channel="outbox", dedup_key__startswith="oncall-gap:").order_by("id")
    return [(n.address, n.text) for n in rows]


def test_a_gap_is_told_to_the_team_once(payments):
    schedule, people = payments
    gaps_report(now=NOW)
    gaps_report(now=NOW + dt.timedelta(minutes=5))  # every later tick finds it told
    gaps_report(now=WED[0] + dt.timedelta(hours=2))  # and while it is under way
    assert told() == [
        (
            "team:payments",
            "Nobody on call for payments-primary from 2026-03-11 08:00 UTC until "
            "2026-03-12 08:00 UTC: a gap in the schedule. Pages to it go to the team's channel meanwhile. "
            "Add an override (or ask for a swap) to cover it.",
        )
    ]
    # half of it covered: the gap that is left starts later, a gap of its own, told once more
    Override.objects.create(schedule=schedule, user=people["U-C"], start=WED[0], end=WED[0] + dt.timedelta(hours=6))
    gaps_report(now=NOW + dt.timedelta(minutes=10))
    gaps_report(now=NOW + dt.timedelta(minutes=15))
    assert len(told()) == 2 and "from 2026-03-11 14:00 UTC until 2026-03-12 08:00 UTC" in told()[1][1]


def test_the_beat_task_reports_gaps_and_expires_swaps(payments):
    from oncall.swaps import swap_ask
    from oncall.tasks import schedules_sweep_task

    schedule, people = payments
    with time_machine.travel(NOW, tick=False):
        swap = swap_ask(schedule_id=schedule.pk, actor=people["U-B"], start=WED[1], end=WED[1] + dt.timedelta(hours=1))
    with time_machine.travel(WED[1] + dt.timedelta(minutes=1), tick=False):
        schedules_sweep_task.apply()
    swap.refresh_from_db()
    assert swap.state == "expired"
    assert told() == []  # the Wednesday gap is over by then


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@time_machine.travel(NOW, tick=False)
def test_the_schedule_and_service_pages_show_the_gap(client, payments):
    schedule, _ = payments
    service = ServiceFactory(slug="payments-api", team=schedule.team)
    Responsibility.objects.create(service=service, role=Responsibility.Role.PAGED, schedule=schedule)
    client.force_login(UserFactory(timezone="Europe/Berlin"))
    page = text(client.get(reverse("oncall:schedule", args=[schedule.slug])))
    assert "1 in the next 2 weeks : 2026-03-11 09:00 CET – 2026-03-12 09:00 CET" in page, page
    page = text(client.get(reverse("ownership:service", args=[service.slug])))
    assert "On-call gaps 1 in the next 14 days : 2026-03-11 09:00 CET – 2026-03-12 09:00 CET" in page, page


def test_the_sweep_is_on_the_beat_schedule():
    from django.conf import settings

    from sredesk.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["oncall-schedules-sweep"]
    assert entry["schedule"].run_every == dt.timedelta(minutes=5)
    assert app.tasks[entry["task"]].name == "oncall.schedules_sweep"
