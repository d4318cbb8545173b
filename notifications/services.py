"""Plan one-off notifications: domain code says what to tell whom, once per key."""

from dataclasses import asdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .base import Button, email_enabled, slack_enabled
from .models import Notification


def _enqueue(ids: list[int]) -> None:
    from .tasks import notification_deliver_task

    for pk in ids:
        notification_deliver_task.delay(pk)


def notify(
    *,
    key: str,
    topic: str,
    subject: str,
    text: str,
    url: str = "",
    slack: list[str],
    outbox: list[str],
    email: list[str] = (),
    buttons: tuple[Button, ...] = (),
) -> int:
    """Plan a notification to Slack ids/channels, outbox names and email addresses, once per ``key``.

    Each (key, channel, address) becomes one ``Notification`` row; a repeated
    call with the same key (a retried task, a replayed webhook) plans nothing
    new. Slack addresses are dropped when no bot token is configured, email
    addresses when no mail server is. ``buttons``: what the reader can do from
    it, on the channels that show buttons (Slack). Delivery tasks are
    enqueued after commit. Returns how many rows it created.
    """
    targets = [(Notification.Channel.OUTBOX, a) for a in outbox]
    if slack_enabled():
        targets += [(Notification.Channel.SLACK, a) for a in slack if a]
    if email_enabled():
        targets += [(Notification.Channel.EMAIL, a) for a in email if a]
    created_ids = []
    with transaction.atomic():
        for channel, address in dict.fromkeys(targets):
            row, created = Notification.objects.get_or_create(
                dedup_key=f"{key}:{channel}:{address}"[:200],
                defaults={
                    "queued_at": timezone.now(),  # enqueued on commit; requeue_stuck covers a lost message
                    "channel": channel,
                    "address": address,
                    "topic": topic,
                    "subject": subject[:300],
                    "text": text,
                    "url": url,
                    "buttons": [asdict(button) for button in buttons],
                },
            )
            if created:
                created_ids.append(row.pk)
        if created_ids:
            transaction.on_commit(lambda: _enqueue(created_ids))
    return len(created_ids)


def notifications_purge_old(*, now) -> int:
    """Delete outbox messages and finished (sent, failed, skipped) deliveries older than
    ``SREDESK_NOTIFICATION_RETENTION_DAYS``. Pending and sending rows are never deleted. Returns rows deleted.

    The reminder ledger itself (``Reminder``) is kept: it is what stops a step from being planned twice.
    """
    from django.apps import apps
    from django.conf import settings

    from .models import DeliveryBase, OutboxMessage

    cutoff = now - timedelta(days=settings.SREDESK_NOTIFICATION_RETENTION_DAYS)
    finished = [DeliveryBase.Status.SENT, DeliveryBase.Status.FAILED, DeliveryBase.Status.SKIPPED]
    deleted = OutboxMessage.objects.filter(created_at__lt=cutoff).delete()[0]
    for model in (Notification, apps.get_model("postmortems", "ReminderDelivery")):
        deleted += model.objects.filter(created_at__lt=cutoff, status__in=finished).delete()[0]
    return deleted
