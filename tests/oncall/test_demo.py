"""The demo company: every team has a schedule and a policy, so `make run` shows who is on call and pages."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from demo import data as demo_data
from oncall.escalation import escalations_plan
from oncall.models import EscalationPolicy, Page, Schedule, Swap
from oncall.paging import paged_for_schedule
from ownership.models import Service
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("demo_login", [False, True])  # with the login, its team rotates daily, the login first
def test_every_demo_team_has_a_schedule_and_a_policy_that_pages(settings, demo_login):
    settings.SREDESK_DEMO_LOGIN = demo_login
    call_command("load_demo", stdout=StringIO())
    assert Schedule.objects.count() == EscalationPolicy.objects.count() == len(demo_data.TEAMS)
    now = dt.datetime.now(dt.UTC)
    for schedule in Schedule.objects.select_related("team"):
        paged = paged_for_schedule(schedule, now)
        assert paged.person is not None and schedule.team.memberships.filter(user=paged.person).exists()
    assert not Service.objects.filter(team__isnull=False, escalation_policy__isnull=True).exists()
    service = Service.objects.filter(team__slug="payments").first()
    incident = IncidentFactory(primary_service=service, owning_team=service.team, detected_at=now,
                               started_at=now - dt.timedelta(minutes=2))  # fmt: skip
    escalations_plan(now=now)
    page = Page.objects.get(incident=incident)
    assert page.person == paged_for_schedule(Schedule.objects.get(slug="payments-primary"), now).person
    assert Swap.objects.filter(state="asked").count() == len(demo_data.TEAMS)  # a swap asked on each schedule
    call_command("load_demo", stdout=StringIO())
    assert Schedule.objects.count() == len(demo_data.TEAMS)  # a re-run adds nothing
    assert Swap.objects.count() == len(demo_data.TEAMS)
