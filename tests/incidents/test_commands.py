"""The incidents app's management commands: ``create_integration``."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from incidents.models import Integration
from tests.incidents.payloads import am_alert, am_payload

pytestmark = pytest.mark.django_db


def test_create_integration_prints_the_url_and_token_once(svc_a, settings, client):

    settings.SREDESK_BASE_URL = "https://sredesk.example.com"
    out = StringIO()
    call_command("create_integration", "--kind", "alertmanager", "--name", "Prod AM", "--service", "svc-a", stdout=out)
    integration = Integration.objects.get(name="Prod AM")
    lines = dict(
        line.split(":", 1) for line in out.getvalue().splitlines() if line.startswith(("Webhook URL", "Token"))
    )
    url, token = lines["Webhook URL"].strip(), lines["Token"].strip()
    assert url == f"https://sredesk.example.com/hooks/{integration.public_id}/"
    assert integration.check_token(token) and integration.default_service == svc_a
    response = client.post(
        url.removeprefix("https://sredesk.example.com"),
        data=json.dumps(am_payload(am_alert("aaaa000000000001"))),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
