"""Celery tasks: thin wrappers over ``postmortems.reminders``."""

import dataclasses

from celery import shared_task

from notifications.base import NotifyTransientError

from . import reminders


@shared_task(name="postmortems.reminders_sweep")
def reminders_sweep_task() -> dict:
    """Beat entry: plan due reminders and re-queue stuck deliveries. Returns the counts (``SweepResult``)."""
    return dataclasses.asdict(reminders.reminders_sweep())


@shared_task(name="notify.reminder_deliver", bind=True, acks_late=True, max_retries=None)
def reminder_deliver_task(self, delivery_id: int) -> str:
    """Deliver one reminder (id of a ReminderDelivery). Safe to run twice: the row is claimed first.

    Retries a temporary channel error when the row allows (its ``not_before``:
    Slack's ``Retry-After`` on HTTP 429, else backoff); longer waits are left
    to the sweep. Attempts are bounded by ``SREDESK_NOTIFY_MAX_ATTEMPTS`` on the row.
    """
    try:
        return reminders.reminder_deliver(delivery_id=delivery_id)
    except NotifyTransientError as exc:
        raise self.retry(exc=exc, countdown=exc.retry_in) from exc


@shared_task(name="postmortems.reminder_settled_edit")
def reminder_settled_edit_task(delivery_ids: list[int]) -> int:
    """Edit the Slack messages of settled reminders (``reminders.settle``); returns how many Slack took."""
    from .reminders.settle import reminder_settled_edit

    return sum(reminder_settled_edit(delivery_id) for delivery_id in delivery_ids)
