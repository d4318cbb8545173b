"""Celery tasks of the notification layer: thin wrappers over ``notifications.delivery``."""

from celery import shared_task
from django.utils import timezone

from .base import Message, NotifyRateLimited, NotifyTransientError
from .delivery import deliver, requeue_stuck
from .models import Notification
from .services import _enqueue


def _message(row: Notification) -> Message:
    return Message(
        address=row.address, subject=row.subject, text=row.text, url=row.url, dedup_key=f"notification:{row.pk}"
    )


def retry_countdown(exc: NotifyTransientError, retries: int) -> float:
    """Seconds before the next attempt: the channel's Retry-After, else exponential backoff capped at 10 minutes."""
    if isinstance(exc, NotifyRateLimited):
        return max(exc.retry_after, 1.0)
    return float(min(2**retries * 5, 600))


@shared_task(name="notify.notification_deliver", bind=True, acks_late=True, max_retries=None)
def notification_deliver_task(self, notification_id: int) -> str:
    """Deliver one Notification (by id). Safe to run twice: the row is claimed first."""
    try:
        return deliver(Notification.objects.all(), notification_id, build=_message)
    except NotifyTransientError as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(exc, self.request.retries)) from exc


@shared_task(name="notifications.requeue_stuck")
def notifications_requeue_stuck_task() -> int:
    """Beat entry: re-enqueue notifications whose worker died or whose message was lost."""
    return requeue_stuck(Notification, now=timezone.now(), enqueue=_enqueue)


@shared_task(name="notifications.purge_old")
def notifications_purge_old_task() -> int:
    """Beat entry: delete outbox messages and finished deliveries older than the retention period."""
    from .services import notifications_purge_old

    return notifications_purge_old(now=timezone.now())
