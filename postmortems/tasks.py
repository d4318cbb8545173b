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


@shared_task(name="postmortems.reminder_settled_edit", bind=True, acks_late=True, max_retries=None)
def reminder_settled_edit_task(self, delivery_id: int | list[int]) -> str:
    """Edit the Slack message of one settled reminder delivery (``reminders.settle``). Safe to run twice: the
    edit is claimed first. Retries a temporary Slack error at the row's time (Retry-After, else backoff); longer
    waits are left to the sweep. A list of ids (a message queued by an earlier version) is split into one task each.
    """
    from .reminders.settle import _enqueue, reminder_settled_edit

    if isinstance(delivery_id, list):
        _enqueue(delivery_id)
        return "split"
    try:
        return reminder_settled_edit(delivery_id)
    except NotifyTransientError as exc:
        raise self.retry(exc=exc, countdown=exc.retry_in) from exc
