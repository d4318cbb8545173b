"""Slack errors a person must fix become one visible problem on the team, person or workspace, not a retry loop.

Deliveries go through the real SlackBackend (slack_sdk) to the local fake Slack.
"""

import pytest
from celery.exceptions import Retry
from django.urls import reverse

from notifications import base as notify_base
from notifications.models import Notification, SlackCallFailure, SlackProblem
from notifications.services import notify
from tests.factories import TeamFactory, UserFactory
from tests.fakes import FakeSlack

pytestmark = pytest.mark.django_db


@pytest.fixture
def slack(settings):
    with FakeSlack() as fake:
        settings.SLACK_BOT_TOKEN = "xoxb-test-problems"
        settings.SREDESK_SLACK_API_URL = fake.url
        settings.SREDESK_SLACK_TIMEOUT_SECONDS = 2
        settings.SREDESK_NOTIFY_BACKENDS = {
            **settings.SREDESK_NOTIFY_BACKENDS,
            "slack": "notifications.slack.SlackBackend",
        }
        notify_base._backend.cache_clear()
        yield fake
        notify_base._backend.cache_clear()


def send(key: str, address: str, capture) -> Notification:
    with capture(execute=True):
        notify(key=key, topic="INC-1", subject="INC-1 declared", text="INC-1 declared", slack=[address], outbox=[])
    return Notification.objects.get(dedup_key__startswith=key, channel="slack")


def test_bot_not_in_team_channel_is_one_problem_on_the_team_until_it_works(
    slack, operator_client, django_capture_on_commit_callbacks
):
    team = TeamFactory(name="Payments", slack_channel="C0PAYMENTS")
    for n in range(3):
        slack.fail_method("chat.postMessage", "not_in_channel")
        row = send(f"k{n}", "C0PAYMENTS", django_capture_on_commit_callbacks)
        assert row.status == Notification.Status.FAILED and row.attempts == 1  # no retry loop

    problem = SlackProblem.objects.get()
    assert problem.team == team and problem.occurrences == 3 and problem.fixed_at is None
    assert "/invite @sredesk" in problem.words and "C0PAYMENTS" in problem.words
    page = operator_client.get(reverse("admin:ownership_team_change", args=[team.pk])).content.decode()
    assert "/invite @sredesk" in page
    listing = operator_client.get(reverse("admin:notifications_slackproblem_changelist")).content.decode()
    assert "Payments" in listing

    send("k-ok", "C0PAYMENTS", django_capture_on_commit_callbacks)  # someone invited the bot
    problem.refresh_from_db()
    assert problem.fixed_at is not None


def test_unknown_member_id_shows_on_the_persons_profile(slack, client, django_capture_on_commit_callbacks):
    person = UserFactory(username="pat", slack_user_id="U0GONE01")
    slack.fail_method("chat.postMessage", "user_not_found")
    send("dm", "U0GONE01", django_capture_on_commit_callbacks)

    client.force_login(person)
    page = client.get(reverse("ownership:profile")).content.decode()
    assert "Slack has no member U0GONE01" in page
    assert client.get("/api/v1/me/").json()["reachability"]["slack_problems"] == [
        SlackProblem.objects.get(person=person).words
    ]


def test_revoked_token_is_a_workspace_problem_and_a_transient_error_only_a_failure(
    slack, django_capture_on_commit_callbacks
):
    TeamFactory(slack_channel="C0OPS")
    slack.fail_method("chat.postMessage", "token_revoked")
    send("revoked", "C0OPS", django_capture_on_commit_callbacks)
    assert SlackProblem.objects.get().key == "workspace"

    slack.reply_next(500, {"ok": False, "error": "internal_error"})
    with pytest.raises(Retry), django_capture_on_commit_callbacks(execute=True):  # the eager task retries
        notify(key="flaky", topic="INC-2", subject="s", text="t", slack=["C0OPS"], outbox=[])
    assert SlackProblem.objects.count() == 1  # a temporary error needs nobody
    assert list(SlackCallFailure.objects.values_list("error", flat=True)[:2]) == ["internal_error", "token_revoked"]
