"""Two requests that give one person (or one team) a page webhook at once: one webhook, one secret shown, no
error (the owner's row is locked while the webhook is looked up and made)."""

import threading

import pytest
from django.db import connection

from notifications.models import PageWebhook
from notifications.page_webhooks import page_webhook_set
from tests.factories import MembershipFactory, TeamFactory, UserFactory


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("owner", ["user", "team"])
def test_two_webhooks_made_at_once_for_one_owner_are_one_with_one_secret(settings, owner):
    settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = True
    person = UserFactory()
    team = TeamFactory()
    MembershipFactory(team=team, user=person)
    whose = {"user": person} if owner == "user" else {"team": team}
    start = threading.Barrier(2)
    answers, errors = [], []

    def create(url):
        try:
            start.wait()
            answers.append(page_webhook_set(actor=person, url=url, **whose))
        except Exception as exc:  # what the request would answer: a 500
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(f"http://127.0.0.1:{port}/hook",)) for port in (8001, 8002)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert PageWebhook.objects.count() == 1
    assert sorted(secret is None for _, secret in answers) == [False, True]
