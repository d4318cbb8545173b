"""The demo login is in its team's rotation: signed in as demo, a new user sees their shifts, can ask for a swap
of one ahead and, being on call now, can leave a hand-off note; an alert on the team's services pages them."""

import datetime as dt
import re
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from demo import data as demo_data
from oncall.escalation import escalations_plan
from oncall.handoffs import handoff_due
from oncall.models import HandoffNote, Page, Schedule, Swap
from oncall.paging import paged_for_schedule
from ownership.models import Service, User
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings) -> User:
    settings.SREDESK_DEMO_LOGIN = True
    call_command("load_demo", stdout=StringIO())
    return User.objects.get(username=demo_data.DEMO_LOGIN_USERNAME)


def team_schedule() -> Schedule:
    return Schedule.objects.get(team__slug=demo_data.DEMO_LOGIN_HANDOVER.team)


def my_shifts(client) -> str:
    page = client.get("/oncall/schedules/").content.decode()
    return re.search(r'<section class="card mt-1" id="my-shifts">(.*?)</section>', page, re.DOTALL)[1]


def test_signed_in_as_demo_your_shifts_lists_the_shifts_ahead_and_offers_a_swap(demo, client):
    client.force_login(demo)
    now = timezone.now()

    shifts = my_shifts(client)

    schedule = team_schedule()
    assert shifts.count(f">{schedule.name}</a>") >= 3  # on call now, and again within the 14 days shown
    starts = [dt.datetime.fromisoformat(v) for v in re.findall(r'name="start" value="([^"]+)"', shifts)]
    assert starts and all(now < start < now + dt.timedelta(days=14) for start in starts)
    assert shifts.count("Ask for a swap") == len(starts)  # every shift ahead; not the one under way

    ends = re.findall(r'name="end" value="([^"]+)"', shifts)
    form = {"start": starts[0].isoformat(), "end": ends[0], "note": "trying the demo", "back": "list"}
    response = client.post(f"/oncall/schedules/{schedule.slug}/swaps/", form)

    assert response.status_code == 302
    assert "swap asked" in my_shifts(client)
    assert Swap.objects.get(asked_by=demo, state="asked").start == starts[0]


def test_demo_is_on_call_now_so_the_schedule_page_offers_the_hand_off_note(demo, client):
    client.force_login(demo)
    schedule = team_schedule()

    page = client.get(f"/oncall/schedules/{schedule.slug}/").content.decode()

    now_row = re.search(r'<dd id="on-call-now">(.*?)</dd>', page, re.DOTALL)[1]
    assert "Demo User" in now_row
    assert 'id="handoff-note"' in page and "What the next person should know" in page
    response = client.post(f"/oncall/schedules/{schedule.slug}/handoff-note/", {"text": "cert renewal half done"})
    assert response.status_code == 302
    note = HandoffNote.objects.get(author=demo)
    assert note.handoff_at - timezone.now() > dt.timedelta(hours=22)


def test_an_alert_on_demos_team_pages_demo(demo):
    now = dt.datetime.now(dt.UTC)
    service = Service.objects.get(slug=demo_data.INTEGRATIONS[0].service)  # the demo Alertmanager's service
    incident = IncidentFactory(primary_service=service, owning_team=service.team, detected_at=now,
                               started_at=now - dt.timedelta(minutes=2))  # fmt: skip

    escalations_plan(now=now)

    assert Page.objects.get(incident=incident).person == demo


@pytest.mark.parametrize("instant", ["2026-12-05T07:59:59Z", "2026-12-05T08:00:00Z", "2027-03-28T00:30:00Z",
                                     "2027-07-01T23:10:00Z"])  # fmt: skip
def test_whenever_the_demo_is_loaded_demo_is_on_call_for_most_of_a_day_and_again_within_a_week(settings, instant):
    settings.SREDESK_DEMO_LOGIN = True
    with time_machine.travel(dt.datetime.fromisoformat(instant), tick=False):
        call_command("load_demo", stdout=StringIO())
        now = timezone.now()
        demo = User.objects.get(username=demo_data.DEMO_LOGIN_USERNAME)
        schedule = team_schedule()

        assert paged_for_schedule(schedule, now).person == demo
        assert handoff_due(schedule, demo.pk, now=now) - now >= dt.timedelta(hours=23)
        rounds = dt.timedelta(days=schedule.team.memberships.count())  # one turn each, the login's first
        assert paged_for_schedule(schedule, now + rounds).person == demo
        # Every demo team still has a schedule with someone on call and a swap asked.
        assert Schedule.objects.count() == Swap.objects.filter(state="asked").count() == len(demo_data.TEAMS)
        for each in Schedule.objects.all():
            assert paged_for_schedule(each, now).person is not None
