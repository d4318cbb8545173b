"""Celery tasks of the notification layer: thin wrappers over ``notifications.delivery``."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .base import Button, Message, NotifyTransientError
from .delivery import deliver, release_due, requeue_stuck
from .models import Notification
from .services import TEST_PAGE_PREFIX, _enqueue, notification_obsolete


def _message(row: Notification) -> Message:
    return Message(
        address=row.address,
        subject=row.subject,
        text=row.text,
        url=row.url,
        dedup_key=f"notification:{row.pk}",
        buttons=tuple(Button(**button) for button in row.buttons),
        topic=row.topic,
        test=row.dedup_key.startswith(TEST_PAGE_PREFIX),
    )


@shared_task(name="notify.notification_deliver", bind=True, acks_late=True, max_retries=None)
def notification_deliver_task(self, notification_id: int) -> str:
    """Deliver one Notification (by id). Safe to run twice: the row is claimed first."""
    try:
        return deliver(Notification.objects.all(), notification_id, build=_message, obsolete=notification_obsolete)
    except NotifyTransientError as exc:
        raise self.retry(exc=exc, countdown=exc.retry_in) from exc


def notification_deliver_now(notification_id: int) -> str:
    """Deliver one Notification in this process, now (a page must not wait behind the ``notify`` queue).

    Safe beside its task, already enqueued: whichever claims the row first sends it, the other finds it not
    pending. A temporary failure is handed to the task, retried at the row's time (``deliver``). Returns the
    outcome (``sent``, ``failed``, ``not_pending``, ``retry``...).
    """
    try:
        return deliver(Notification.objects.all(), notification_id, build=_message, obsolete=notification_obsolete)
    except NotifyTransientError as exc:
        notification_deliver_task.apply_async(args=[notification_id], countdown=exc.retry_in)
        return "retry"


@shared_task(name="notifications.requeue_stuck")
def notifications_requeue_stuck_task() -> int:
    """Beat entry: enqueue notifications whose wait is over, and re-enqueue those whose worker or message was lost.

    Announcements page people about a live incident, so a claim older than
    ``SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS`` (default 60 s, not the reminders' 600 s) counts as lost.
    """
    now = timezone.now()
    released = release_due(Notification, now=now, enqueue=_enqueue)
    after = settings.SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS
    return released + requeue_stuck(Notification, now=now, enqueue=_enqueue, after_seconds=after)


@shared_task(name="notifications.purge_old")
def notifications_purge_old_task() -> int:
    """Beat entry: delete outbox messages and finished deliveries older than the retention period."""
    from .services import notifications_purge_old

    return notifications_purge_old(now=timezone.now())
