"""A reminder settled where it can be (a regression test linked, the reminders snoozed, "not testable" approved):
its Slack messages already sent are edited in place to say who settled it and how, without their buttons.

Every door settles through the post-mortem services (``regression_test_link``,
``postmortem_snooze``, ``regression_test_waiver_decide``); each calls
:func:`reminders_settle` in its own transaction, which marks the sent Slack
deliveries of the reminder kinds it settles (``settled_at``, ``settled_text``;
only the first settlement counts) and, after commit, has a worker edit each
message (``chat.update`` at the delivery's ``conversation`` and ``ts``). A
failure is kept on the row (``last_error``) and, when a person must fix it,
made a visible problem (``notifications.problems``); it is never raised.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from notifications.base import Message, NotifyPermanentError, NotifyTransientError, Posted, get_backend
from notifications.problems import channel_failed

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

    try:
        reminder_settled_edit_task.delay(delivery_ids)
    except Exception as exc:  # the broker is down: the messages keep their buttons; the settlement itself stands
        logger.warning("settled reminders %s not queued for editing: %s", delivery_ids, exc)


def reminder_settled_edit(delivery_id: int) -> bool:
    """Edit the sent Slack message of a settled delivery: its text, then the settled line, no buttons. True when
    Slack took it; False when there is nothing to edit or Slack refused (kept on the row, never raised)."""
    from .delivery import reminder_message

    with transaction.atomic():
        delivery = (
            ReminderDelivery.objects.select_for_update(of=("self",))
            .select_related("reminder__postmortem__incident__primary_service")
            .filter(pk=delivery_id, settled_at__isnull=False, settled_edited_at__isnull=True)
            .first()
        )
        if delivery is None or not delivery.external_ref:
            return False
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
            get_backend(delivery.channel).update(settled, posted=posted)
        except (NotifyPermanentError, NotifyTransientError) as exc:
            channel_failed(delivery.channel, delivery.address, exc, method="chat.update")
            ReminderDelivery.objects.filter(pk=delivery.pk).update(last_error=f"settled, not edited: {exc}"[:2000])
            logger.warning("settled reminder %s not edited: %s", delivery.pk, exc)
            return False
        ReminderDelivery.objects.filter(pk=delivery.pk).update(settled_edited_at=timezone.now())
    return True
