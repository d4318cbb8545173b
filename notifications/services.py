"""Plan one-off notifications: domain code says what to tell whom, once per key."""

from dataclasses import asdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .base import Button, email_enabled, slack_enabled
from .models import Notification

TEST_PAGE_PREFIX = "test-page:"  # the key of every test page a person sends themselves: marked as a test


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
    webhook: list[str] = (),
    routes: list[tuple[str, str, float]] = (),
) -> int:
    """Plan a notification to Slack ids/channels, outbox names and email addresses, once per ``key``.

    Each (key, channel, address) becomes one ``Notification`` row; a repeated
    call with the same key (a retried task, a replayed webhook) plans nothing
    new. Slack addresses are dropped when no bot token is configured, email
    addresses when no mail server is. ``buttons``: what the reader can do from
    it, on the channels that show buttons (Slack). ``webhook`` takes page webhook addresses (``PageWebhook.address``).
    ``routes`` adds (channel, address, delay in seconds) triples, as a person's contact rules give them
    (``notifications.contact.page_channels``): a delayed row waits (``not_before``) and the beat's sweep
    releases it when its time comes. Delivery tasks of the rows due now are enqueued after commit.
    Returns how many rows it created.
    """
    targets = [(Notification.Channel.OUTBOX, a, 0.0) for a in outbox]
    targets += [(Notification.Channel.SLACK, a, 0.0) for a in slack if a]
    targets += [(Notification.Channel.EMAIL, a, 0.0) for a in email if a]
    targets += [(Notification.Channel.WEBHOOK, a, 0.0) for a in webhook if a]
    targets += [(c, a, float(d)) for c, a, d in routes if a]
    off = {Notification.Channel.SLACK} if not slack_enabled() else set()
    off |= {Notification.Channel.EMAIL} if not email_enabled() else set()
    planned: dict[tuple[str, str], float] = {}
    for channel, address, delay in targets:
        if channel not in off and (channel, address) not in planned:
            planned[(channel, address)] = delay
    now = timezone.now()
    created_ids, created_count = [], 0
    with transaction.atomic():
        for (channel, address), delay in planned.items():
            row, created = Notification.objects.get_or_create(
                dedup_key=f"{key}:{channel}:{address}"[:200],
                defaults={
                    # enqueued on commit (requeue_stuck covers a lost message); a delayed one when release_due
                    # finds it due
                    "queued_at": None if delay > 0 else now,
                    "not_before": now + timedelta(seconds=delay),
                    "channel": channel,
                    "address": address,
                    "topic": topic,
                    "subject": subject[:300],
                    "text": text,
                    "url": url,
                    "buttons": [asdict(button) for button in buttons],
                },
            )
            created_count += created
            if created and delay <= 0:
                created_ids.append(row.pk)
        if created_ids:
            transaction.on_commit(lambda: _enqueue(created_ids))
    return created_count


def notification_obsolete(row: Notification) -> str:
    """Why a delivery is no longer wanted when a worker takes it ("" if it is): a page (key ``page:<id>:...``)
    whose incident no longer needs acknowledging (``IncidentQuerySet.needing_acknowledgement``: acknowledged,
    mitigated or resolved meanwhile; a contact rule's later channel, or a retry, must not wake anyone for an
    incident someone has taken). One query."""
    if not row.dedup_key.startswith("page:"):
        return ""
    from django.db.models import Exists, OuterRef

    from incidents.models import Incident  # here: incidents and on-call build on notifications, not the reverse
    from oncall.models import Page

    page_id = row.dedup_key.split(":", 2)[1]
    waiting = Exists(Incident.objects.needing_acknowledgement().filter(pk=OuterRef("incident_id")))
    found = Page.objects.filter(pk=int(page_id)).values_list("incident__status", waiting).first()
    if found is None or found[1]:
        return ""
    return f"the incident is {found[0]}: paging stopped"


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
