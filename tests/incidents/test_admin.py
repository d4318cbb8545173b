"""The incidents admin: search by public id, computed durations, actions through the services, read-only lifecycle."""

import pytest
from django.urls import reverse

from incidents.models import Incident, Integration
from tests.factories import IncidentFactory, UserFactory
from tests.incidents.payloads import am_alert, am_payload

pytestmark = pytest.mark.django_db


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_incident_search_by_public_id_and_computed_durations(operator_client):
    incident = IncidentFactory(resolved=True, title="Card payments failing")
    IncidentFactory(title="Something else")
    page = operator_client.get(changelist(Incident), {"q": incident.public_id}).content.decode()
    assert "Card payments failing" in page and "Something else" not in page
    assert ">3 m<" in page  # MTTA, humanised
    change = operator_client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    assert "MTTR" in change and "1 h 5 m" in change


def test_admin_acknowledge_action_is_idempotent_and_says_so(operator_client):
    incident = IncidentFactory()
    url = changelist(Incident)
    selected = {"action": "acknowledge_selected", "_selected_action": [incident.pk]}
    first = operator_client.post(url, selected, follow=True)
    assert "Acknowledge: 1 incident." in first.content.decode()
    response = operator_client.post(
        url, {"action": "acknowledge_selected", "_selected_action": [incident.pk]}, follow=True
    )
    assert "Acknowledge: 0 incidents; 1 already acknowledged." in response.content.decode()
    assert incident.timeline.filter(data__to="acknowledged", source="admin").count() == 1


def test_lifecycle_fields_are_read_only_in_the_change_form(operator_client):
    incident = IncidentFactory(resolved=True)
    page = operator_client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    assert 'name="status"' not in page and 'name="resolved_at_0"' not in page
    assert 'name="title"' in page


def test_admin_rotates_a_token_and_shows_it_once(hook, client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    old_hash = Integration.objects.get().token_hash
    response = client.post(
        "/admin/incidents/integration/",
        {"action": "rotate_token", "_selected_action": [hook.integration.pk]},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    integration = Integration.objects.get()
    assert integration.token_hash != old_hash
    token = shown[0].split(" token ")[1].split(" ")[0]
    assert integration.check_token(token)
    assert hook.post(am_payload(am_alert("aaaa000000000001"))).status_code == 401  # the old token is dead
    for page in (
        "/admin/incidents/integration/",
        "/admin/incidents/alert/?q=DiskFull",
        "/admin/incidents/webhookdelivery/",
    ):
        assert client.get(page).status_code == 200
