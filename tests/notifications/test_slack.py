"""The Slack backend against a real local HTTP server, through the real slack_sdk client.

Covers how Slack's replies map onto our three error types, and what a rate
limit does to a reminder delivery and to its Celery task (FIELD-CASES BR-13:
wait at least ``Retry-After``, never lose the reminder, post it exactly once).
"""

import datetime as dt

import pytest
import time_machine
from celery.exceptions import Retry
from django.utils import timezone

from notifications.base import Message, NotifyPermanentError, NotifyRateLimited, NotifyTransientError
from notifications.problems import open_slack_problems
from notifications.slack import SlackBackend
from postmortems.models import ReminderDelivery
from postmortems.reminders import reminder_deliver
from postmortems.services import postmortem_snooze
from postmortems.tasks import reminder_deliver_task
from tests.fakes import closed_port_url

from .conftest import OWNER_SLACK_ID, TOKEN
from .worker import run_as_worker_would

MESSAGE = Message(address="U0ALICE01", subject="INC-7: no regression test", text="INC-7 needs a regression test")


# --- the backend alone ----------------------------------------------------------------------------


def test_ok_reply_returns_the_message_ts(slack_settings, fake_slack):
    message = Message(address="U0ALICE01", subject="s", text="INC-7 needs a test", url="http://sredesk.test/pm/7/")

    ts = SlackBackend().send(message)

    [request] = fake_slack.posts()
    assert ts == request.reply["ts"]
    assert request.authorization == f"Bearer {TOKEN}"
    assert request.channel == "U0ALICE01"
    assert request.text == "INC-7 needs a test\n<http://sredesk.test/pm/7/|Open in sredesk>"
    assert request.body.get("unfurl_links") in (False, "false", "0")


def test_429_raises_rate_limited_with_retry_after(slack_settings, fake_slack):
    fake_slack.rate_limit_next(retry_after=30)

    with pytest.raises(NotifyRateLimited) as info:
        SlackBackend().send(MESSAGE)

    assert info.value.retry_after == 30
    assert isinstance(info.value, NotifyTransientError)  # retried, not dropped
    assert len(fake_slack.posts()) == 1  # the client itself did not retry in a tight loop


def test_429_without_retry_after_waits_30_seconds(slack_settings, fake_slack):
    fake_slack.reply_next(429, {"ok": False, "error": "ratelimited"})

    with pytest.raises(NotifyRateLimited) as info:
        SlackBackend().send(MESSAGE)

    assert info.value.retry_after == 30


@pytest.mark.parametrize("error", ["channel_not_found", "invalid_auth", "not_in_channel", "is_archived"])
def test_refusals_are_permanent(slack_settings, fake_slack, error):
    fake_slack.reply_next(200, {"ok": False, "error": error})

    with pytest.raises(NotifyPermanentError, match=error):
        SlackBackend().send(MESSAGE)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, "<html><body>Internal Server Error</body></html>"),
        (503, {"ok": False, "error": "service_unavailable"}),
        (200, {"ok": False, "error": "internal_error"}),
    ],
    ids=["500-html", "503-json", "200-internal_error"],
)
def test_server_errors_are_transient(slack_settings, fake_slack, status, body):
    fake_slack.reply_next(status, body)

    with pytest.raises(NotifyTransientError) as info:
        SlackBackend().send(MESSAGE)

    assert not isinstance(info.value, NotifyRateLimited)


def test_closed_port_is_transient(settings):
    settings.SLACK_BOT_TOKEN = TOKEN
    settings.SREDESK_SLACK_API_URL = closed_port_url()

    with pytest.raises(NotifyTransientError, match="unreachable"):
        SlackBackend().send(MESSAGE)


def test_no_reply_within_the_timeout_is_transient(slack_settings, fake_slack):
    slack_settings.SREDESK_SLACK_TIMEOUT_SECONDS = 1
    fake_slack.reply_next(200, {"ok": True, "ts": "1.000001"}, delay=2.5)

    with pytest.raises(NotifyTransientError):
        SlackBackend().send(MESSAGE)


def test_a_lost_reply_is_not_resent_behind_the_ledgers_back(slack_settings, fake_slack):
    """Slack took the message but the connection dropped before its reply: the backend must not post it again.

    A resend must go through the delivery ledger, where it is counted
    (``attempts`` 2) and visible. slack_sdk's default retry handler re-posts on
    ``RemoteDisconnected`` / ``ConnectionResetError`` by itself, so the owner
    gets the reminder twice while the ledger says it was sent once.
    """
    fake_slack.drop_next()

    with pytest.raises(NotifyTransientError):
        SlackBackend().send(MESSAGE)

    assert len(fake_slack.posts()) == 1


# --- through the delivery service and the Celery task -----------------------------------------------


def test_deliver_sends_to_slack(slack_delivery, fake_slack):
    assert reminder_deliver(delivery_id=slack_delivery.pk) == "sent"

    slack_delivery.refresh_from_db()
    [post] = fake_slack.posts(channel=OWNER_SLACK_ID)
    assert slack_delivery.status == ReminderDelivery.Status.SENT
    assert slack_delivery.external_ref == post.reply["ts"]
    assert slack_delivery.conversation == post.reply["channel"]  # the DM's D… id: what chat.update needs
    assert f"{slack_delivery.reminder.postmortem.incident.public_id} post-mortem has no regression test" in post.text


def test_a_snoozed_reminder_s_slack_message_is_edited_in_place_without_its_buttons(
    slack_delivery, fake_slack, django_capture_on_commit_callbacks
):
    reminder_deliver(delivery_id=slack_delivery.pk)
    slack_delivery.refresh_from_db()
    postmortem = slack_delivery.reminder.postmortem
    owner = postmortem.owner
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_snooze(
            postmortem_id=postmortem.pk, until=timezone.now() + dt.timedelta(days=1), reason="vendor", actor=owner,
            source="web",
        )  # fmt: skip

    [update] = fake_slack.calls("chat.update")
    assert (update.body["channel"], update.body["ts"]) == (slack_delivery.conversation, slack_delivery.external_ref)
    message = fake_slack.message(slack_delivery.conversation, slack_delivery.external_ref)
    assert not [b for b in message.get("blocks") or [] if b.get("type") == "actions"]
    assert f"Settled by {owner} at " in message["text"] and "(vendor)" in message["text"]


def test_a_settled_reminder_slack_will_not_let_sredesk_edit_is_a_visible_problem(
    slack_delivery, fake_slack, django_capture_on_commit_callbacks
):
    reminder_deliver(delivery_id=slack_delivery.pk)
    postmortem = slack_delivery.reminder.postmortem
    fake_slack.fail_method("chat.update", "account_inactive")
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_snooze(
            postmortem_id=postmortem.pk, until=timezone.now() + dt.timedelta(days=1), reason="vendor",
            actor=postmortem.owner, source="web",
        )  # fmt: skip

    slack_delivery.refresh_from_db()
    assert slack_delivery.settled_edited_at is None and "account_inactive" in slack_delivery.last_error
    assert open_slack_problems().filter(key="workspace", error="account_inactive", method="chat.update").exists()


def test_a_reminder_carries_the_buttons_that_settle_it_in_slack(slack_delivery, fake_slack):
    """Issue 16: a reminder can be settled where it arrived: link a test, snooze, not testable, or open it."""
    assert reminder_deliver(delivery_id=slack_delivery.pk) == "sent"

    [post] = fake_slack.posts(channel=OWNER_SLACK_ID)
    section, actions = post.body["blocks"]
    assert section["text"]["text"] == post.text  # the same words as the notification's fallback text
    pm_id = str(slack_delivery.reminder.postmortem_id)
    assert [(e["text"]["text"], e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("Link regression test…", "reminder.link_test", pm_id),
        ("Snooze…", "reminder.snooze", pm_id),
        ("Not testable…", "reminder.not_testable", pm_id),
        ("Open post-mortem", "reminder.open", pm_id),
    ]
    assert actions["elements"][-1]["url"].endswith(f"/postmortems/{pm_id}/")


def test_a_message_without_buttons_is_plain_text(slack_settings, fake_slack):
    SlackBackend().send(MESSAGE)

    assert "blocks" not in fake_slack.posts()[0].body


def test_deliver_rate_limited_leaves_the_delivery_pending(slack_delivery, fake_slack):
    fake_slack.rate_limit_next(retry_after=30)

    with pytest.raises(NotifyRateLimited):
        reminder_deliver(delivery_id=slack_delivery.pk)

    slack_delivery.refresh_from_db()
    assert slack_delivery.status == ReminderDelivery.Status.PENDING
    assert slack_delivery.attempts == 1
    assert "rate limited" in slack_delivery.last_error
    assert slack_delivery.sent_at is None


def test_deliver_permanent_error_fails_the_delivery(slack_delivery, fake_slack):
    fake_slack.reply_next(200, {"ok": False, "error": "user_not_found"})

    assert reminder_deliver(delivery_id=slack_delivery.pk) == "failed"

    slack_delivery.refresh_from_db()
    assert slack_delivery.status == ReminderDelivery.Status.FAILED
    assert "user_not_found" in slack_delivery.last_error


@pytest.fixture
def eager_retries():
    """Let eager ``apply`` re-run retried tasks: with ``task_eager_propagates`` it raises the first Retry instead."""
    conf = reminder_deliver_task.app.conf
    before = conf.task_eager_propagates
    conf.task_eager_propagates = False
    yield
    conf.task_eager_propagates = before


def test_task_retries_a_rate_limited_delivery_until_it_is_posted_once(slack_delivery, fake_slack):
    """Each 429 holds the row until Retry-After: a copy of the task that runs early changes nothing."""
    fake_slack.rate_limit_next(retry_after=30, times=2)
    start = timezone.now()
    countdowns = []
    for offset in (0, 31, 62):
        with time_machine.travel(start + dt.timedelta(seconds=offset), tick=False):
            try:
                outcome = run_as_worker_would(reminder_deliver_task, slack_delivery.pk)
            except Retry as retry:
                countdowns.append(retry.when)
                # A duplicate message for the same delivery, delivered at once (a second sweep, a redelivery).
                assert run_as_worker_would(reminder_deliver_task, slack_delivery.pk) == "not_pending"

    assert outcome == "sent"
    slack_delivery.refresh_from_db()
    assert (slack_delivery.status, slack_delivery.attempts) == (ReminderDelivery.Status.SENT, 3)
    assert [r.status for r in fake_slack.posts()] == [429, 429, 200]
    assert len(fake_slack.ok_posts(channel=OWNER_SLACK_ID)) == 1
    assert countdowns == [30, 30]


def test_task_retry_countdown_honours_retry_after(slack_delivery, fake_slack):
    fake_slack.rate_limit_next(retry_after=30)

    with pytest.raises(Retry) as info:
        run_as_worker_would(reminder_deliver_task, slack_delivery.pk)

    assert info.value.when >= 30
    assert info.value.sig.options["countdown"] >= 30
    slack_delivery.refresh_from_db()
    assert slack_delivery.status == ReminderDelivery.Status.PENDING


@pytest.mark.parametrize(("earlier_attempts", "countdown"), [(0, 5), (3, 40), (5, 160)])
def test_task_retry_backs_off_on_server_errors(slack_delivery, fake_slack, earlier_attempts, countdown):
    """Backoff follows the row's attempts (5 s, 10 s, 20 s, ...), so redeliveries and sweeps count too."""
    ReminderDelivery.objects.filter(pk=slack_delivery.pk).update(attempts=earlier_attempts)
    fake_slack.reply_next(500, "<html>oops</html>")

    with pytest.raises(Retry) as info:
        run_as_worker_would(reminder_deliver_task, slack_delivery.pk)

    assert info.value.when == countdown
    slack_delivery.refresh_from_db()
    assert slack_delivery.not_before > timezone.now() + dt.timedelta(seconds=countdown - 5)


def test_a_wait_longer_than_a_broker_should_hold_is_left_to_the_sweep(slack_delivery, fake_slack):
    """BR-17: a Retry-After of two hours is not a two-hour broker ETA; the row keeps the time."""
    fake_slack.rate_limit_next(retry_after=7200)

    assert run_as_worker_would(reminder_deliver_task, slack_delivery.pk) == "deferred"

    slack_delivery.refresh_from_db()
    assert slack_delivery.queued_at is None and slack_delivery.status == "pending"
    assert slack_delivery.not_before > timezone.now() + dt.timedelta(seconds=7100)
