"""Claim, send, record: the delivery step every ledger (reminders, notifications) shares.

Delivery is at-least-once. The one window in which a recipient can get a
message twice: the channel accepted it, then the worker died before the row
was marked ``sent``; ``requeue_stuck`` then sends it again and its
``attempts`` shows 2. No chat or mail channel takes an idempotency key, so
that window cannot be closed, only kept to the statements between the
channel's reply and our UPDATE. The outbox channel has no such window: it
writes once per ``Message.dedup_key``.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from .base import Message, NotifyPermanentError, NotifyTransientError, get_backend
from .models import DeliveryBase

logger = logging.getLogger(__name__)


def deliver(
    queryset: QuerySet,
    pk: int,
    *,
    build: Callable[[DeliveryBase], Message],
    obsolete: Callable[[DeliveryBase], str] = lambda row: "",
) -> str:
    """Send the delivery row ``pk`` of ``queryset``'s model if it is pending and still needed.

    ``build`` renders the message; ``obsolete`` returns why the row should no
    longer be sent ("" if it should), read at send time, not at planning time.
    Returns the outcome: ``sent``; ``skipped``; ``failed`` (permanent channel
    error, or ``NOTIFY_MAX_ATTEMPTS`` used up); ``not_pending`` (another
    worker has it, or it is done). Raises NotifyTransientError (including
    NotifyRateLimited) after putting the row back to ``pending``, so the
    caller retries. The send happens outside any transaction.
    """
    Status = DeliveryBase.Status
    now = timezone.now()
    model = queryset.model
    claimed = model.objects.filter(pk=pk, status=Status.PENDING).update(
        status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        logger.info("%s %s is not pending: nothing to do", model.__name__, pk)
        return "not_pending"
    row = queryset.get(pk=pk)
    mine = model.objects.filter(pk=pk, status=Status.SENDING, claimed_at=now)

    reason = obsolete(row)
    if reason:
        mine.update(status=Status.SKIPPED, last_error=reason)
        logger.info("%s %s skipped: %s", model.__name__, pk, reason)
        return "skipped"
    try:
        ref = get_backend(row.channel).send(build(row))
    except NotifyPermanentError as exc:
        mine.update(status=Status.FAILED, last_error=str(exc))
        logger.error("%s %s failed for good: %s", model.__name__, pk, exc)
        return "failed"
    except NotifyTransientError as exc:
        if row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            mine.update(status=Status.FAILED, last_error=f"gave up after {row.attempts} attempts: {exc}")
            logger.error("%s %s failed after %d attempts: %s", model.__name__, pk, row.attempts, exc)
            return "failed"
        mine.update(status=Status.PENDING, last_error=str(exc), queued_at=timezone.now())
        raise
    mine.update(status=Status.SENT, sent_at=timezone.now(), external_ref=ref, last_error="")
    return "sent"


def requeue_stuck(model: type[DeliveryBase], *, now: datetime, enqueue: Callable[[list[int]], None]) -> int:
    """Re-enqueue deliveries of ``model`` whose worker or message was lost. Returns how many.

    ``sending`` rows claimed longer ago than ``NOTIFY_REDELIVER_AFTER_SECONDS``
    go back to ``pending``; ``pending`` rows last enqueued longer ago than that
    are enqueued again. Each row is taken with a compare-and-set on its
    timestamp, so two sweeps re-queue it once; a duplicate task is harmless
    anyway, since delivery claims the row first. ``enqueue`` runs after commit.
    """
    Status = DeliveryBase.Status
    cutoff = now - timedelta(seconds=settings.NOTIFY_REDELIVER_AFTER_SECONDS)
    requeued = []
    stuck = model.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff)
    for pk, claimed_at in stuck.values_list("pk", "claimed_at"):
        if model.objects.filter(pk=pk, status=Status.SENDING, claimed_at=claimed_at).update(
            status=Status.PENDING, queued_at=now
        ):
            requeued.append(pk)
    stale = model.objects.filter(status=Status.PENDING, queued_at__lt=cutoff)
    for pk, queued_at in stale.values_list("pk", "queued_at"):
        if model.objects.filter(pk=pk, status=Status.PENDING, queued_at=queued_at).update(queued_at=now):
            requeued.append(pk)
    if requeued:
        logger.warning("re-queued %d %s rows stuck since before %s", len(requeued), model.__name__, cutoff.isoformat())
        transaction.on_commit(lambda: enqueue(requeued))
    return len(requeued)
