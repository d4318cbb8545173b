"""A settled reminder's Slack message is edited in place by a retried, idempotent worker job, through the real
SlackBackend against the local Slack stand-in (FakeSlack): Slack's 429 and 5xx are waited out with the delivery
step's rules, an error a person must fix is a visible problem and is not retried, and the message is edited once
however many workers, copies of the task and settlements there are."""

import datetime as dt
import threading

import pytest
import time_machine
from celery.exceptions import Retry
from django.db import connection
from django.utils import timezone

from notifications.problems import open_slack_problems
from postmortems.models import ReminderDelivery
from postmortems.reminders import reminder_deliver, reminders_sweep
from postmortems.reminders.settle import reminder_settled_edit, settled_edits_release
from postmortems.services import postmortem_snooze
from postmortems.tasks import reminder_settled_edit_task
from tests.factories import PostMortemFactory, UserFactory

from .conftest import OWNER_SLACK_ID
from .worker import run_as_worker_would


def _snooze(postmortem, reason="vendor"):
    postmortem_snooze(
        postmortem_id=postmortem.pk, until=timezone.now() + dt.timedelta(days=1), reason=reason,
        actor=postmortem.owner, source="web",
    )  # fmt: skip


@pytest.fixture
def settled(slack_delivery, fake_slack, django_capture_on_commit_callbacks):
    """A reminder posted to Slack, then snoozed from the web: its edit is owed, its task not yet run."""
    assert reminder_deliver(delivery_id=slack_delivery.pk) == "sent"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _snooze(slack_delivery.reminder.postmortem)
    assert callbacks  # the edit is enqueued after commit; the test runs the task as a worker would
    slack_delivery.refresh_from_db()
    assert slack_delivery.settled_at is not None and slack_delivery.settled_edited_at is None
    return slack_delivery


def _edited(fake_slack, delivery) -> list:
    """The chat.update requests Slack answered ok for ``delivery``'s message."""
    return [
        r
        for r in fake_slack.calls("chat.update")
        if r.status == 200
        and (r.body.get("channel"), r.body.get("ts")) == (delivery.conversation, delivery.external_ref)
    ]


def test_a_rate_limited_edit_waits_out_retry_after_and_edits_the_message_once(settled, fake_slack):
    fake_slack.rate_limit_next(retry_after=30)
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        with pytest.raises(Retry) as retry:
            run_as_worker_would(reminder_settled_edit_task, settled.pk)
        # A copy of the task run at once (a second settlement's, the sweep's) waits too.
        assert run_as_worker_would(reminder_settled_edit_task, settled.pk) == "not_owed"
    with time_machine.travel(start + dt.timedelta(seconds=31), tick=False):
        assert run_as_worker_would(reminder_settled_edit_task, settled.pk) == "edited"
        assert run_as_worker_would(reminder_settled_edit_task, settled.pk) == "not_owed"

    assert retry.value.when == 30
    assert [r.status for r in fake_slack.calls("chat.update")] == [429, 200]
    assert len(_edited(fake_slack, settled)) == 1
    message = fake_slack.message(settled.conversation, settled.external_ref)
    assert f"Settled by {settled.reminder.postmortem.owner} at " in message["text"] and "(vendor)" in message["text"]
    assert not [b for b in message.get("blocks") or [] if b.get("type") == "actions"]
    settled.refresh_from_db()
    assert settled.settled_edited_at is not None and settled.settled_edit_attempts == 2
    assert settled.last_error == ""


@pytest.mark.parametrize(
    ("earlier_attempts", "countdown"), [(0, 5), (3, 40)], ids=["first try: 5 s", "fourth try: 40 s"]
)
def test_a_slack_server_error_backs_off_as_deliveries_do(settled, fake_slack, earlier_attempts, countdown):
    ReminderDelivery.objects.filter(pk=settled.pk).update(settled_edit_attempts=earlier_attempts)
    fake_slack.reply_next(503, "<html>Service Unavailable</html>", method="chat.update")

    with pytest.raises(Retry) as retry:
        run_as_worker_would(reminder_settled_edit_task, settled.pk)

    assert retry.value.when == countdown
    settled.refresh_from_db()
    assert settled.settled_edited_at is None and "settled, not edited" in settled.last_error
    assert settled.settled_edit_not_before > timezone.now() + dt.timedelta(seconds=countdown - 5)


def test_a_slack_timeout_is_retried(settled, fake_slack, slack_settings):
    fake_slack.reply_next(200, {"ok": True}, delay=slack_settings.SREDESK_SLACK_TIMEOUT_SECONDS + 0.5)

    with pytest.raises(Retry):
        run_as_worker_would(reminder_settled_edit_task, settled.pk)

    settled.refresh_from_db()
    assert settled.settled_edited_at is None and settled.settled_edit_failed_at is None


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found", "invalid_auth", "account_inactive"])
def test_an_edit_a_person_must_fix_is_a_visible_problem_and_is_not_retried(settled, fake_slack, error):
    fake_slack.fail_method("chat.update", error, times=5)

    assert run_as_worker_would(reminder_settled_edit_task, settled.pk) == "failed"

    problem = open_slack_problems().get(error=error)
    assert problem.method == "chat.update"
    settled.refresh_from_db()
    assert settled.settled_edit_failed_at is not None and error in settled.last_error
    later = timezone.now() + dt.timedelta(hours=2)
    assert settled_edits_release(now=later) == 0  # the sweep does not pick it up again
    assert run_as_worker_would(reminder_settled_edit_task, settled.pk) == "not_owed"
    assert len(fake_slack.calls("chat.update")) == 1


def test_an_edit_gives_up_when_its_attempts_are_used_up(settled, fake_slack, settings):
    ReminderDelivery.objects.filter(pk=settled.pk).update(
        settled_edit_attempts=settings.SREDESK_NOTIFY_MAX_ATTEMPTS - 1
    )
    fake_slack.reply_next(500, {"ok": False, "error": "internal_error"}, method="chat.update")

    assert run_as_worker_would(reminder_settled_edit_task, settled.pk) == "failed"

    settled.refresh_from_db()
    assert settled.settled_edit_failed_at is not None and settled.settled_edited_at is None


def test_a_wait_too_long_for_the_broker_is_released_by_the_sweep_when_due(settled, fake_slack):
    fake_slack.rate_limit_next(retry_after=7200)

    assert run_as_worker_would(reminder_settled_edit_task, settled.pk) == "deferred"

    assert settled_edits_release(now=timezone.now() + dt.timedelta(seconds=3600)) == 0
    later = timezone.now() + dt.timedelta(seconds=7300)
    assert settled_edits_release(now=later) == 1
    with time_machine.travel(later, tick=False):
        assert reminders_sweep(now=later).edits == 1
        assert run_as_worker_would(reminder_settled_edit_task, settled.pk) == "edited"
    assert len(_edited(fake_slack, settled)) == 1


def test_a_second_settlement_does_not_edit_the_message_again(settled, fake_slack, django_capture_on_commit_callbacks):
    assert run_as_worker_would(reminder_settled_edit_task, settled.pk) == "edited"
    first = fake_slack.message(settled.conversation, settled.external_ref)["text"]

    with django_capture_on_commit_callbacks(execute=True):
        _snooze(settled.reminder.postmortem, reason="still waiting on the vendor")

    assert run_as_worker_would(reminder_settled_edit_task, settled.pk) == "not_owed"
    assert len(_edited(fake_slack, settled)) == 1
    assert fake_slack.message(settled.conversation, settled.external_ref)["text"] == first
    assert settled_edits_release(now=timezone.now() + dt.timedelta(hours=1)) == 0


def test_an_edit_queued_by_the_earlier_task_shape_is_still_made(settled, fake_slack):
    """A message queued before the upgrade carries a list of ids: each is still edited, once."""
    reminder_settled_edit_task.delay([settled.pk])

    assert len(_edited(fake_slack, settled)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_editing_the_same_settled_reminder_at_once_edit_it_once(
    real_slack_channel, fake_slack, requires_postgres
):
    owner = UserFactory(slack_user_id=OWNER_SLACK_ID)
    postmortem = PostMortemFactory(published=True, owner=owner)
    reminders_sweep()  # commits: its enqueued delivery may already have run
    delivery = ReminderDelivery.objects.get(reminder__postmortem=postmortem, channel=ReminderDelivery.Channel.SLACK)
    reminder_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == ReminderDelivery.Status.SENT
    # What reminders_settle leaves (its own after-commit task would edit at once in this eager test process).
    ReminderDelivery.objects.filter(pk=delivery.pk).update(
        settled_at=timezone.now(), settled_text="Settled by Ana Ops at 2026-12-05 10:02 UTC: snoozed."
    )
    fake_slack.reply_next(200, {"ok": True}, delay=0.5, method="chat.update", times=2)  # slow: both in the window
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(reminder_settled_edit(delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == ["edited", "not_owed"]
    assert len(fake_slack.calls("chat.update")) == 1
    delivery.refresh_from_db()
    assert delivery.settled_edited_at is not None and delivery.settled_edit_attempts == 1
