"""My work (``/me/``) lists the person's on-call shifts of the next 14 days, the same final schedule as the
schedules page's "Your shifts": an override that takes a shift away takes it off /me/ too."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oncall.models import LayerMember, Override
from tests.factories import LayerFactory, ScheduleFactory, UserFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 10, 12, tzinfo=BERLIN)


def shifts_section(client) -> str:
    html = client.get(reverse("ownership:my_work")).content.decode()
    start = html.index('id="my-shifts"')
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[start : html.index("</section>", start)]))


def schedule_with(person, name: str):
    """A weekly schedule (hand-off Monday 09:00 Berlin) where ``person`` is the only member: on call all the time."""
    schedule = ScheduleFactory(name=name, slug=name)
    layer = LayerFactory(schedule=schedule)
    LayerMember.objects.create(layer=layer, user=person, position=0, active_from=EPOCH)
    return schedule


@time_machine.travel(NOW, tick=False)
def test_a_shift_shows_on_me_and_an_override_takes_it_away(client):
    ana = UserFactory(username="ana", timezone="America/New_York")
    schedule = schedule_with(ana, "payments-primary")
    client.force_login(ana)

    shown = shifts_section(client)
    assert "Your on-call shifts next 14 days" in shown
    # Start and end in ana's zone (New York), the schedule linked, where the shift comes from.
    assert "payments-primary 2026-03-10 07:00 EDT – 2026-03-24 07:00 EDT layer" in shown, shown
    assert 'href="/oncall/schedules/payments-primary/"' in client.get(reverse("ownership:my_work")).content.decode()

    # Someone else covers the whole 14 days: ana's shift is gone from /me/.
    Override.objects.create(schedule=schedule, user=UserFactory(), start=NOW - dt.timedelta(hours=1),
                            end=NOW + dt.timedelta(days=15))  # fmt: skip
    shown = shifts_section(client)
    assert "payments-primary" not in shown
    assert "No on-call shift in the next 14 days." in shown


@time_machine.travel(NOW, tick=False)
def test_an_override_shift_says_so(client):
    bo = UserFactory(username="bo", timezone="Europe/Berlin")
    schedule = schedule_with(UserFactory(), "db-primary")
    Override.objects.create(schedule=schedule, user=bo, start=dt.datetime(2026, 3, 11, 18, tzinfo=BERLIN),
                            end=dt.datetime(2026, 3, 12, 9, tzinfo=BERLIN))  # fmt: skip
    client.force_login(bo)
    assert "db-primary 2026-03-11 18:00 CET – 2026-03-12 09:00 CET override" in shifts_section(client)


@time_machine.travel(NOW, tick=False)
def test_queries_do_not_grow_with_the_number_of_schedules(client):
    ana = UserFactory(username="ana")
    schedule_with(ana, "s-1")
    client.force_login(ana)
    url = reverse("ownership:my_work")
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for n in range(2, 6):
        schedule_with(ana, f"s-{n}")
    with CaptureQueriesContext(connection) as five:
        page = client.get(url).content.decode()
    assert all(f"/oncall/schedules/s-{n}/" in page for n in range(1, 6))
    assert len(five) == len(one), [q["sql"] for q in five.captured_queries]
