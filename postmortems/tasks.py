"""Celery tasks: thin wrappers over ``postmortems.reminders``."""

from celery import shared_task

from notifications.base import NotifyTransientError
from notifications.tasks import retry_countdown

from . import reminders


@shared_task(name="postmortems.reminders_sweep")
def reminders_sweep_task() -> dict:
    """Beat entry: plan due reminders and re-queue stuck deliveries. Returns the counts."""
    result = reminders.reminders_sweep()
    return {"planned": result.planned, "requeued": result.requeued}


@shared_task(name="notify.reminder_deliver", bind=True, acks_late=True, max_retries=None)
def reminder_deliver_task(self, delivery_id: int) -> str:
    """Deliver one reminder (id of a ReminderDelivery). Safe to run twice: the row is claimed first.

    Retries transient channel errors with exponential backoff (capped at 10
    minutes), waiting at least Slack's ``Retry-After`` on HTTP 429; the number
    of attempts is bounded by ``NOTIFY_MAX_ATTEMPTS`` on the delivery row.
    """
    try:
        return reminders.reminder_deliver(delivery_id=delivery_id)
    except NotifyTransientError as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(exc, self.request.retries)) from exc
