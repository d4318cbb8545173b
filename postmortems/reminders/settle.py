"""A reminder settled where it can be (a regression test linked, the reminders snoozed, "not testable" approved):
its Slack messages already sent are edited in place to say who settled it and how, without their buttons.

Every door settles through the post-mortem services (``regression_test_link``,
``postmortem_snooze``, ``regression_test_waiver_decide``); each calls
:func:`reminders_settle` in its own transaction, which marks the sent Slack
deliveries of the reminder kinds it settles (``settled_at``, ``settled_text``;
only the first settlement counts) and, after commit, has a worker edit each
message (``chat.update`` at the delivery's ``conversation`` and ``ts``).

The edit is a retried, idempotent job with the delivery step's rules
(``notifications.delivery.retry_wait``): a worker claims it with a
compare-and-set (two workers at once: one edit), a temporary Slack error
(HTTP 429 Retry-After, 5xx, timeout) sets the time it may be tried again and
the task retries then (a longer wait, or a lost task, is released by the
reminders' sweep: :func:`settled_edits_release`); a permanent one, or
``SREDESK_NOTIFY_MAX_ATTEMPTS`` tries, gives up (``settled_edit_failed_at``),
and an error a person must fix (``not_in_channel``, ``invalid_auth``...) is a
visible problem (``notifications.problems``). Failures are kept on the row
(``last_error``).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.base import Message, NotifyPermanentError, NotifyTransientError, Posted, get_backend
from notifications.delivery import broker_may_hold, retry_wait
from notifications.problems import channel_failed, channel_reached

from ..models import Reminder, ReminderDelivery

logger = logging.getLogger(__name__)
Kind = Reminder.Kind

# How a reminder is settled -> the button that settles it (``delivery.reminder_buttons``: which kinds offer it).
SETTLES = {"linked": "reminder.link_test", "snoozed": "reminder.snooze", "waived": "reminder.not_testable"}


def settled_kinds(settled_by: str) -> list[str]:
    """The reminder kinds a settlement ``settled_by`` (a key of SETTLES) settles: those whose message offers its
    button, as ``reminder_buttons`` (the one list of a reminder's buttons) says."""
    from .delivery import reminder_buttons

    action_id = SETTLES[settled_by]
    return [kind for kind in Kind.values if any(b.action_id == action_id for b in reminder_buttons(kind, 0, ""))]


def settled_line(*, who, how: str, at: datetime) -> str:
    """``Settled by Ana Ops at 2026-12-05 10:02 UTC: <how>.`` (``who`` None: sredesk itself)."""
    return f"Settled by {who or 'sredesk'} at {at:%Y-%m-%d %H:%M} UTC: {how}."


def reminders_settle(*, postmortem_id: int, settled_by: str, who, how: str) -> int:
    """Mark the sent Slack messages of ``postmortem_id``'s reminders that ``settled_by`` (a key of SETTLES)
    settles, in the caller's transaction, and edit them after commit. ``how`` says what was done, e.g.
    ``regression test tests/x.py::test_y linked (pending)``. Returns how many messages are owed an edit."""
    now = timezone.now()
    rows = ReminderDelivery.objects.filter(
        reminder__postmortem_id=postmortem_id,
        reminder__kind__in=settled_kinds(settled_by),
        channel=ReminderDelivery.Channel.SLACK,
        status=ReminderDelivery.Status.SENT,
        settled_at__isnull=True,
    ).exclude(external_ref="")
    ids = list(rows.values_list("pk", flat=True))
    if not ids:
        return 0
    text = settled_line(who=who, how=how, at=now)
    ReminderDelivery.objects.filter(pk__in=ids, settled_at__isnull=True).update(settled_at=now, settled_text=text)
    transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


def _enqueue(delivery_ids: list[int]) -> None:
    from ..tasks import reminder_settled_edit_task

    for delivery_id in delivery_ids:
        try:
            reminder_settled_edit_task.delay(delivery_id)
        except Exception as exc:  # the broker is down: the sweep enqueues the edit later; the settlement stands
            logger.warning("settled reminder %s not queued for editing: %s", delivery_id, exc)


def _owed(now: datetime):
    """Settled deliveries whose edit is owed and may be taken at ``now``: not edited, not given up, their retry
    time passed, no worker holding them (a claim older than ``SREDESK_NOTIFY_REDELIVER_AFTER_SECONDS`` was lost)."""
    lost = now - timedelta(seconds=settings.SREDESK_NOTIFY_REDELIVER_AFTER_SECONDS)
    return (
        ReminderDelivery.objects.filter(
            settled_at__isnull=False, settled_edited_at__isnull=True, settled_edit_failed_at__isnull=True
        )
        .exclude(external_ref="")
        .filter(Q(settled_edit_not_before__isnull=True) | Q(settled_edit_not_before__lte=now))
        .filter(Q(settled_edit_claimed_at__isnull=True) | Q(settled_edit_claimed_at__lt=lost))
    )


def reminder_settled_edit(delivery_id: int) -> str:
    """Edit the sent Slack message of the settled delivery ``delivery_id``: its text, then the settled line, no
    buttons. Safe to run twice or at once: the edit is claimed first, and done once.

    Returns ``edited``; ``not_owed`` (already edited, given up, another worker has it, or its retry time has not
    come); ``failed`` (a permanent Slack error, or attempts used up: given up); ``deferred`` (a wait longer than a
    broker should hold: the sweep releases it). Raises NotifyTransientError with ``retry_in`` (seconds) for the
    task to retry then.
    """
    from .delivery import reminder_message

    now = timezone.now()
    claimed = (
        _owed(now)
        .filter(pk=delivery_id)
        .update(settled_edit_claimed_at=now, settled_edit_attempts=F("settled_edit_attempts") + 1)
    )
    if not claimed:
        return "not_owed"
    delivery = ReminderDelivery.objects.select_related("reminder__postmortem__incident__primary_service").get(
        pk=delivery_id
    )
    mine = ReminderDelivery.objects.filter(pk=delivery_id, settled_edit_claimed_at=now)
    message = reminder_message(delivery)
    settled = Message(
        address=delivery.address,
        subject=message.subject,
        text=f"{message.text}\n{delivery.settled_text}",
        url=message.url,
        dedup_key=message.dedup_key,
    )
    posted = Posted(conversation=delivery.conversation or delivery.address, ref=delivery.external_ref)
    try:
        get_backend(delivery.channel).update(settled, posted=posted)  # outside any transaction: no lock held
    except (NotifyPermanentError, NotifyTransientError) as exc:
        channel_failed(delivery.channel, delivery.address, exc, method="chat.update")
        error = f"settled, not edited: {exc}"[:2000]
        attempts = delivery.settled_edit_attempts
        wait = None if isinstance(exc, NotifyPermanentError) else retry_wait(exc, attempts=attempts)
        if wait is None:
            mine.update(settled_edit_failed_at=timezone.now(), settled_edit_claimed_at=None, last_error=error)
            logger.error("settled reminder %s not edited, given up: %s", delivery_id, exc)
            return "failed"
        later = timezone.now() + timedelta(seconds=wait)
        mine.update(settled_edit_not_before=later, settled_edit_claimed_at=None, last_error=error)
        logger.warning("settled reminder %s not edited, tried again in %.0f s: %s", delivery_id, wait, exc)
        if not broker_may_hold(wait):
            return "deferred"
        exc.retry_in = wait
        raise
    channel_reached(delivery.channel, delivery.address)
    mine.update(settled_edited_at=timezone.now(), settled_edit_claimed_at=None, last_error="")
    return "edited"


def settled_edits_release(*, now: datetime, limit: int = 1000) -> int:
    """Enqueue the owed edits whose time has come (a wait too long for the broker, a lost task or worker, the
    broker down when settled). Returns how many; a duplicate task is harmless (the edit is claimed). ``enqueue``
    runs after commit."""
    ids = list(_owed(now).order_by("settled_at").values_list("pk", flat=True)[:limit])
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)
