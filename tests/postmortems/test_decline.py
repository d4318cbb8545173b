"""Post-mortems nobody needs get a way out (issue 15 item 2): declined with a reason, re-opened, never drafted.

A critical alert that resolved itself after 3 minutes got a SEV1 draft with an
owner and a due date; downgrading to SEV4 kept it; there was no "not needed"
state, so it became reminder debt.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import Integration, Severity
from incidents.update import incident_set_severity
from postmortems.decline import postmortem_decline
from postmortems.models import PostMortem
from postmortems.reminders import due_reminders
from postmortems.selectors import (
    postmortems_by_status,
    postmortems_open,
    postmortems_owed,
    postmortems_owing_regression_test,
    postmortems_regression_debt,
)
from postmortems.services import postmortem_create_for_incident
from tests.api.clients import client_for
from tests.factories import IncidentFactory, MembershipFactory, PostMortemFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """A post-mortem draft of the Payments team, a member of that team and a member of another team."""
    team = TeamFactory()
    member = MembershipFactory(team=team).user
    outsider = MembershipFactory(team=TeamFactory()).user
    postmortem = PostMortemFactory(incident__owning_team=team)
    return {"postmortem": postmortem, "member": member, "outsider": outsider}


def overdue_draft(**kwargs) -> PostMortem:
    return PostMortemFactory(due_at=timezone.now() - dt.timedelta(days=3), **kwargs)


def test_a_declined_post_mortem_owes_nothing_and_is_counted_on_its_own():
    postmortem = overdue_draft()
    assert due_reminders(now=timezone.now(), postmortem_id=postmortem.pk)  # an overdue draft is reminded

    postmortem_decline(postmortem_id=postmortem.pk, reason="Flapping disk alert, no impact", actor=None, source="web")

    now = timezone.now()
    assert due_reminders(now=now, postmortem_id=postmortem.pk) == []
    for selector in (postmortems_owed(now=now), postmortems_open(now=now), postmortems_owing_regression_test(now=now)):
        assert postmortem not in selector
    assert postmortem not in postmortems_regression_debt(now=now)
    assert postmortems_by_status()["declined"] == 1
    entry = postmortem.incident.timeline.get(data__to="declined")
    assert entry.message == "Post-mortem declined: Flapping disk alert, no impact"


def test_the_owning_team_declines_through_the_api_with_a_reason_and_reopens(world):
    postmortem = world["postmortem"]
    member = client_for(world["member"])
    url = f"/api/v1/postmortems/{postmortem.pk}/"

    assert member.post(url + "decline/", {}, format="json").status_code == 400
    refused = client_for(world["outsider"]).post(url + "decline/", {"reason": "noise"}, format="json")
    assert refused.status_code == 403

    response = member.post(url + "decline/", {"reason": "Flapping alert, resolved by itself"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["decline_reason"]) == ("declined", "Flapping alert, resolved by itself")
    reopened = member.post(url + "reopen/", format="json").json()
    assert (reopened["status"], reopened["decline_reason"]) == ("draft", "")


def test_a_published_post_mortem_cannot_be_declined(world):
    postmortem = world["postmortem"]
    PostMortem.objects.filter(pk=postmortem.pk).update(status="published", published_at=timezone.now())

    response = client_for(world["member"]).post(
        f"/api/v1/postmortems/{postmortem.pk}/decline/", {"reason": "too late"}, format="json"
    )

    assert response.status_code == 409


def test_the_web_page_declines_with_a_reason_and_shows_it(client, world):
    postmortem = world["postmortem"]
    client.force_login(world["member"])
    page = client.get(reverse("postmortems:detail", args=[postmortem.pk])).content.decode()
    assert "Decline post-mortem" in page

    response = client.post(reverse("postmortems:decline", args=[postmortem.pk]), {"reason": "Test alert from staging"})

    assert response.status_code == 302
    page = client.get(reverse("postmortems:detail", args=[postmortem.pk])).content.decode()
    assert "Test alert from staging" in page and "Re-open as a draft" in page
    client.post(reverse("postmortems:reopen", args=[postmortem.pk]))
    postmortem.refresh_from_db()
    assert postmortem.status == "draft"


@pytest.mark.parametrize(("written", "expected"), [(False, "declined"), (True, "draft")])
def test_downgrading_below_the_post_mortem_severities_declines_an_untouched_draft(written, expected):
    postmortem = PostMortemFactory(summary="We lost writes for 4 minutes." if written else "")

    incident_set_severity(incident_id=postmortem.incident_id, severity=Severity.SEV4, actor=None, source="web")

    postmortem.refresh_from_db()
    assert postmortem.status == expected
    if expected == "declined":
        assert "Downgraded to SEV4 before anyone wrote in it" in postmortem.decline_reason


@pytest.mark.parametrize(
    ("minutes", "acknowledged", "requires_ack", "drafted"),
    [(3, False, False, False), (10, False, False, True), (10, False, True, False), (10, True, True, True)],
)
def test_an_integration_decides_when_its_incidents_earn_a_draft(minutes, acknowledged, requires_ack, drafted):
    integration = Integration.objects.create(
        kind="alertmanager",
        name="Prometheus",
        postmortem_min_duration_seconds=300,
        postmortem_requires_ack=requires_ack,
    )
    started = timezone.now() - dt.timedelta(hours=1)
    incident = IncidentFactory(
        integration=integration,
        severity=Severity.SEV1,
        status="resolved",
        started_at=started,
        detected_at=started,
        acknowledged_at=started + dt.timedelta(minutes=1) if acknowledged else None,
        resolved_at=started + dt.timedelta(minutes=minutes),
    )

    _, created = postmortem_create_for_incident(incident=incident)

    assert created is drafted
    if not drafted:
        assert incident.timeline.filter(message__startswith="No post-mortem draft").count() == 1
        postmortem_create_for_incident(incident=incident)  # a retried resolve says it once
        assert incident.timeline.filter(message__startswith="No post-mortem draft").count() == 1


def test_metrics_count_declined_post_mortems_on_their_own(client):
    postmortem_decline(postmortem_id=overdue_draft().pk, reason="duplicate of INC-1", actor=None, source="web")
    overdue_draft()

    text = client.get("/metrics").content.decode()

    assert 'sredesk_postmortems{status="declined"} 1.0' in text
    assert 'sredesk_postmortems{status="draft"} 1.0' in text
    assert "sredesk_postmortems_awaiting_regression_test 1.0" in text
