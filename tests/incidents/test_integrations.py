"""Integration credentials through one service at every door (issue 14 item 5): create, rotate, the signing-secret rule.

Before, the admin stored a signing secret on an Alertmanager or generic
integration, which the webhook then ignored (it checks signatures only for
PagerDuty and Grafana): protection in appearance only. Every door now refuses it.
"""

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from incidents.integrations import integration_create, integration_token_rotate
from incidents.models import Integration
from tests.factories import UserFactory
from tests.incidents.payloads import Hook, am_alert, am_payload, pd_signature

pytestmark = pytest.mark.django_db

ADD = "/admin/incidents/integration/add/"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


def form(**fields) -> dict:
    return {
        "name": "Prod",
        "kind": "alertmanager",
        "enabled": "on",
        "service_label": "service",
        "severity_label": "severity",
        "severity_map": json.dumps({"critical": 1}),
        "default_severity": "3",
        "resolve_mode": "resolve",
        "reopen_window_seconds": "3600",
        "postmortem_min_duration_seconds": "300",
        "signing_secret": "",
        **fields,
    }


@pytest.mark.parametrize("kind", ["alertmanager", "generic"])
def test_a_signing_secret_on_a_kind_that_signs_nothing_is_refused(kind):
    with pytest.raises(ValidationError) as caught:
        integration_create(integration=Integration(kind=kind, name="X"), signing_secret="s3cret")
    assert "signing_secret" in caught.value.message_dict
    assert not Integration.objects.exists()


@pytest.mark.parametrize("kind", ["pagerduty", "grafana"])
def test_senders_that_sign_take_a_secret_and_their_signature_is_required(
    kind, client, django_capture_on_commit_callbacks
):
    integration, token = integration_create(integration=Integration(kind=kind, name="X"), signing_secret="s3cret")
    assert integration.has_signing_secret and integration.check_token(token)
    if kind == "pagerduty":  # the token alone no longer passes: the signature is what counts
        hook = Hook(client, django_capture_on_commit_callbacks, integration, token)
        body = json.dumps({"event": {"id": "E1", "event_type": "pagey.ping", "data": {}}}).encode()
        assert hook.post(body).status_code == 401
        assert (
            hook.post(body, token="", headers={"X-PagerDuty-Signature": pd_signature(body, "s3cret")}).status_code
            == 200
        )


def test_rotating_the_token_kills_the_old_one(client, django_capture_on_commit_callbacks):
    integration, old = integration_create(integration=Integration(kind="alertmanager", name="X"))
    _, new = integration_token_rotate(integration_id=integration.pk)
    integration.refresh_from_db()
    assert integration.check_token(new) and not integration.check_token(old)


def test_create_integration_refuses_a_secret_it_would_ignore_naming_the_option():
    with pytest.raises(CommandError, match="--secret"):
        call_command("create_integration", "--kind", "alertmanager", "--name", "AM", "--secret", "x", stdout=StringIO())
    call_command("create_integration", "--kind", "grafana", "--name", "Graf", "--secret", "x", stdout=StringIO())
    assert Integration.objects.get().has_signing_secret
    with pytest.raises(CommandError, match="--name"):
        call_command("create_integration", "--kind", "grafana", "--name", "Graf", stdout=StringIO())


def test_the_admin_refuses_a_secret_the_webhook_would_ignore(admin_client):
    response = admin_client.post(ADD, form(kind="alertmanager", signing_secret="s3cret"))
    assert response.status_code == 200  # the form again, with the error on the field
    assert "only" in str(response.context["adminform"].form.errors["signing_secret"])
    assert not Integration.objects.exists()


def test_the_admin_creates_through_the_service_and_shows_the_token_once(admin_client):
    response = admin_client.post(ADD, form(kind="grafana", signing_secret="s3cret"), follow=True)
    integration = Integration.objects.get()
    shown = " ".join(str(m) for m in response.context["messages"])
    token = shown.split(" token ")[1].split(" ")[0]
    assert integration.check_token(token) and integration.signing_secret == "s3cret"


def test_changing_the_kind_away_from_a_signing_sender_needs_the_secret_removed(admin_client):
    integration, _ = integration_create(integration=Integration(kind="grafana", name="Prod"), signing_secret="s")
    change = f"/admin/incidents/integration/{integration.pk}/change/"
    response = admin_client.post(change, form(kind="alertmanager"))
    assert response.status_code == 200 and "signing_secret" in response.context["adminform"].form.errors
    integration.refresh_from_db()
    assert integration.kind == "grafana"

    assert admin_client.post(change, form(kind="alertmanager", clear_signing_secret="on")).status_code == 302
    integration.refresh_from_db()
    assert (integration.kind, integration.has_signing_secret) == ("alertmanager", False)


def test_the_admin_rotation_goes_through_the_service(admin_client, hook):
    response = admin_client.post(
        "/admin/incidents/integration/",
        {"action": "rotate_token", "_selected_action": [hook.integration.pk]},
        follow=True,
    )
    token = str(next(iter(response.context["messages"]))).split(" token ")[1].split(" ")[0]
    assert hook.post(am_payload(am_alert("aaaa000000000001"))).status_code == 401
    assert hook.post(am_payload(am_alert("aaaa000000000001")), token=token).status_code == 200
