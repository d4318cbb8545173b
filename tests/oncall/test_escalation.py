"""Escalation policies page step by step while an incident stays unacknowledged, each page once."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from incidents.models import Incident, TimelineEvent
from incidents.services import incident_acknowledge
from notifications.models import Notification
from oncall.escalation import escalations_plan
from oncall.models import EscalationPolicy, EscalationStep, EscalationTarget, LayerMember, Override, Page
from ownership.models import Membership
from tests.factories import (
    IncidentFactory,
    LayerFactory,
    MembershipFactory,
    ScheduleFactory,
    ServiceFactory,
    UserFactory,
)

BERLIN = ZoneInfo("Europe/Berlin")
T = dt.datetime(2026, 3, 11, 19, tzinfo=BERLIN)  # U-D is on call of payments-primary (an override)
MIN = dt.timedelta(minutes=1)


def world():
    """payments-primary (weekly U-A, U-B, U-C; U-D's override covers T) and a policy: its on-call, wait 10;
    the lead, wait 5; the team's channel, wait 5; repeated once. An incident on its service detected at T."""
    people = {n: UserFactory(username=n, first_name=n, last_name="") for n in ("U-A", "U-B", "U-C", "U-D", "lead")}
    schedule = ScheduleFactory(name="payments-primary", slug="payments-primary", timezone="Europe/Berlin")
    MembershipFactory(team=schedule.team, user=people["lead"], role=Membership.Role.LEAD)
    layer = LayerFactory(schedule=schedule, anchor_date=dt.date(2026, 3, 2), handoff_time=dt.time(9))
    for position, name in enumerate(("U-A", "U-B", "U-C")):
        LayerMember.objects.create(
            layer=layer, user=people[name], position=position, active_from=T - 30 * 24 * 60 * MIN
        )
    Override.objects.create(schedule=schedule, user=people["U-D"], start=dt.datetime(2026, 3, 11, 18, tzinfo=BERLIN),
                            end=dt.datetime(2026, 3, 12, 9, tzinfo=BERLIN))  # fmt: skip
    policy = EscalationPolicy.objects.create(team=schedule.team, name="Payments", repeat=1)
    for position, (wait, target) in enumerate(
        [(10, {"schedule": schedule}), (5, {"user": people["lead"]}), (5, {"team": schedule.team})]
    ):
        step = EscalationStep.objects.create(policy=policy, position=position, wait_minutes=wait)
        EscalationTarget.objects.create(step=step, **target)
    service = ServiceFactory(team=schedule.team, escalation_policy=policy)
    incident = IncidentFactory(primary_service=service, owning_team=schedule.team, started_at=T - 5 * MIN,
                               detected_at=T, title="Checkout down")  # fmt: skip
    return incident, people, schedule


def paged(incident) -> list[tuple[int, int, str, str | None]]:
    pages = Page.objects.filter(incident=incident).select_related("person").order_by("due_at", "step", "id")
    return [(p.step, p.repeat, p.target.split(":")[0], p.person.username if p.person else None) for p in pages]


@pytest.mark.django_db
def test_steps_page_in_turn_until_acknowledged():
    incident, people, _ = world()
    assert escalations_plan(now=T) == 1
    assert escalations_plan(now=T) == 0  # a second beat tick, the same minute
    assert paged(incident) == [(0, 0, "schedule", "U-D")]  # the final schedule's person: the override
    note = Notification.objects.get(dedup_key__startswith="page:", channel="outbox")
    assert note.address == "user:U-D" and "Checkout down" in note.subject
    assert TimelineEvent.objects.filter(
        incident=incident, kind="notification", message="Paged U-D (on call of payments-primary): step 1 of Payments."
    ).exists()

    assert escalations_plan(now=T + 9 * MIN) == 0
    assert escalations_plan(now=T + 10 * MIN) == 1
    assert paged(incident)[-1] == (1, 0, "user", "lead")
    incident_acknowledge(incident_id=incident.pk, actor=people["lead"], source="api", at=T + 12 * MIN)
    assert escalations_plan(now=T + 60 * MIN) == 0  # acknowledged: the team channel is never paged
    assert len(paged(incident)) == 2


@pytest.mark.django_db
def test_nobody_acknowledges_every_step_and_pass_pages_once():
    incident, _, schedule = world()
    assert escalations_plan(now=T + 19 * MIN) == 3  # steps 1, 2 and 3 (due at +0, +10, +15 minutes)
    assert escalations_plan(now=T + 20 * MIN) == 1  # pass 2's step 1
    assert escalations_plan(now=T + 24 * 60 * MIN) == 2  # pass 2's steps 2 and 3; then the policy is done
    assert paged(incident) == [
        (0, 0, "schedule", "U-D"), (1, 0, "user", "lead"), (2, 0, "team", None),
        (0, 1, "schedule", "U-D"), (1, 1, "user", "lead"), (2, 1, "team", None),
    ]  # fmt: skip
    channel = Notification.objects.filter(dedup_key__startswith="page:", address=f"team:{schedule.team.slug}")
    assert channel.count() == 2


@pytest.mark.django_db
def test_a_gap_in_the_schedule_pages_the_teams_channel_and_says_so():
    incident, _, schedule = world()
    Override.objects.filter(kind="take").delete()  # U-B's week again, but U-B is off for the hour: a gap
    off = LayerMember.objects.get(user__username="U-B").user
    Override.objects.create(schedule=schedule, kind="remove", user=off, start=T - 30 * MIN, end=T + 30 * MIN)
    assert escalations_plan(now=T) == 1
    assert paged(incident) == [(0, 0, "schedule", None)]
    event = TimelineEvent.objects.get(incident=incident, kind="notification")
    assert "a gap" in event.message
    assert Notification.objects.filter(dedup_key__startswith="page:", address=f"team:{schedule.team.slug}").exists()


@pytest.mark.django_db(transaction=True)
def test_two_planners_at_once_page_once(requires_postgres):
    incident, _, _ = world()
    barrier, results, errors = threading.Barrier(2), [], []

    def plan():
        try:
            barrier.wait()
            results.append(escalations_plan(now=T + 10 * MIN))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=plan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(results)[-1] >= 1 and sum(results) == 2
    assert len(paged(incident)) == 2
    assert Notification.objects.filter(dedup_key__startswith="page:", channel="outbox").count() == 2
    assert Incident.objects.get(pk=incident.pk).status == "triggered"


@pytest.mark.django_db
def test_a_page_reaches_the_person_on_call_by_slack_dm(slack_on, memory_notifier, django_capture_on_commit_callbacks):
    incident, people, _ = world()
    people["U-D"].slack_user_id = "U0ONCALLD"
    people["U-D"].save(update_fields=["slack_user_id"])
    with django_capture_on_commit_callbacks(execute=True):
        escalations_plan(now=T)
    assert [(m.address, m.subject) for m in memory_notifier] == [
        ("U0ONCALLD", f"Page: {incident.public_id} (SEV2) Checkout down")
    ]
    assert "step 1 of Payments pages U-D (on call of payments-primary)" in memory_notifier[0].text
    with django_capture_on_commit_callbacks(execute=True):
        escalations_plan(now=T + MIN)  # the next tick: nothing new
    assert len(memory_notifier) == 1
