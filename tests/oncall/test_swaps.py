"""Swaps: asked by one person for their own time, taken by another (one winner), then an override of origin "swap"."""

import datetime as dt
import html
import re
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from oncall.models import LayerMember, Override, Swap
from oncall.selectors import schedule_final
from oncall.swaps import swap_ask, swap_take, swaps_expire
from ownership.models import Membership
from sredesk.exceptions import StateConflict
from tests.api.clients import client_for
from tests.factories import LayerFactory, MembershipFactory, ScheduleFactory, UserFactory

BERLIN = ZoneInfo("Europe/Berlin")
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 10, 12, tzinfo=BERLIN)  # U-B's week (Mon 9 Mar 09:00 to Mon 16 Mar 09:00 Berlin)
WED = (dt.datetime(2026, 3, 11, 9, tzinfo=BERLIN), dt.datetime(2026, 3, 12, 9, tzinfo=BERLIN))


def world():
    people = {n: UserFactory(username=n, first_name=n, last_name="") for n in ("U-A", "U-B", "U-C", "member", "out")}
    schedule = ScheduleFactory(name="payments-primary", slug="payments-primary", timezone="Europe/Berlin")
    MembershipFactory(team=schedule.team, user=people["member"], role=Membership.Role.MEMBER)
    layer = LayerFactory(schedule=schedule, anchor_date=dt.date(2026, 3, 2), handoff_time=dt.time(9))
    for position, name in enumerate(("U-A", "U-B", "U-C")):
        LayerMember.objects.create(layer=layer, user=people[name], position=position, active_from=EPOCH)
    return schedule, people


@pytest.fixture
def payments(db):
    return world()


def who(schedule, start, end):
    final = schedule_final(schedule, start=start, end=end)
    return [(s.user_id, s.origin, s.start) for s in final.shifts]


@time_machine.travel(NOW, tick=False)
def test_asked_then_taken_through_the_api_becomes_a_swap_in_the_final_schedule(payments):
    schedule, people = payments
    asked = client_for(people["U-B"]).post(
        "/api/v1/swaps/",
        {"schedule": "payments-primary", "note": "dentist", "start": WED[0].isoformat(), "end": WED[1].isoformat()},
        format="json",
    )
    assert asked.status_code == 201, asked.content
    assert asked.json()["state"] == "asked" and asked.json()["asked_by"]["username"] == "U-B"
    swap_id = asked.json()["id"]
    from notifications.models import Notification

    told = Notification.objects.filter(channel="outbox", dedup_key__startswith="oncall-swap-asked:")
    assert [(n.address, n.subject) for n in told] == [
        (f"team:{schedule.team.slug}", "U-B asks someone to take their time on call for payments-primary")
    ]
    assert "2026-03-11 08:00 UTC to 2026-03-12 08:00 UTC (dentist)" in told.get().text
    listed = client_for(people["out"]).get("/api/v1/swaps/", {"schedule": "payments-primary", "state": "asked"})
    assert [s["id"] for s in listed.json()["results"]] == [swap_id]

    taken = client_for(people["U-C"]).post(f"/api/v1/swaps/{swap_id}/take/")  # U-C is in the rotation
    assert taken.status_code == 200, taken.content
    assert taken.json()["state"] == "taken" and taken.json()["taken_by"]["username"] == "U-C"
    shifts = client_for(people["out"]).get(
        f"/api/v1/schedules/{schedule.pk}/shifts/", {"start": "2026-03-11T00:00:00Z", "end": "2026-03-13T00:00:00Z"}
    )
    assert [(s["person"]["username"], s["origin"], s["start"]) for s in shifts.json()["shifts"]] == [
        ("U-B", "layer", "2026-03-11T00:00:00Z"),
        ("U-C", "swap", "2026-03-11T08:00:00Z"),
        ("U-B", "layer", "2026-03-12T08:00:00Z"),
    ]
    assert shifts.json()["shifts"][1]["override"] == taken.json()["override"]


@time_machine.travel(NOW, tick=False)
def test_who_may_ask_and_take(payments):
    _, people = payments
    start, end = (t.isoformat() for t in WED)
    body = {"schedule": "payments-primary", "start": start, "end": end}
    # U-C is not on call then: nobody swaps another person's time (or time that is not theirs)
    refused = client_for(people["U-C"]).post("/api/v1/swaps/", body, format="json")
    assert refused.status_code == 400 and "not on call" in refused.json()["error"]["fields"]["start"][0]
    # an outsider asking in U-B's name is refused; the team may ask for U-B
    assert (
        client_for(people["out"]).post("/api/v1/swaps/", {**body, "asked_by": "U-B"}, format="json").status_code == 403
    )
    asked = client_for(people["member"]).post("/api/v1/swaps/", {**body, "asked_by": "U-B"}, format="json")
    assert asked.status_code == 201, asked.content
    swap_id = asked.json()["id"]
    for name in ("U-B", "out"):  # the asker takes nothing from themselves; outsiders take nothing
        assert client_for(people[name]).post(f"/api/v1/swaps/{swap_id}/take/").status_code == 403
    past = {**body, "start": "2026-03-10T08:00:00Z", "end": "2026-03-10T20:00:00Z"}
    assert client_for(people["U-B"]).post("/api/v1/swaps/", past, format="json").status_code == 400
    assert Override.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_the_second_taker_is_told_who_took_it(payments):
    schedule, people = payments
    swap = swap_ask(schedule_id=schedule.pk, actor=people["U-B"], start=WED[0], end=WED[1])
    assert client_for(people["member"]).post(f"/api/v1/swaps/{swap.pk}/take/").status_code == 200
    late = client_for(people["U-A"]).post(f"/api/v1/swaps/{swap.pk}/take/")
    assert late.status_code == 409
    assert (
        late.json()["error"]["code"] == "swap_taken"
        and "member took this swap first" in late.json()["error"]["message"]
    )
    assert Override.objects.filter(user=people["U-A"]).count() == 0


@time_machine.travel(NOW, tick=False)
def test_a_swap_whose_window_is_no_longer_the_askers_cannot_be_taken(payments, client):
    """U-B asked for Wednesday; then U-A took Wednesday afternoon by an override. A taker would have been given
    time U-B no longer had: the take is refused with why, and nothing changes in the final schedule."""
    schedule, people = payments
    swap = swap_ask(schedule_id=schedule.pk, actor=people["U-B"], start=WED[0], end=WED[1], note="dentist")
    afternoon = WED[0] + dt.timedelta(hours=6)
    Override.objects.create(schedule=schedule, user=people["U-A"], start=afternoon, end=WED[1])
    before = who(schedule, *WED)

    refused = client_for(people["U-C"]).post(f"/api/v1/swaps/{swap.pk}/take/")

    assert refused.status_code == 409, refused.content
    error = refused.json()["error"]
    assert error["code"] == "swap_stale"
    assert "U-B is no longer on call for all of this swap's window (not from 2026-03-11 14:00 UTC)" in error["message"]
    swap.refresh_from_db()
    assert swap.state == Swap.State.ASKED and swap.taken_by is None
    assert who(schedule, *WED) == before and not Override.objects.filter(user=people["U-C"]).exists()

    client.force_login(people["U-C"])  # the schedule page's "Take it" says the same
    client.post(reverse("oncall:swap_take", args=[swap.pk]))
    assert "U-B is no longer on call for all of this swap" in text(
        client.get(reverse("oncall:schedule", args=[schedule.slug]))
    )


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("second", [WED, (WED[0] + dt.timedelta(hours=3), WED[1] + dt.timedelta(hours=3))])
def test_the_same_time_asked_twice_is_one_swap_so_no_two_takers_both_get_it(payments, second):
    """A double-click on "ask": two asked swaps of one window, each taken by someone else, made two take
    overrides; the first taker was told they had the time, and the final schedule named the second."""
    schedule, people = payments
    first = client_for(people["U-B"]).post(
        "/api/v1/swaps/", {"schedule": schedule.slug, "start": WED[0].isoformat(), "end": WED[1].isoformat()},
        format="json",
    )  # fmt: skip
    again = client_for(people["U-B"]).post(
        "/api/v1/swaps/", {"schedule": schedule.slug, "start": second[0].isoformat(), "end": second[1].isoformat()},
        format="json",
    )  # fmt: skip
    assert first.status_code == 201 and again.status_code == 400, again.content
    assert (
        f"already asked for a swap of this time (swap {first.json()['id']}"
        in again.json()["error"]["fields"]["start"][0]
    )
    assert Swap.objects.count() == 1
    swap_take(swap_id=first.json()["id"], actor=people["U-C"])
    assert who(schedule, *WED) == [(people["U-C"].pk, "swap", WED[0])]


@pytest.mark.django_db(transaction=True)
def test_two_asks_of_the_same_time_at_once_make_one_swap(requires_postgres):
    schedule, people = world()
    start = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    Override.objects.create(schedule=schedule, user=people["U-B"], start=start, end=start + dt.timedelta(hours=4))
    barrier, asked, refused = threading.Barrier(2), [], []

    def ask():
        try:
            barrier.wait()
            asked.append(swap_ask(schedule_id=schedule.pk, actor=people["U-B"], start=start,
                                  end=start + dt.timedelta(hours=4)).pk)  # fmt: skip
        except ValidationError as exc:
            refused.append(exc.message_dict["start"][0])
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(asked) == 1 and len(refused) == 1, (asked, refused)
    assert "already asked for a swap of this time" in refused[0]
    assert Swap.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_takers_at_once_one_wins(requires_postgres):
    schedule, people = world()
    now = dt.datetime.now(dt.UTC)
    start = now + dt.timedelta(hours=1)
    Override.objects.create(schedule=schedule, user=people["U-B"], start=start, end=start + dt.timedelta(hours=4))
    swap = swap_ask(schedule_id=schedule.pk, actor=people["U-B"], start=start, end=start + dt.timedelta(hours=4))
    barrier, won, lost = threading.Barrier(2), [], []

    def take(name):
        try:
            barrier.wait()
            won.append(swap_take(swap_id=swap.pk, actor=people[name]).taken_by.username)
        except StateConflict as exc:
            lost.append(exc.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(name,)) for name in ("U-A", "U-C")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(lost) == 1, (won, lost)
    assert lost[0].startswith(f"{won[0]} took this swap first")
    assert Override.objects.filter(swap__isnull=False).count() == 1
    assert Swap.objects.get(pk=swap.pk).taken_by.username == won[0]


def test_an_untaken_swap_expires_when_its_window_begins(payments):
    schedule, people = payments
    with time_machine.travel(NOW, tick=False):
        swap = swap_ask(schedule_id=schedule.pk, actor=people["U-B"], start=WED[0], end=WED[1])
    with time_machine.travel(WED[0] + dt.timedelta(minutes=5), tick=False):
        late = client_for(people["U-C"]).post(f"/api/v1/swaps/{swap.pk}/take/")
        assert late.status_code == 409 and late.json()["error"]["code"] == "swap_closed"
        assert client_for(people["U-C"]).get(f"/api/v1/swaps/{swap.pk}/").json()["state"] == "expired"
    assert swaps_expire(now=WED[1]) == 0
    assert who(schedule, *WED) == [(people["U-B"].pk, "layer", WED[0])]  # U-B keeps the day


@time_machine.travel(NOW, tick=False)
def test_cancelled_by_the_asker_then_closed(payments):
    schedule, people = payments
    swap = swap_ask(schedule_id=schedule.pk, actor=people["U-B"], start=WED[0], end=WED[1])
    assert client_for(people["out"]).post(f"/api/v1/swaps/{swap.pk}/cancel/").status_code == 403
    assert client_for(people["U-B"]).post(f"/api/v1/swaps/{swap.pk}/cancel/").json()["state"] == "cancelled"
    assert client_for(people["U-C"]).post(f"/api/v1/swaps/{swap.pk}/take/").status_code == 409


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


@time_machine.travel(NOW, tick=False)
def test_asked_from_my_shifts_and_taken_from_the_schedule_page(client, payments):
    schedule, people = payments
    # U-B is on call now; an override of their own on Wednesday splits their week into pieces
    Override.objects.create(schedule=schedule, user=people["U-B"], start=WED[0], end=WED[1])
    client.force_login(people["U-B"])
    mine = client.get(reverse("oncall:schedules")).content.decode()
    assert mine.count("Ask for a swap") == 2  # Wednesday (the override) and the rest of the week; not now
    answer = client.post(
        reverse("oncall:swap_ask", args=[schedule.slug]),
        {"start": WED[0].isoformat(), "end": WED[1].isoformat(), "note": "dentist", "back": "list"},
    )
    assert answer.status_code == 302 and answer["Location"] == reverse("oncall:schedules")
    swap = Swap.objects.get()
    assert (swap.asked_by, swap.note, swap.state) == (people["U-B"], "dentist", "asked")

    client.force_login(people["U-C"])
    page = client.get(reverse("oncall:schedule", args=[schedule.slug]))
    assert "U-B asks someone to take" in text(page) and "Take it" in text(page)
    assert "UTC : “dentist” Take it" in text(page)  # the note, set off from the time (tags read as spaces)
    client.post(reverse("oncall:swap_take", args=[swap.pk]))
    page = client.get(reverse("oncall:schedule", args=[schedule.slug]))
    shown = text(page)
    assert "You took U-B's time" in shown
    assert re.search(r"U-C swap", shown), shown  # the shifts table: U-C, from a swap

    client.force_login(people["U-A"])
    client.post(reverse("oncall:swap_take", args=[swap.pk]))
    assert "U-C took this swap first" in text(client.get(reverse("oncall:schedule", args=[schedule.slug])))
