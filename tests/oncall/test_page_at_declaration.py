"""Step 1 pages as soon as a declaration commits (the worker announcing it plans the pages), not at the
escalation planner's next tick, which stays the safety net and writes nothing twice (bench/page.py's fix)."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.services import incident_declare
from oncall.escalation import escalations_plan
from oncall.models import EscalationPolicy, EscalationStep, EscalationTarget, Page
from tests.factories import ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_declared_incident_pages_step_1_without_waiting_for_the_planner(
    slack_on, memory_notifier, django_capture_on_commit_callbacks
):
    person = UserFactory(username="first", slack_user_id="U0FIRST")
    service = ServiceFactory()
    policy = EscalationPolicy.objects.create(team=service.team, name="Checkout", repeat=0)
    step = EscalationStep.objects.create(policy=policy, position=0, wait_minutes=5)
    EscalationTarget.objects.create(step=step, user=person)
    service.escalation_policy = policy
    service.save(update_fields=["escalation_policy"])

    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_declare(title="Checkout down", severity=1, actor=None, source="api",
                                    primary_service=service)  # fmt: skip

    assert list(Page.objects.values_list("incident_id", "step", "person__username")) == [(incident.pk, 0, "first")]
    assert any(m.address == "U0FIRST" and m.subject.startswith("Page:") for m in memory_notifier)
    with django_capture_on_commit_callbacks(execute=True):
        assert escalations_plan(now=timezone.now() + dt.timedelta(seconds=15)) == 0  # the tick: nothing new
    assert Page.objects.count() == 1
