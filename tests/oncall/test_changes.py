"""'Your shifts changed' notices (one per changed piece of a shift and person) and the outgoing person's note."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notifications.models import Notification
from oncall import services
from oncall.handoffs import handoffs_plan
from oncall.models import HandoffNote, LayerMember
from oncall.swaps import swap_ask, swap_take
from ownership.models import Membership
from sredesk.exceptions import PermissionDenied
from tests.api.clients import client_for
from tests.factories import LayerFactory, MembershipFactory, ScheduleFactory, UserFactory

BERLIN = ZoneInfo("Europe/Berlin")
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 10, 12, tzinfo=BERLIN)  # U-B's week: Mon 9 Mar 09:00 to Mon 16 Mar 09:00 Berlin
WED = (dt.datetime(2026, 3, 11, 9, tzinfo=BERLIN), dt.datetime(2026, 3, 12, 9, tzinfo=BERLIN))

pytestmark = pytest.mark.django_db


@pytest.fixture
def payments():
    people = {n: UserFactory(username=n, first_name=n, last_name="") for n in ("U-A", "U-B", "U-C", "U-D", "member")}
    schedule = ScheduleFactory(name="payments-primary", slug="payments-primary", timezone="Europe/Berlin")
    MembershipFactory(team=schedule.team, user=people["member"], role=Membership.Role.MEMBER)
    layer = LayerFactory(schedule=schedule, anchor_date=dt.date(2026, 3, 2), handoff_time=dt.time(9))
    members = {}
    for position, name in enumerate(("U-A", "U-B", "U-C")):
        members[name] = LayerMember.objects.create(layer=layer, user=people[name], position=position, active_from=EPOCH)
    return schedule, people, layer, members


def changed() -> list[tuple[str, str]]:
    rows = Notification.objects.filter(channel="outbox", dedup_key__startswith="oncall-changed:").order_by("id")
    return [(n.address, n.text.split(": ", 1)[1]) for n in rows]


@time_machine.travel(NOW, tick=False)
def test_an_override_tells_who_lost_and_who_gained_the_window_once_each(payments):
    schedule, people, _, _ = payments
    services.override_create(
        schedule_id=schedule.pk, user=people["U-D"], start=WED[0], end=WED[1], actor=people["member"]
    )
    window = "from 2026-03-11 08:00 UTC to 2026-03-12 08:00 UTC. See the schedule for who covers what."
    assert changed() == [
        ("user:U-B", f"you are no longer on call {window}"),
        ("user:U-D", f"you are now on call {window}"),
    ]
    subject = Notification.objects.filter(dedup_key__startswith="oncall-changed:").values_list("subject", flat=True)
    assert set(subject) == {"Your shifts on payments-primary changed"}


@time_machine.travel(NOW, tick=False)
def test_withdrawing_it_is_news_again_and_a_change_of_nobody_hours_tells_nobody(payments):
    schedule, people, _, _ = payments
    own = services.override_create(
        schedule_id=schedule.pk, user=people["U-B"], start=WED[0], end=WED[1], actor=people["member"]
    )
    assert changed() == []  # U-B keeps the same hours (layer -> override): nothing to say
    services.override_cancel(override_id=own.pk, actor=people["member"])
    assert changed() == []
    other = services.override_create(
        schedule_id=schedule.pk, user=people["U-D"], start=WED[0], end=WED[1], actor=people["member"]
    )
    services.override_cancel(override_id=other.pk, actor=people["member"])
    assert [address for address, _ in changed()] == ["user:U-B", "user:U-D", "user:U-B", "user:U-D"]
    assert changed()[2][1].startswith("you are now on call from 2026-03-11 08:00 UTC")


@time_machine.travel(NOW, tick=False)
def test_a_refused_write_tells_nobody(payments):
    schedule, people, _, _ = payments
    with pytest.raises(PermissionDenied):
        services.override_create(
            schedule_id=schedule.pk, user=people["U-D"], start=WED[0], end=WED[1], actor=people["U-A"]
        )
    assert changed() == []


@time_machine.travel(NOW, tick=False)
def test_a_taken_swap_tells_the_asker_and_the_taker(payments):
    schedule, people, _, _ = payments
    swap = swap_ask(schedule_id=schedule.pk, actor=people["U-B"], start=WED[0], end=WED[1])
    assert changed() == []  # asking changes nothing yet
    swap_take(swap_id=swap.pk, actor=people["U-C"])
    assert [(a, t.split(" from ")[0]) for a, t in changed()] == [
        ("user:U-B", "you are no longer on call"),
        ("user:U-C", "you are now on call"),
    ]


@time_machine.travel(NOW, tick=False)
def test_a_membership_change_tells_each_person_whose_next_two_weeks_moved(payments):
    _, people, _, members = payments
    services.member_end(
        member_id=members["U-C"].pk, actor=people["member"], at=dt.datetime(2026, 3, 16, 9, tzinfo=BERLIN)
    )
    # from Mon 16 Mar the order is [U-A, U-B]: turn 2 (U-C's week) goes to U-A, turn 3 (U-A's) to U-B
    said = changed()
    assert (
        "user:U-C",
        "you are no longer on call from 2026-03-16 08:00 UTC to 2026-03-23 08:00 UTC. "
        "See the schedule for who covers what.",
    ) in said
    assert {address for address, _ in said} == {"user:U-A", "user:U-B", "user:U-C"}
    assert len(said) == len(set(said))


def test_the_outgoing_persons_note_rides_on_the_incoming_persons_hand_off_notice(payments):
    _, people, _, _ = payments
    with time_machine.travel(NOW, tick=False):
        note = client_for(people["U-B"]).post(
            "/api/v1/handoff-notes/",
            {"schedule": "payments-primary", "text": "INC-7 is quiet but watch the retry queue"},
            format="json",
        )
        assert note.status_code == 201, note.content
        assert note.json()["handoff_at"] == "2026-03-16T08:00:00Z" and note.json()["handed_over_at"] is None
        refused = client_for(people["U-A"]).post(
            "/api/v1/handoff-notes/", {"schedule": "payments-primary", "text": "not mine to write"}, format="json"
        )
        assert refused.status_code == 400 and "not on call" in refused.json()["error"]["fields"]["schedule"][0]
    handoff = dt.datetime(2026, 3, 16, 9, 1, tzinfo=BERLIN)
    handoffs_plan(now=handoff)
    handoffs_plan(now=handoff + dt.timedelta(minutes=1))  # a second tick: still once
    incoming = Notification.objects.filter(channel="outbox", address="user:U-C", dedup_key__startswith="oncall-handoff")
    assert incoming.count() == 1
    assert "Note from U-B (going off call): INC-7 is quiet but watch the retry queue" in incoming.get().text
    assert HandoffNote.objects.get().handed_over_at == dt.datetime(2026, 3, 16, 8, tzinfo=dt.UTC)
    # the note went with that hand-off: U-B's next one carries nothing of it
    handoffs_plan(now=dt.datetime(2026, 4, 6, 9, 1, tzinfo=BERLIN))
    later = Notification.objects.filter(channel="outbox", dedup_key__startswith="oncall-handoff").order_by("id").last()
    assert "Note from" not in later.text


@time_machine.travel(dt.datetime(2026, 3, 15, 10, tzinfo=BERLIN), tick=False)
def test_the_schedule_page_offers_the_note_to_the_outgoing_person(client, payments):
    from django.urls import reverse

    schedule, people, _, _ = payments
    client.force_login(people["U-C"])  # on call from tomorrow 09:00: within a day
    page = client.get(reverse("oncall:schedule", args=[schedule.slug])).content.decode()
    assert "Note for whoever takes over" in page
    client.post(reverse("oncall:handoff_note", args=[schedule.slug]), {"text": "runbook updated"})
    assert HandoffNote.objects.get().handoff_at == dt.datetime(2026, 3, 23, 8, tzinfo=dt.UTC)
    client.force_login(people["U-A"])
    assert (
        "Note for whoever takes over"
        not in client.get(reverse("oncall:schedule", args=[schedule.slug])).content.decode()
    )
