"""The signing secret leaves sredesk in exactly the answers that make it (creation, rotation), and those answers
tell browsers and proxies not to keep a copy (``Cache-Control: no-store``); nothing else shows it."""

import pytest

from notifications.models import Notification, PageWebhook
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
JSON = "application/json"


def test_answers_that_carry_a_secret_are_not_stored_and_no_other_answer_carries_it(client, settings):
    settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = True
    person = UserFactory()
    client.force_login(person)
    created = client.post("/api/v1/page-webhooks/", {"url": "http://127.0.0.1:9/a"}, content_type="application/json")
    hook_id = created.json()["id"]
    rotated = client.post(f"/api/v1/page-webhooks/{hook_id}/rotate/")
    page_rotated = client.post("/me/profile/page-webhook/", {"action": "rotate"})
    secrets = [created.json()["secret"], rotated.json()["secret"]]

    for answer in (created, rotated, page_rotated):
        assert "no-store" in answer.get("Cache-Control", "")
    others = [
        client.get("/api/v1/page-webhooks/"),
        client.get(f"/api/v1/page-webhooks/{hook_id}/"),
        client.patch(
            f"/api/v1/page-webhooks/{hook_id}/", {"url": "http://127.0.0.1:9/b"}, content_type="application/json"
        ),
        client.get("/me/profile/"),
    ]
    for answer in others:
        assert not any(secret in answer.content.decode() for secret in secrets)
        assert "whsec_" not in answer.content.decode()
    assert "whsec_" not in str(list(PageWebhook.objects.values()))
    assert not Notification.objects.filter(last_error__contains="whsec_").exists()
