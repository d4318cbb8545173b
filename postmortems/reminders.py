"""The reminder loop: plan due reminders, deliver each one once, re-queue what got stuck.

Shape: beat ticks, the database decides, a ledger row dedupes, a
compare-and-set claims, one task per delivery sends.

* ``reminders_sweep`` (every ``REMINDER_SWEEP_SECONDS``) plans the current
  cadence step of every post-mortem owing a regression test. The ledger row
  ``Reminder`` is unique per (post-mortem, kind, cycle, step), so any number of
  concurrent sweeps create it, and its deliveries, once.
* ``reminder_deliver`` claims a ``ReminderDelivery`` with a conditional update
  (pending -> sending), re-checks that the reminder is still needed, then sends
  outside any transaction.

Delivery is at-least-once, with one named window for a duplicate: see
``notifications.delivery``.
"""

import logging
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications.base import Message, slack_enabled
from notifications.delivery import deliver, requeue_stuck

from .models import Heartbeat, PostMortem, Reminder, ReminderDelivery
from .selectors import postmortems_owing_regression_test

logger = logging.getLogger(__name__)

SWEEP_HEARTBEAT = "reminders_sweep"


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did: reminders it created, deliveries it re-queued."""

    planned: int
    requeued: int


def cadence_step(since: datetime, now: datetime) -> tuple[int, datetime] | None:
    """The latest cadence step due at ``now`` for a debt that began at ``since``.

    Steps fall at ``REMINDER_CADENCE_SECONDS`` after ``since``, then every
    ``REMINDER_REPEAT_SECONDS`` after the last of them. Returns (step, the
    step's due time), or None before the first step. Steps missed while
    nothing ran are not sent late one by one: only the latest counts.
    """
    offsets = settings.REMINDER_CADENCE_SECONDS
    repeat = settings.REMINDER_REPEAT_SECONDS
    elapsed = (now - since).total_seconds()
    if elapsed < offsets[0]:
        return None
    if elapsed < offsets[-1]:
        step = bisect_right(offsets, elapsed) - 1
        return step, since + timedelta(seconds=offsets[step])
    extra = int((elapsed - offsets[-1]) // repeat)
    return len(offsets) - 1 + extra, since + timedelta(seconds=offsets[-1] + extra * repeat)


def _recipients(postmortem: PostMortem) -> list[dict]:
    """Delivery rows (as field dicts) for a no-regression-test reminder: owner, else team lead, else team.

    The outbox always gets one; Slack one more when configured and an address is known.
    """
    team = postmortem.incident.owning_team
    person = postmortem.owner or (team.lead if team else None)
    rows: list[dict] = []
    if person is not None:
        rows.append(
            {"channel": ReminderDelivery.Channel.OUTBOX, "recipient_user": person, "address": f"user:{person.username}"}
        )
        if slack_enabled() and person.slack_user_id:
            rows.append(
                {"channel": ReminderDelivery.Channel.SLACK, "recipient_user": person, "address": person.slack_user_id}
            )
            return rows
    if team is not None:
        if person is None:
            rows.append(
                {"channel": ReminderDelivery.Channel.OUTBOX, "recipient_team": team, "address": f"team:{team.slug}"}
            )
        if slack_enabled() and team.slack_channel:
            rows.append(
                {"channel": ReminderDelivery.Channel.SLACK, "recipient_team": team, "address": team.slack_channel}
            )
    if not rows:
        logger.warning("post-mortem %s has no owner, lead or team to remind", postmortem.pk)
    return rows


def _enqueue(delivery_ids: list[int]) -> None:
    from .tasks import reminder_deliver_task

    for delivery_id in delivery_ids:
        reminder_deliver_task.delay(delivery_id)


def reminders_plan_due(*, now: datetime) -> int:
    """Create the ledger row and deliveries for every due, unplanned reminder step.

    Idempotent under concurrency: the unique (post-mortem, kind, cycle, step)
    constraint lets exactly one caller create a step; the others find it.
    Delivery tasks are enqueued after commit. Returns how many reminders it created.
    """
    kind = Reminder.Kind.NO_REGRESSION_TEST
    due = []
    for postmortem in postmortems_owing_regression_test(now=now):
        since = postmortem.owes_regression_test_since(now)
        step = cadence_step(since, now) if since else None
        if step is not None:
            due.append((postmortem, *step))
    if not due:
        return 0
    planned_steps = set(
        Reminder.objects.filter(postmortem__in=[p for p, _, _ in due], kind=kind).values_list(
            "postmortem_id", "cycle", "step"
        )
    )
    created_count = 0
    for postmortem, step, due_at in due:
        if (postmortem.pk, postmortem.reminder_cycle, step) in planned_steps:
            continue
        with transaction.atomic():
            reminder, created = Reminder.objects.get_or_create(
                postmortem=postmortem,
                kind=kind,
                cycle=postmortem.reminder_cycle,
                step=step,
                defaults={"due_at": due_at},
            )
            if not created:
                continue
            deliveries = [
                ReminderDelivery.objects.create(reminder=reminder, created_at=now, queued_at=now, **row)
                for row in _recipients(postmortem)
            ]
            ids = [d.pk for d in deliveries]
            transaction.on_commit(lambda ids=ids: _enqueue(ids))
        created_count += 1
        logger.info("planned reminder %s step %s for %s", kind, step, postmortem.incident.public_id)
    return created_count


def reminders_requeue_stuck(*, now: datetime) -> int:
    """Re-enqueue reminder deliveries whose worker or message was lost (see ``notifications.delivery``)."""
    return requeue_stuck(ReminderDelivery, now=now, enqueue=_enqueue)


def reminders_sweep(*, now: datetime | None = None) -> SweepResult:
    """One beat tick: plan due reminders, re-queue stuck deliveries, record the heartbeat."""
    now = now or timezone.now()
    planned = reminders_plan_due(now=now)
    requeued = reminders_requeue_stuck(now=now)
    Heartbeat.objects.update_or_create(name=SWEEP_HEARTBEAT, defaults={"last_success_at": timezone.now()})
    return SweepResult(planned=planned, requeued=requeued)


def reminder_obsolete_reason(reminder: Reminder) -> str:
    """Why ``reminder`` should no longer be sent ("" if it still should). Read at send time, not plan time."""
    postmortem = PostMortem.objects.get(pk=reminder.postmortem_id)
    if postmortem.status == PostMortem.Status.COMPLETE:
        return "post-mortem is complete"
    if postmortem.reminder_cycle != reminder.cycle:
        return "post-mortem started a new reminder cycle"
    if not postmortems_owing_regression_test(now=timezone.now()).filter(pk=postmortem.pk).exists():
        return "post-mortem has a verified regression test"
    return ""


def reminder_message(delivery: ReminderDelivery) -> Message:
    """The text of a no-regression-test reminder, with the link where it is fixed."""
    reminder = delivery.reminder
    incident = reminder.postmortem.incident
    url = settings.SREDESK_BASE_URL + reverse("postmortems:link_test", args=[reminder.postmortem_id])
    tests = list(reminder.postmortem.regression_tests.values_list("state", flat=True))
    if not tests:
        text = f"{incident.public_id} post-mortem has no regression test: link one at {url}"
    else:
        states = ", ".join(sorted(set(tests)))
        text = (
            f"{incident.public_id} post-mortem has no regression test verified in CI yet (linked: {states}): see {url}"
        )
    sent_before = Reminder.objects.filter(
        postmortem_id=reminder.postmortem_id, kind=reminder.kind, cycle=reminder.cycle, step__lt=reminder.step
    ).count()
    if sent_before:
        text += f" (reminder {sent_before + 1})"
    return Message(
        address=delivery.address,
        subject=f"{incident.public_id} ({incident.get_severity_display()}) {incident.title}: no regression test",
        text=text,
        url=url,
        dedup_key=f"reminder-delivery:{delivery.pk}",
    )


def reminder_deliver(*, delivery_id: int) -> str:
    """Send one reminder delivery if it is pending and still needed; see ``notifications.delivery.deliver``."""
    return deliver(
        ReminderDelivery.objects.select_related("reminder__postmortem__incident"),
        delivery_id,
        build=reminder_message,
        obsolete=lambda delivery: reminder_obsolete_reason(delivery.reminder),
    )
