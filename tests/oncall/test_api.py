"""The on-call API: the final schedule's shifts, who is paged, members and overrides, strict parameters."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oncall.models import EscalationPolicy, EscalationStep, EscalationTarget, LayerMember, Override
from ownership.models import Membership, Responsibility
from tests.api.clients import client_for
from tests.factories import LayerFactory, MembershipFactory, ScheduleFactory, ServiceFactory, UserFactory

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC
NOW = dt.datetime(2026, 3, 1, 12, tzinfo=UTC)
EPOCH = dt.datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def payments(db):
    """BR-34's payments-primary: weekly [U-A, U-B, U-C] from Monday 2026-03-02 09:00 Berlin, O1 for U-D, a
    service paging it, a team member's client and an outsider's."""
    team_member = UserFactory(username="member")
    people = {name: UserFactory(username=name) for name in ("U-A", "U-B", "U-C", "U-D")}
    schedule = ScheduleFactory(name="payments-primary", slug="payments-primary", timezone="Europe/Berlin")
    MembershipFactory(team=schedule.team, user=team_member, role=Membership.Role.MEMBER)
    layer = LayerFactory(schedule=schedule, anchor_date=dt.date(2026, 3, 2), handoff_time=dt.time(9))
    for position, name in enumerate(("U-A", "U-B", "U-C")):
        LayerMember.objects.create(layer=layer, user=people[name], position=position, active_from=EPOCH)
    Override.objects.create(schedule=schedule, user=people["U-D"], start=dt.datetime(2026, 3, 11, 18, tzinfo=BERLIN),
                            end=dt.datetime(2026, 3, 12, 9, tzinfo=BERLIN))  # fmt: skip
    service = ServiceFactory(slug="payments-api", team=schedule.team)
    Responsibility.objects.create(service=service, role=Responsibility.Role.PAGED, schedule=schedule)
    return {"schedule": schedule, "layer": layer, "service": service, "people": people,
            "member": client_for(team_member), "outsider": client_for(UserFactory(username="outsider"))}  # fmt: skip


def test_shifts_are_the_final_schedule(payments):
    schedule = payments["schedule"]
    answer = payments["outsider"].get(f"/api/v1/schedules/{schedule.pk}/shifts/",
                                      {"start": "2026-03-09T08:00:00Z", "end": "2026-03-16T08:00:00.000Z"})  # fmt: skip
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [(s["person"]["username"], s["start"], s["origin"]) for s in body["shifts"]] == [
        ("U-B", "2026-03-09T08:00:00Z", "layer"),
        ("U-D", "2026-03-11T17:00:00Z", "override"),
        ("U-B", "2026-03-12T08:00:00Z", "layer"),
    ]
    assert body["gaps"] == 0 and body["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-03-09T08:00:00"}, "start"),  # no offset
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-03-09T08:00:00Z", "end": "2026-03-09T07:00:00Z"}, "end"),
        ({"start": "2026-03-09T08:00:00Z", "end": "2026-09-09T08:00:00Z"}, "end"),  # over 92 days
        ({"start": "2026-03-09T08:00:00Z", "until": "x"}, "until"),
    ],
)
def test_shift_windows_are_parsed_strictly(payments, params, field):
    answer = payments["outsider"].get(f"/api/v1/schedules/{payments['schedule'].pk}/shifts/", params)
    assert answer.status_code == 400
    assert field in answer.json()["error"]["fields"]


def test_oncall_asks_the_final_schedule_for_a_service_and_a_schedule(payments):
    client = payments["outsider"]
    row = client.get("/api/v1/oncall/", {"service": "payments-api", "at": "2026-03-11T19:00:00Z"}).json()[0]
    assert (row["service"], row["schedule"], row["source"], row["person"]["username"]) == (
        "payments-api", "payments-primary", "schedule", "U-D")  # fmt: skip
    assert row["shift"]["origin"] == "override"
    row = client.get("/api/v1/oncall/", {"schedule": "payments-primary", "at": "2026-03-11T16:00:00Z"}).json()[0]
    assert row["person"]["username"] == "U-B"
    assert (row["next"]["person"]["username"], row["next"]["start"]) == ("U-D", "2026-03-11T17:00:00Z")
    assert client.get("/api/v1/oncall/", {"service": "nope"}).status_code == 400
    assert client.get("/api/v1/oncall/", {"at": "2026-03-11 19:00"}).status_code == 400


def test_oncall_query_count_is_flat_in_the_number_of_schedules(payments):
    client = payments["outsider"]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/oncall/", {"at": "2026-03-11T19:00:00Z"}).status_code == 200
        return len(captured)

    def more(n: int) -> None:
        for _ in range(n):
            layer = LayerFactory(anchor_date=dt.date(2026, 3, 2))
            LayerMember.objects.create(layer=layer, user=UserFactory(), position=0, active_from=EPOCH)
            Override.objects.create(
                schedule=layer.schedule, user=UserFactory(), start=NOW, end=NOW + dt.timedelta(days=30)
            )
            policy = EscalationPolicy.objects.create(team=layer.schedule.team, name=f"policy {layer.pk}")
            step = EscalationStep.objects.create(policy=policy, position=0)
            EscalationTarget.objects.create(step=step, schedule=layer.schedule)
            service = ServiceFactory(team=layer.schedule.team, escalation_policy=policy)
            Responsibility.objects.create(service=service, role=Responsibility.Role.PAGED, schedule=layer.schedule)
        ServiceFactory()  # and a service with nobody paged

    more(3)
    few = queries()
    more(20)
    assert queries() == few
    rows = client.get("/api/v1/oncall/", {"at": "2026-03-11T19:00:00Z"}).json()
    assert len(rows) == 1 + 3 + 1 + 20 + 1
    assert sum(1 for row in rows if row["step"] and row["step"]["number"] == 1) == 23  # through each one's step 1


def test_oncall_says_through_which_escalation_step(payments):
    """Step 1 pages a person who is not on call; step 2 pages the schedule: U-D (override) is paged through step 2."""
    service, people = payments["service"], payments["people"]
    policy = EscalationPolicy.objects.create(team=service.team, name="payments")
    first = EscalationStep.objects.create(policy=policy, position=0, wait_minutes=5)
    EscalationTarget.objects.create(step=first, user=people["U-A"])
    EscalationTarget.objects.create(step=first, team=service.team)
    second = EscalationStep.objects.create(policy=policy, position=1, wait_minutes=10)
    EscalationTarget.objects.create(step=second, schedule=payments["schedule"])
    service.escalation_policy = policy
    service.save()
    client = payments["outsider"]
    row = client.get("/api/v1/oncall/", {"service": "payments-api", "at": "2026-03-11T19:00:00Z"}).json()[0]
    assert row["person"]["username"] == "U-D"
    assert row["step"] == {"policy": "payments", "policy_id": policy.pk, "number": 2, "wait_minutes": 10}
    # U-A's own week: step 1 names U-A, the first step that reaches them
    row = client.get("/api/v1/oncall/", {"service": "payments-api", "at": "2026-03-03T12:00:00Z"}).json()[0]
    assert (row["person"]["username"], row["step"]["number"]) == ("U-A", 1)
    row = client.get("/api/v1/oncall/", {"schedule": "payments-primary", "at": "2026-03-03T12:00:00Z"}).json()[0]
    assert row["step"] is None  # asked by schedule: no service, no policy


@time_machine.travel(NOW, tick=False)
def test_overrides_and_members_through_the_api(payments):
    schedule, layer, member = payments["schedule"], payments["layer"], payments["member"]
    window = {"schedule": "payments-primary", "user": "U-C", "start": "2026-03-09T04:00:00Z",
              "end": "2026-03-09T08:00:00Z", "kind": "take"}  # fmt: skip
    assert payments["outsider"].post("/api/v1/overrides/", window, format="json").status_code == 403
    created = member.post("/api/v1/overrides/", window, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["created_by"]["username"] == "member"
    past = member.post("/api/v1/overrides/", window | {"start": "2026-02-01T00:00:00Z"}, format="json")
    assert past.status_code == 400 and "start" in past.json()["error"]["fields"]
    naive = member.post("/api/v1/overrides/", window | {"start": "2026-03-09T04:00:00"}, format="json")
    assert naive.status_code == 400 and "start" in naive.json()["error"]["fields"]
    shifts = member.get(f"/api/v1/schedules/{schedule.pk}/shifts/",
                        {"start": "2026-03-09T00:00:00Z", "end": "2026-03-09T09:00:00Z"}).json()["shifts"]  # fmt: skip
    assert [s["person"]["username"] for s in shifts] == ["U-A", "U-C", "U-B"]
    assert member.delete(f"/api/v1/overrides/{created.json()['id']}/").status_code == 204

    added = member.post("/api/v1/layer-members/", {"layer": layer.pk, "user": "U-D"}, format="json")
    assert added.status_code == 201, added.content
    assert added.json()["active_from"] == "2026-03-02T08:00:00Z"  # the next hand-off
    ended = member.post(f"/api/v1/layer-members/{added.json()['id']}/end/", {}, format="json")
    assert ended.status_code == 204  # it had not begun: gone
    assert not LayerMember.objects.filter(user__username="U-D").exists()


def test_escalation_policies_are_listed_with_steps_and_targets_in_flat_queries(payments):
    from oncall.models import EscalationPolicy, EscalationStep, EscalationTarget

    def add(n: int) -> None:
        for _ in range(n):
            policy = EscalationPolicy.objects.create(
                team=payments["schedule"].team, name=f"P{EscalationPolicy.objects.count()}"
            )
            first = EscalationStep.objects.create(policy=policy, position=0, wait_minutes=10)
            EscalationTarget.objects.create(step=first, schedule=payments["schedule"])
            second = EscalationStep.objects.create(policy=policy, position=1, wait_minutes=5)
            EscalationTarget.objects.create(step=second, user=payments["people"]["U-A"])
            ServiceFactory(team=policy.team, escalation_policy=policy)

    def queries() -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as captured:
            body = payments["outsider"].get("/api/v1/escalation-policies/").json()
        return len(captured), body

    add(2)
    few, _ = queries()
    add(6)
    many, body = queries()
    assert many == few
    first = body["results"][0]
    assert [s["wait_minutes"] for s in first["steps"]] == [10, 5]
    assert first["steps"][0]["targets"] == [{"user": None, "schedule": "payments-primary", "team": None}]
    assert len(first["services"]) == 1
