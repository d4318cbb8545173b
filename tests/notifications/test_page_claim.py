"""A page whose worker died is sent again within a minute, not after the reminders' 10-minute claim timeout.

Issue 12 ("Reliability seen under faults"): an announcement claimed by a
worker that died waited ``SREDESK_NOTIFY_REDELIVER_AFTER_SECONDS`` (600 s) before the
beat sent it again. Announcements now use ``SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS``
(60 s); reminders keep theirs.
"""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from notifications.models import DeliveryBase, Notification, OutboxMessage
from notifications.services import notify
from notifications.tasks import notifications_requeue_stuck_task
from postmortems import reminders
from postmortems.models import ReminderDelivery
from tests.factories import PostMortemFactory
from tests.sredesk.test_settings import settings_in_subprocess

pytestmark = pytest.mark.django_db
Status = DeliveryBase.Status


def claimed_by_a_worker_that_died(model, pk: int, at: dt.datetime) -> None:
    """What ``deliver`` leaves behind when its worker is killed between the claim and the send."""
    model.objects.filter(pk=pk).update(status=Status.SENDING, claimed_at=at, attempts=1)


def test_a_page_whose_worker_died_is_sent_again_after_the_page_claim_timeout(
    settings, django_capture_on_commit_callbacks
):
    settings.SREDESK_NOTIFY_REDELIVER_AFTER_SECONDS = 600
    settings.SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS = 60
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=False):  # the worker that took it died: nothing sent
        notify(
            key="incident-declared:7",
            topic="INC-7",
            subject="INC-7 declared: checkout down",
            text="SEV1",
            slack=[],
            outbox=["person:sam"],
        )
    page = Notification.objects.get()
    claimed_by_a_worker_that_died(Notification, page.pk, start)

    with (
        time_machine.travel(start + dt.timedelta(seconds=30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notifications_requeue_stuck_task()
    page.refresh_from_db()
    assert page.status == Status.SENDING, "a send that may still be in flight was taken from its worker"

    with (
        time_machine.travel(start + dt.timedelta(seconds=61), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert notifications_requeue_stuck_task() == 1
    page.refresh_from_db()
    assert (page.status, page.attempts) == (Status.SENT, 2)
    assert OutboxMessage.objects.filter(recipient="person:sam", subject__contains="INC-7 declared").count() == 1


def test_reminders_keep_their_longer_claim_timeout(settings, django_capture_on_commit_callbacks):
    """A reminder is not urgent: a claim 61 s old may be a slow worker, so it waits the 600 s."""
    settings.SREDESK_NOTIFY_REDELIVER_AFTER_SECONDS = 600
    settings.SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS = 60
    PostMortemFactory(published=True, published_at=timezone.now() - dt.timedelta(days=1))
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=False):
        reminders.reminders_plan_due(now=start)
    delivery = ReminderDelivery.objects.first()
    claimed_by_a_worker_that_died(ReminderDelivery, delivery.pk, start)

    with django_capture_on_commit_callbacks(execute=False):
        reminders.reminders_requeue_stuck(now=start + dt.timedelta(seconds=61))
    delivery.refresh_from_db()
    assert delivery.status == Status.SENDING

    with django_capture_on_commit_callbacks(execute=False):
        reminders.reminders_requeue_stuck(now=start + dt.timedelta(seconds=601))
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING


def test_the_page_claim_timeout_must_outlast_one_channel_call():
    """A claim timeout shorter than a Slack or SMTP call would re-send pages still in flight: refused at start."""
    result = settings_in_subprocess(
        "settings.SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS",
        SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS="10",
        SREDESK_SLACK_TIMEOUT_SECONDS="10",
    )
    assert result.returncode != 0
    assert "SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS='10.0': must exceed" in result.stderr.strip().splitlines()[-1]
