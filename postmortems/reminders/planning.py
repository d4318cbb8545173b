"""Planning: ledger rows and deliveries for due steps, inserted once (ON CONFLICT DO NOTHING).

Used by the sweep (``reminders_plan_due``) and the operator's "send reminder now" (``reminders_send_now``).
"""

import datetime as dt
import logging
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.base import slack_enabled
from notifications.reach import person_reach
from ownership.hours import next_working_time
from ownership.models import Membership, Team, User
from sredesk import sql
from sredesk.lookups import chunks

from ..models import Reminder, ReminderDelivery
from .delivery import _enqueue
from .due import PERSON_FIELDS, Due, due_reminder_chunks

logger = logging.getLogger(__name__)

Channel = ReminderDelivery.Channel


def unplanned(dues: list[Due], planned: set[tuple]) -> list[Due]:
    """The steps of ``dues`` to plan: not planned yet, and not behind a step of the same debt already planned.

    A debt never goes back to an earlier step: when the error-budget policy is lifted, the step it brought
    forward stays the latest, and the next one falls at its usual time.
    """
    reached: dict[tuple, int] = {}
    for postmortem_id, kind, subject_key, cycle, step in planned:
        debt = (postmortem_id, kind, subject_key, cycle)
        reached[debt] = max(step, reached.get(debt, step))
    return [d for d in dues if d.key not in planned and d.step > reached.get(d.key[:4], -1)]


def planned_keys(dues: list[Due]) -> set[tuple]:
    """The (post-mortem, kind, subject, cycle, step) ledger keys of the post-mortems of ``dues``, every step below
    the personal maximum: those of ``dues`` that are planned, and the earlier steps of their debts.

    One statement with one array parameter; pass one chunk's dues (``due_reminder_chunks``), whose ledger rows
    (a few per post-mortem) fit in memory.
    """
    if not dues:
        return set()
    rows = Reminder.objects.filter(
        postmortem_id__any={d.postmortem_id for d in dues}, step__lt=settings.SREDESK_REMINDER_MAX_PER_PERSON
    ).values_list("postmortem_id", "kind", "subject_key", "cycle", "step")
    return set(rows)


def missed_steps(due: Due, planned: set[tuple], *, last_sweep: dt.datetime | None, now: dt.datetime) -> list:
    """The earlier steps of ``due``'s debt that fell due while no sweep ran and were never planned, each as
    (its ``Due``, why it is superseded): planning records them so that no step, the first one above all,
    is skipped silently.

    ``last_sweep`` is the instant the previous sweep planned at (None before the first sweep: no history to
    have missed). A step that fell due before it was left unplanned on purpose (a snooze covered it, or it
    was not owed yet) and is not recorded. Nor is a step the error-budget policy jumps over (``Due.sooner``):
    it is not missed, it is never owed.
    """
    if last_sweep is None:
        return []
    missed = []
    for step in range(due.sooner, due.step):
        due_at = due.step_due_at(step)
        if due_at <= last_sweep or (due.snoozed_until and due_at < due.snoozed_until):
            continue
        if (due.postmortem_id, due.kind, due.subject_key, due.cycle, step) in planned:
            continue
        reason = (
            f"superseded by reminder step {due.step + 1}: step {step + 1} fell due at {due_at:%Y-%m-%d %H:%M} UTC "
            f"while no reminder sweep ran (none between {last_sweep:%Y-%m-%d %H:%M} and {now:%Y-%m-%d %H:%M} UTC)"
        )
        missed.append((replace(due, step=step, due_at=due_at), reason))
    return missed


def _team_leads(teams: set[int]) -> dict[int, User]:
    memberships = Membership.objects.filter(team_id__any=teams, role=Membership.Role.LEAD).select_related("user")
    return {m.team_id: m.user for m in memberships}


_openings: dict[tuple[int, dt.datetime], dt.datetime] = {}


def _opening(person: User, now: dt.datetime) -> dt.datetime:
    """``next_working_time`` cached per person and instant (a sweep asks once per person, not per delivery)."""
    key = (person.pk, now)
    if key not in _openings:
        if len(_openings) > 10_000:
            _openings.clear()
        _openings[key] = next_working_time(person, now)
    return _openings[key]


def _deliveries(
    reminder_id: int, due: Due, *, owner: User | None, lead: User | None, team: Team | None, now: dt.datetime
) -> list[tuple]:
    """The delivery rows of one reminder: people in their working hours, the team channel when escalated.

    Everyone gets the outbox; a person gets Slack at their Slack id and email
    at their address when those channels are configured; someone Slack cannot
    reach directly is reached through the team channel instead.
    """
    owner = (due.action_item.owner if due.action_item else None) or owner or lead
    people = [owner] if owner else []
    if due.step >= settings.SREDESK_REMINDER_LEAD_FROM_STEP and lead and lead not in people:
        people.append(lead)
    rows = []

    def add(channel: str, address: str, *, user: User | None = None, not_before: dt.datetime = now) -> None:
        rows.append((reminder_id, user.pk if user else None, None if user else team.pk, channel, address, not_before))

    reaches = [person_reach(person) for person in people]  # the one rule of who is reached where
    for person, reach in zip(people, reaches, strict=True):
        later = _opening(person, now)
        for channel, address in reach.channels:
            add(channel, address, user=person, not_before=later)
    unreachable_on_slack = any(reach.team_channel_instead for reach in reaches)
    to_team = due.step >= settings.SREDESK_REMINDER_TEAM_CHANNEL_FROM_STEP or not people or unreachable_on_slack
    if team is not None and to_team:
        if not people:
            add(Channel.OUTBOX, f"team:{team.slug}")
        if slack_enabled() and team.slack_channel:
            add(Channel.SLACK, team.slack_channel)
    if not rows:
        logger.warning("reminder %s for post-mortem %s has nobody to go to", reminder_id, due.postmortem_id)
    return rows


# The columns of a planned delivery: those of ``_deliveries``' rows, then status, last_error, attempts,
# created_at and external_ref.
DELIVERY_COLUMNS = (
    "reminder_id", "recipient_user_id", "recipient_team_id", "channel", "address", "not_before",
    "status", "last_error", "attempts", "created_at", "external_ref",
)  # fmt: skip


def _plan(new: list[Due], *, now: dt.datetime, superseded: dict[tuple, str] | None = None) -> list[int]:
    """Insert the ledger rows of ``new`` and their deliveries (ON CONFLICT DO NOTHING); returns the ids of the
    reminders this call created to be sent (not those in ``superseded``).

    ``superseded`` maps the keys of steps that are recorded but not sent to the reason: their deliveries are
    written ``skipped`` with it. A step another sweep planned meanwhile is left to it: RETURNING gives only
    the rows this statement inserted, and only those get deliveries here.
    """
    superseded = superseded or {}
    # sql.insert, not bulk_create: a model instance per row dominated planning (bench/sweep).
    created = sql.insert(
        Reminder,
        [
            {
                "postmortem_id": d.postmortem_id,
                "kind": d.kind,
                "subject_key": d.subject_key,
                "cycle": d.cycle,
                "step": d.step,
                "due_at": d.due_at,
                "created_at": now,
            }
            for d in new
        ],
        returning=("id", "postmortem_id", "kind", "subject_key", "cycle", "step"),
        ignore_conflicts=True,
    )
    wanted = {d.key: d for d in new}
    team_ids = {d.team_id for d in new if d.team_id}
    leads = _team_leads(team_ids)
    teams = Team.objects.filter(pk__any=team_ids).in_bulk()
    owners = User.objects.only(*PERSON_FIELDS).filter(pk__any={d.owner_id for d in new if d.owner_id}).in_bulk()
    deliveries, sent = [], []
    for reminder_id, *key in created:
        due = wanted[tuple(key)]
        rows = _deliveries(
            reminder_id,
            due,
            owner=owners.get(due.owner_id),
            lead=leads.get(due.team_id),
            team=teams.get(due.team_id),
            now=now,
        )
        reason = superseded.get(due.key)
        if reason is None:
            sent.append(reminder_id)
            deliveries += [(*row, ReminderDelivery.Status.PENDING, "") for row in rows]
        else:
            deliveries += [(*row, ReminderDelivery.Status.SKIPPED, reason) for row in rows]
    sql.insert(
        ReminderDelivery,
        [dict(zip(DELIVERY_COLUMNS, (*row, 0, now, ""), strict=True)) for row in deliveries],
        ignore_conflicts=True,
    )
    if created:
        logger.info(
            "planned %d reminders (%d recorded as superseded) with %d deliveries",
            len(created),
            len(created) - len(sent),
            len(deliveries),
        )
    return sent


@dataclass(frozen=True)
class SendNowResult:
    """What ``reminders_send_now`` did, counted in post-mortems (the last three) and rows (the first three)."""

    planned: int  # reminder steps planned by this call
    queued: int  # their deliveries enqueued at once
    held: int  # their deliveries held until the recipient's working hours
    already_planned: int  # post-mortems whose due step was planned before (by the sweep or an earlier click)
    in_digest: int  # post-mortems past the personal maximum: the weekly digest covers them
    nothing_due: int  # post-mortems that owe nothing now, or are snoozed


@transaction.atomic
def reminders_send_now(*, postmortem_ids: list[int], now: dt.datetime | None = None) -> SendNowResult:
    """Plan now, for these post-mortems only, the reminder steps due that no sweep has planned yet, and send them.

    The operator's "send reminder now": the same planning as the sweep
    (``due_reminders``, the ledger's unique key), so a step is never planned
    twice: one the sweep (or an earlier click) already planned is reported,
    not repeated. New deliveries are enqueued at once (after commit), except
    to people outside their working hours, whose deliveries stay held until
    their next working time like any reminder. Snoozed post-mortems and those
    that owe nothing are skipped; steps past ``SREDESK_REMINDER_MAX_PER_PERSON`` are
    left to the weekly digest.
    """
    now = now or timezone.now()
    wanted = list(dict.fromkeys(postmortem_ids))
    dues: list[Due] = []
    for ids in chunks(wanted, settings.SREDESK_REMINDER_PLAN_CHUNK):
        dues += [due for chunk in due_reminder_chunks(now=now, postmortem_ids=ids) for due in chunk]
    nothing_due = len(set(wanted) - {d.postmortem_id for d in dues})
    personal = [d for d in dues if d.step < settings.SREDESK_REMINDER_MAX_PER_PERSON]
    in_digest = len({d.postmortem_id for d in dues} - {d.postmortem_id for d in personal})
    mine: list[int] = []
    fresh, planned_before = set(), set()
    for part in chunks(personal, settings.SREDESK_REMINDER_PLAN_CHUNK):
        planned = planned_keys(part)
        new = unplanned(part, planned)
        fresh |= {d.postmortem_id for d in new}
        new_keys = {d.key for d in new}
        planned_before |= {d.postmortem_id for d in part if d.key not in new_keys}
        mine += _plan(new, now=now) if new else []
    already = len(planned_before - fresh)
    deliveries = ReminderDelivery.objects.filter(reminder_id__any=mine)
    ready = list(deliveries.filter(not_before__lte=now, queued_at__isnull=True).values_list("pk", flat=True))
    if ready:
        ReminderDelivery.objects.filter(pk__any=ready, queued_at__isnull=True).update(queued_at=now)
        transaction.on_commit(lambda: _enqueue(ready))
    return SendNowResult(
        planned=len(mine),
        queued=len(ready),
        held=deliveries.filter(not_before__gt=now).count(),
        already_planned=already,
        in_digest=in_digest,
        nothing_due=nothing_due,
    )
