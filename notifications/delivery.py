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

from .base import Message, NotifyPermanentError, NotifyRateLimited, NotifyTransientError, get_backend
from .models import DeliveryBase
from .problems import channel_failed, channel_reached

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
    error, or ``SREDESK_NOTIFY_MAX_ATTEMPTS`` used up); ``not_pending`` (another
    worker has it, it is done, or its time has not come: a redelivered or
    duplicate message changes nothing); ``deferred`` (a wait longer than a
    broker should hold: the sweep releases the row when it is due).

    On a temporary error the row goes back to ``pending`` with ``not_before``
    set to when it may be tried again: the channel's Retry-After (Slack 429),
    else exponential backoff by attempt (5 s, 10 s, ... capped at an hour).
    That time lives on the row, so every copy of the task and every sweep
    honours it (FIELD-CASES BR-13). For a wait up to ``SREDESK_NOTIFY_MAX_ETA_SECONDS``
    it raises NotifyTransientError with ``retry_in`` (seconds) for the caller
    to retry then. The send happens outside any transaction.
    """
    Status = DeliveryBase.Status
    now = timezone.now()
    model = queryset.model
    claimed = model.objects.filter(pk=pk, status=Status.PENDING, not_before__lte=now).update(
        status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        logger.info("%s %s is not pending or not due yet: nothing to do", model.__name__, pk)
        return "not_pending"
    row = queryset.get(pk=pk)
    mine = model.objects.filter(pk=pk, status=Status.SENDING, claimed_at=now)

    reason = obsolete(row)
    if reason:
        mine.update(status=Status.SKIPPED, last_error=reason)
        logger.info("%s %s skipped: %s", model.__name__, pk, reason)
        return "skipped"
    try:
        ref, conversation = _send(get_backend(row.channel), build(row))
    except NotifyPermanentError as exc:
        channel_failed(row.channel, row.address, exc)  # a Slack error a person must fix becomes a visible problem
        mine.update(status=Status.FAILED, last_error=str(exc))
        logger.error("%s %s failed for good: %s", model.__name__, pk, exc)
        return "failed"
    except NotifyTransientError as exc:
        channel_failed(row.channel, row.address, exc)
        wait = retry_wait(exc, attempts=row.attempts)
        if wait is None:
            mine.update(status=Status.FAILED, last_error=f"gave up after {row.attempts} attempts: {exc}")
            logger.error("%s %s failed after %d attempts: %s", model.__name__, pk, row.attempts, exc)
            return "failed"
        later = timezone.now() + timedelta(seconds=wait)
        held = not broker_may_hold(wait)
        mine.update(
            status=Status.PENDING, last_error=str(exc), not_before=later, queued_at=None if held else timezone.now()
        )
        if held:
            logger.warning("%s %s deferred %.0f s: %s", model.__name__, pk, wait, exc)
            return "deferred"
        exc.retry_in = wait
        raise
    channel_reached(row.channel, row.address)
    mine.update(status=Status.SENT, sent_at=timezone.now(), external_ref=ref, conversation=conversation, last_error="")
    return "sent"


def retry_wait(exc: NotifyTransientError, *, attempts: int) -> float | None:
    """Seconds to wait before trying a Slack (or other channel) call again after the temporary error ``exc`` on
    its ``attempts``-th try (1 for the first): the channel's Retry-After (Slack's HTTP 429), else exponential
    backoff (5 s, 10 s, 20 s, ... capped at 3,600 s). None when ``SREDESK_NOTIFY_MAX_ATTEMPTS`` tries are used
    up: give up. The one rule for every retried send or edit (deliveries, settled reminders' edits)."""
    if attempts >= settings.SREDESK_NOTIFY_MAX_ATTEMPTS:
        return None
    return exc.retry_after if isinstance(exc, NotifyRateLimited) else min(5.0 * 2 ** (attempts - 1), 3600.0)


def broker_may_hold(wait: float) -> bool:
    """Whether a retry ``wait`` seconds away may be a task's countdown; a longer wait (above
    ``SREDESK_NOTIFY_MAX_ETA_SECONDS``) is kept on the row for the sweep to release (FIELD-CASES BR-17)."""
    return wait <= settings.SREDESK_NOTIFY_MAX_ETA_SECONDS


def _send(backend, message: Message) -> tuple[str, str]:
    """(the channel's id for the message, its conversation): a backend whose messages can be edited in place
    (``EditableBackend``: Slack) says where it put it, so the message can be edited later; others give ""."""
    if hasattr(backend, "post"):
        posted = backend.post(message)
        return posted.ref, posted.conversation[:64]
    return backend.send(message), ""


def requeue_stuck(
    model: type[DeliveryBase],
    *,
    now: datetime,
    enqueue: Callable[[list[int]], None],
    after_seconds: float | None = None,
) -> int:
    """Re-enqueue deliveries of ``model`` whose worker or message was lost. Returns how many.

    ``sending`` rows claimed longer ago than ``after_seconds`` (default
    ``SREDESK_NOTIFY_REDELIVER_AFTER_SECONDS``, the reminders' claim timeout; pages
    pass the shorter ``SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS``) go back to
    ``pending``; ``pending`` rows last enqueued longer ago than that are
    enqueued again. Each row is taken with a compare-and-set on its
    timestamp, so two sweeps re-queue it once; a duplicate task is harmless
    anyway, since delivery claims the row first. ``enqueue`` runs after commit.
    """
    Status = DeliveryBase.Status
    if after_seconds is None:
        after_seconds = settings.SREDESK_NOTIFY_REDELIVER_AFTER_SECONDS
    cutoff = now - timedelta(seconds=after_seconds)
    requeued = []
    stuck = model.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff)
    for pk, claimed_at in stuck.values_list("pk", "claimed_at"):
        if model.objects.filter(pk=pk, status=Status.SENDING, claimed_at=claimed_at).update(
            status=Status.PENDING, queued_at=now
        ):
            requeued.append(pk)
    stale = model.objects.filter(status=Status.PENDING, queued_at__lt=cutoff, not_before__lte=now)
    for pk, queued_at in stale.values_list("pk", "queued_at"):
        if model.objects.filter(pk=pk, status=Status.PENDING, queued_at=queued_at).update(queued_at=now):
            requeued.append(pk)
    if requeued:
        logger.warning("re-queued %d %s rows stuck since before %s", len(requeued), model.__name__, cutoff.isoformat())
        transaction.on_commit(lambda: enqueue(requeued))
    return len(requeued)


def release_due(
    model: type[DeliveryBase], *, now: datetime, enqueue: Callable[[list[int]], None], limit: int = 10_000
) -> int:
    """Enqueue pending rows of ``model`` that were never enqueued (or were deferred) and whose time has come.

    Returns how many. Two sweeps may enqueue the same row; the claim in
    ``deliver`` makes the second task a no-op. ``enqueue`` runs after commit.
    """
    Status = DeliveryBase.Status
    ready = model.objects.filter(status=Status.PENDING, queued_at__isnull=True, not_before__lte=now)
    ids = list(ready.order_by("not_before").values_list("pk", flat=True)[:limit])
    if ids:
        model.objects.filter(pk__any=ids, queued_at__isnull=True).update(queued_at=now)
        transaction.on_commit(lambda: enqueue(ids))
    return len(ids)
