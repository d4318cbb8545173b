"""Incident pages: declare, walk through the lifecycle with buttons, notes; admin actions."""

import pytest
from django.urls import reverse

from incidents.models import Incident
from tests.factories import IncidentFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sre(client):
    user = UserFactory(username="sre", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_declare_and_walk_to_resolved(sre):
    service = ServiceFactory()
    response = sre.post(
        reverse("incidents:declare"), {"title": "Checkout errors", "severity": 1, "primary_service": service.pk}
    )
    incident = Incident.objects.get()
    assert response["Location"] == reverse("incidents:detail", args=[incident.pk])

    page = sre.get(response["Location"]).content.decode()
    assert "Acknowledge" in page and "Declared SEV1: Checkout errors" in page

    for verb in ("acknowledge", "acknowledge", "mitigate", "resolve"):  # a double click on acknowledge
        sre.post(reverse("incidents:transition", args=[incident.pk, verb]))
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.timeline.filter(kind="status_change").count() == 4  # declared + 3 moves
    assert incident.owning_team == service.team


def test_a_refused_transition_is_explained(sre):
    incident = IncidentFactory(resolved=True)
    response = sre.post(reverse("incidents:transition", args=[incident.pk, "acknowledge"]), follow=True)
    assert f"Cannot acknowledge {incident.public_id}: it is resolved." in response.content.decode()


def test_unknown_verb_is_404_and_get_is_refused(sre):
    incident = IncidentFactory()
    assert sre.post(reverse("incidents:transition", args=[incident.pk, "explode"])).status_code == 404
    assert sre.get(reverse("incidents:transition", args=[incident.pk, "resolve"])).status_code == 405


def test_notes(sre):
    incident = IncidentFactory()
    sre.post(reverse("incidents:note", args=[incident.pk]), {"text": "Rolled back"})
    assert incident.timeline.get().message == "Rolled back"


def test_admin_resolve_action_uses_the_lifecycle(sre):
    incidents = [IncidentFactory(severity=3), IncidentFactory(resolved=True)]
    response = sre.post(
        reverse("admin:incidents_incident_changelist"),
        {"action": "resolve_selected", "_selected_action": [i.pk for i in incidents]},
        follow=True,
    )
    assert response.status_code == 200
    assert all(i.status == "resolved" for i in Incident.objects.all())
    assert incidents[0].timeline.filter(source="admin").count() == 1
