"""Hostile requests against the doors that change how pages reach a person. A page in another tab: each POST
from a signed-in browser without the CSRF token is refused (403) and changes nothing (the suite's clients skip
the check; this one enforces it, as a browser's session would). A body as large as allowed: refused whole."""

import pytest
from django.test import Client

from notifications.models import ContactRule, Notification, PageWebhook
from notifications.page_webhooks import page_webhook_set
from slackapp.identity import link_token_issue
from slackapp.models import SlackLinkToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(settings):
    settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = True
    person = UserFactory(username="victim")
    hook, _ = page_webhook_set(actor=person, url="http://127.0.0.1:9/hook", user=person)
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    return client, person, hook


def snapshot(person) -> tuple:
    hooks = list(PageWebhook.objects.values_list("url", "secret_encrypted", "rotated_at"))
    rules = list(ContactRule.objects.values_list("channel", "delay_minutes"))
    person.refresh_from_db()
    return (
        hooks,
        rules,
        Notification.objects.count(),
        person.slack_user_id,
        list(SlackLinkToken.objects.values_list("used_at", flat=True)),
    )


def test_forms_and_api_calls_without_the_csrf_token_are_refused_and_change_nothing(browser):
    client, person, hook = browser
    token = link_token_issue("U0ATTACKER", "T0EVIL").rsplit("/", 2)[-2]
    before = snapshot(person)
    J = "application/json"
    answers = {
        "profile webhook": client.post("/me/profile/page-webhook/", {"url": "http://127.0.0.1:9/evil"}),
        "profile rotate": client.post("/me/profile/page-webhook/", {"action": "rotate"}),
        "profile remove": client.post("/me/profile/page-webhook/", {"action": "remove"}),
        "profile rules": client.post("/me/profile/contact-rules/", {"delay_email": "5"}),
        "profile test page": client.post("/me/profile/test-page/"),
        "slack link": client.post(f"/slack/link/{token}/"),
        "api create": client.post("/api/v1/page-webhooks/", {"url": "http://127.0.0.1:9/evil"}, content_type=J),
        "api move": client.patch(f"/api/v1/page-webhooks/{hook.pk}/", {"url": "http://127.0.0.1:9/e"}, content_type=J),
        "api rotate": client.post(f"/api/v1/page-webhooks/{hook.pk}/rotate/"),
        "api delete": client.delete(f"/api/v1/page-webhooks/{hook.pk}/"),
        "api rules": client.put("/api/v1/me/contact-rules/", {"rules": []}, content_type=J),
        "api test page": client.post("/api/v1/me/test-page/"),
    }
    assert {door: answer.status_code for door, answer in answers.items()} == dict.fromkeys(answers, 403)
    assert snapshot(person) == before


def test_a_list_of_a_million_contact_rules_is_refused_whole_naming_the_list(client):
    """Three channels make three rules at most: a longer list is refused before its items are looked at (each
    item checked cost seconds of a worker for one request within the body size limit)."""
    client.force_login(UserFactory())
    answer = client.put("/api/v1/me/contact-rules/", {"rules": [{}] * 600_000}, content_type="application/json")
    assert answer.status_code == 400
    assert (
        list(answer.json()["error"]["fields"]) == ["rules"]
        and "At most 3" in answer.json()["error"]["fields"]["rules"][0]
    )
    assert not ContactRule.objects.exists()
