"""The reminder loop: one reminder per due step, to the owner, until a regression test is linked."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from notifications.base import NotifyPermanentError, NotifyTransientError
from notifications.models import OutboxMessage
from postmortems import reminders
from postmortems.ci import ci_run_upload
from postmortems.models import PostMortem, Reminder, ReminderDelivery
from postmortems.regression_tests import regression_test_link
from tests.factories import (
    MembershipFactory,
    PostMortemFactory,
    RegressionTestFactory,
    RepositoryFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def sweep(django_capture_on_commit_callbacks, now=None):
    with time_machine.travel(now or timezone.now(), tick=False), django_capture_on_commit_callbacks(execute=True):
        return reminders.reminders_sweep(now=now)


def test_published_postmortem_without_test_reminds_its_owner_once(django_capture_on_commit_callbacks):
    postmortem = PostMortemFactory(published=True, owner=UserFactory(username="ana"))

    result = sweep(django_capture_on_commit_callbacks)
    sweep(django_capture_on_commit_callbacks)

    assert result.planned == 1
    message = OutboxMessage.objects.get()
    incident = postmortem.incident
    assert message.recipient == "user:ana"
    assert message.text.startswith(f"{incident.public_id} post-mortem has no regression test: link one at http")
    assert message.text.endswith(f"/postmortems/{postmortem.pk}/link-test/")
    delivery = ReminderDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 1)


def test_slack_dm_goes_to_the_owner_when_slack_is_configured(
    slack_on, memory_notifier, django_capture_on_commit_callbacks
):
    postmortem = PostMortemFactory(published=True, owner=UserFactory(slack_user_id="U0OWNER01"))

    sweep(django_capture_on_commit_callbacks)
    sweep(django_capture_on_commit_callbacks)

    assert [m.address for m in memory_notifier] == ["U0OWNER01"]
    assert postmortem.incident.public_id in memory_notifier[0].text
    assert OutboxMessage.objects.count() == 1


def test_without_owner_the_team_lead_is_reminded(django_capture_on_commit_callbacks):
    team = TeamFactory()
    MembershipFactory(team=team, user=UserFactory(username="lead"), role="lead")
    PostMortemFactory(published=True, owner=None, incident__owning_team=team)

    sweep(django_capture_on_commit_callbacks)

    assert OutboxMessage.objects.get().recipient == "user:lead"


PASSING_RUN = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="1" errors="0" failures="0" skipped="0">
<testcase classname="tests.payments.test_retry" name="test_timeout_is_retried[eu]" time="0.01"/>
</testsuite></testsuites>"""


def test_reminders_follow_the_cadence_until_ci_sees_the_test_pass(django_capture_on_commit_callbacks):
    start = timezone.now()
    postmortem = PostMortemFactory(published=True, published_at=start)
    for offset in (dt.timedelta(0), DAY, DAY + dt.timedelta(hours=5), 3 * DAY):
        sweep(django_capture_on_commit_callbacks, now=start + offset)
    assert list(postmortem.reminders.order_by("step").values_list("step", flat=True)) == [0, 1, 2]

    repository = RepositoryFactory(default_branch="main")
    regression_test_link(
        postmortem=postmortem,
        repository=repository,
        test_id="tests/payments/test_retry.py::test_timeout_is_retried[eu]",
        actor=postmortem.owner,
    )
    sweep(django_capture_on_commit_callbacks, now=start + 7 * DAY)
    assert postmortem.reminders.count() == 4  # linked is a promise, not yet a test CI has seen pass
    assert "no regression test verified in CI yet (linked: linked)" in OutboxMessage.objects.first().text

    with django_capture_on_commit_callbacks(execute=True):
        ci_run_upload(repository=repository, branch="main", commit="abc123", content=PASSING_RUN, complete=True)
    for offset in (14 * DAY, 21 * DAY):
        sweep(django_capture_on_commit_callbacks, now=start + offset)

    assert postmortem.regression_tests.get().state == "verified"
    assert postmortem.reminders.count() == 4
    assert OutboxMessage.objects.count() == 4


def test_a_linked_test_is_enough_for_a_service_whose_ci_does_not_report(django_capture_on_commit_callbacks):
    postmortem = PostMortemFactory(published=True, incident__primary_service=ServiceFactory(ci_reports_tests=False))
    regression_test_link(
        postmortem=postmortem, repository=RepositoryFactory(), test_id="pkg/x_test.go::TestX", actor=None
    )
    assert sweep(django_capture_on_commit_callbacks).planned == 0


@pytest.mark.parametrize(
    ("offset_days", "step"),
    [(0, 0), (0.5, 0), (1, 1), (2.9, 1), (3, 2), (7, 3), (14, 4), (20.9, 4), (21, 5), (28, 6)],
)
def test_cadence_steps(offset_days, step):
    since = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
    found_step, due_at = reminders.cadence_step(since, since + dt.timedelta(days=offset_days))
    assert found_step == step
    assert due_at <= since + dt.timedelta(days=offset_days)


def test_complete_and_not_yet_due_postmortems_get_no_reminder(django_capture_on_commit_callbacks):
    PostMortemFactory(complete=True)
    PostMortemFactory(status=PostMortem.Status.DRAFT, due_at=timezone.now() + DAY)
    PostMortemFactory(status=PostMortem.Status.IN_REVIEW, due_at=timezone.now() + DAY)

    assert sweep(django_capture_on_commit_callbacks).planned == 0
    assert not OutboxMessage.objects.exists()


def test_draft_past_its_due_date_is_reminded(django_capture_on_commit_callbacks):
    PostMortemFactory(status=PostMortem.Status.DRAFT, due_at=timezone.now() - dt.timedelta(hours=1))

    assert sweep(django_capture_on_commit_callbacks).planned == 1
    assert OutboxMessage.objects.count() == 1


def test_reminder_planned_before_the_link_is_skipped_at_send_time():
    postmortem = PostMortemFactory(published=True)
    reminders.reminders_plan_due(now=timezone.now())  # deliveries planned, not yet sent
    RegressionTestFactory(postmortem=postmortem, state="verified")

    delivery = ReminderDelivery.objects.get()
    assert reminders.reminder_deliver(delivery_id=delivery.pk) == "skipped"
    delivery.refresh_from_db()
    assert delivery.status == "skipped"
    assert delivery.last_error == "post-mortem has a verified regression test"
    assert not OutboxMessage.objects.exists()


def test_a_delivery_is_sent_once_however_often_its_task_runs():
    PostMortemFactory(published=True)
    reminders.reminders_plan_due(now=timezone.now())
    delivery = ReminderDelivery.objects.get()

    outcomes = [reminders.reminder_deliver(delivery_id=delivery.pk) for _ in range(3)]

    assert outcomes == ["sent", "not_pending", "not_pending"]
    assert OutboxMessage.objects.count() == 1


class FailingBackend:
    error: Exception = NotifyTransientError("Slack unreachable")

    def send(self, message):
        raise self.error


@pytest.fixture
def failing_slack(settings, slack_on):
    from notifications import base

    settings.SREDESK_NOTIFY_BACKENDS = {**settings.SREDESK_NOTIFY_BACKENDS, "slack": f"{__name__}.FailingBackend"}
    base._backend.cache_clear()
    yield FailingBackend
    FailingBackend.error = NotifyTransientError("Slack unreachable")


def slack_delivery() -> ReminderDelivery:
    PostMortemFactory(published=True, owner=UserFactory(slack_user_id="U0OWNER01"))
    reminders.reminders_plan_due(now=timezone.now())
    return ReminderDelivery.objects.get(channel="slack")


def test_transient_error_puts_the_delivery_back_for_a_retry(failing_slack):
    delivery = slack_delivery()

    with pytest.raises(NotifyTransientError):
        reminders.reminder_deliver(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "Slack unreachable")


def test_permanent_error_fails_the_delivery_visibly(failing_slack):
    failing_slack.error = NotifyPermanentError("Slack refused the message: channel_not_found")
    delivery = slack_delivery()

    assert reminders.reminder_deliver(delivery_id=delivery.pk) == "failed"

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert "channel_not_found" in delivery.last_error


def test_out_of_attempts_the_delivery_fails(failing_slack, settings):
    settings.SREDESK_NOTIFY_MAX_ATTEMPTS = 1
    delivery = slack_delivery()

    assert reminders.reminder_deliver(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert "gave up after 1 attempts" in delivery.last_error


def test_sweep_requeues_a_delivery_whose_worker_died(django_capture_on_commit_callbacks, settings):
    PostMortemFactory(published=True)
    now = timezone.now()
    reminders.reminders_plan_due(now=now)  # enqueue lost: on-commit callbacks never ran
    delivery = ReminderDelivery.objects.get()
    ReminderDelivery.objects.filter(pk=delivery.pk).update(status="sending", claimed_at=now, attempts=1)

    early = sweep(django_capture_on_commit_callbacks, now=now + dt.timedelta(seconds=60))
    with time_machine.travel(now + dt.timedelta(minutes=11), tick=False):
        late = sweep(django_capture_on_commit_callbacks, now=now + dt.timedelta(minutes=11))

    assert (early.requeued, late.requeued) == (0, 1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert OutboxMessage.objects.count() == 1


def test_sweep_requeues_a_pending_delivery_whose_message_was_lost(django_capture_on_commit_callbacks):
    PostMortemFactory(published=True)
    now = timezone.now()
    reminders.reminders_plan_due(now=now)
    reminders.reminders_release(now=now)  # enqueued, but the message never reaches a worker

    with time_machine.travel(now + dt.timedelta(minutes=11), tick=False):
        result = sweep(django_capture_on_commit_callbacks, now=now + dt.timedelta(minutes=11))

    assert (result.released, result.requeued) == (0, 1)
    assert ReminderDelivery.objects.get().status == "sent"


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_send_no_duplicate(requires_postgres, slack_on, memory_notifier):
    owners = [UserFactory(slack_user_id=f"U0OWNER{i:02d}") for i in range(5)]
    for owner in owners:
        PostMortemFactory(published=True, owner=owner)
    now = timezone.now()
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait(timeout=10)
            reminders.reminders_sweep(now=now)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    assert Reminder.objects.count() == 5
    assert ReminderDelivery.objects.filter(status="sent").count() == 10
    assert OutboxMessage.objects.count() == 5
    assert sorted(m.address for m in memory_notifier) == sorted(o.slack_user_id for o in owners)
