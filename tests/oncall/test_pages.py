"""The schedule pages and the service page say what the final schedule says (BR-34), and take overrides."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from oncall.models import LayerMember, Override
from ownership.models import Membership, Responsibility
from tests.factories import LayerFactory, MembershipFactory, ScheduleFactory, ServiceFactory, UserFactory

BERLIN = ZoneInfo("Europe/Berlin")
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def payments(db):
    people = {name: UserFactory(username=name, first_name=name, last_name="") for name in ("U-A", "U-B", "U-C", "U-D")}
    schedule = ScheduleFactory(name="payments-primary", slug="payments-primary", timezone="Europe/Berlin")
    layer = LayerFactory(schedule=schedule, anchor_date=dt.date(2026, 3, 2), handoff_time=dt.time(9))
    for position, name in enumerate(("U-A", "U-B", "U-C")):
        LayerMember.objects.create(layer=layer, user=people[name], position=position, active_from=EPOCH)
    Override.objects.create(schedule=schedule, user=people["U-D"], start=dt.datetime(2026, 3, 11, 18, tzinfo=BERLIN),
                            end=dt.datetime(2026, 3, 12, 9, tzinfo=BERLIN))  # fmt: skip
    service = ServiceFactory(slug="payments-api", team=schedule.team)
    Responsibility.objects.create(service=service, role=Responsibility.Role.PAGED, schedule=schedule)
    return schedule, service, people


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@time_machine.travel(dt.datetime(2026, 3, 11, 17, tzinfo=BERLIN), tick=False)
def test_schedule_page_now_next_and_the_week(client, payments):
    schedule, _, _ = payments
    client.force_login(UserFactory(timezone="Europe/Berlin"))
    page = client.get(reverse("oncall:schedule", args=[schedule.slug]))
    assert page.status_code == 200
    shown = text(page)
    assert re.search(r"Now U-B until 2026-03-11 18:00 CET", shown), shown
    assert "Next U-D from 2026-03-11 18:00 CET" in shown
    assert "<svg" in page.content.decode() and "U-D: Wed 11 Mar 18:00 – Thu 12 Mar 09:00" in page.content.decode()
    rows = re.findall(r"<tr><td>(.*?)</tr>", page.content.decode())
    who = [re.search(r"<td>(U-.)</td><td>(\w+)</td>", row).groups() for row in rows]
    assert who == [("U-B", "layer"), ("U-D", "override"), ("U-B", "layer"), ("U-C", "layer"), ("U-A", "layer")]
    assert "The next 2 weeks · days drawn in Europe/Berlin time" in shown
    # each legend entry (swatch and whole name) stays on one line on a phone
    assert re.search(r'<span class="nowrap"><svg [^>]*>.*?</svg> U-D</span>', page.content.decode())
    listing = text(client.get(reverse("oncall:schedules")))
    assert "U-B" in listing and "U-D from 2026-03-11 18:00 CET" in listing


@time_machine.travel(dt.datetime(2026, 3, 11, 20, tzinfo=BERLIN), tick=False)
def test_service_page_shows_who_the_schedule_pages(client, payments):
    _, service, _ = payments
    client.force_login(UserFactory(timezone="Europe/Berlin"))
    shown = text(client.get(reverse("ownership:service", args=[service.slug])))
    assert "On call now U-D" in shown and "payments-primary" in shown
    assert "next U-B from 2026-03-12 09:00 CET" in shown


@time_machine.travel(dt.datetime(2026, 3, 4, 12, tzinfo=BERLIN), tick=False)
def test_override_form_for_the_team_only(client, payments):
    schedule, _, people = payments
    url = reverse("oncall:schedule", args=[schedule.slug])
    form = {"user": people["U-C"].pk, "kind": "take", "start": "2026-03-09T05:00", "end": "2026-03-09T09:00"}
    client.force_login(UserFactory())
    assert client.post(url, form).status_code == 403
    member = UserFactory()
    MembershipFactory(team=schedule.team, user=member, role=Membership.Role.MEMBER)
    client.force_login(member)
    assert client.post(url, form | {"start": "2026-03-01T05:00"}).status_code == 400  # the past
    assert client.post(url, form).status_code == 302
    swap = Override.objects.get(user=people["U-C"])
    assert (swap.start, swap.end) == (
        dt.datetime(2026, 3, 9, 4, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 9, 8, tzinfo=dt.UTC),
    )


@time_machine.travel(dt.datetime(2026, 3, 10, 12, tzinfo=BERLIN), tick=False)
def test_my_shifts_come_from_the_final_schedule(client, payments):
    _, _, people = payments
    client.force_login(people["U-D"])  # on no layer: the override is their only shift
    mine = text(client.get(reverse("oncall:schedules")))
    assert "Your shifts next 14 days payments-primary : 2026-03-11 17:00 UTC – 2026-03-12 08:00 UTC override" in mine
    client.force_login(people["U-B"])  # U-B's week has a hole where U-D's override is
    mine = text(client.get(reverse("oncall:schedules")))
    assert (
        "2026-03-10 11:00 UTC – 2026-03-11 17:00 UTC" in mine and "2026-03-12 08:00 UTC – 2026-03-16 08:00 UTC" in mine
    )
    client.force_login(UserFactory())  # on no schedule: the empty list says so, not a bare "None."
    mine = text(client.get(reverse("oncall:schedules")))
    assert "Your shifts next 14 days None: no schedule has you on call in the next 14 days." in mine
