"""Planning: ledger rows and deliveries for due steps, inserted once (ON CONFLICT DO NOTHING).

Used by the sweep (``reminders_plan_due``) and the operator's "send reminder now" (``reminders_send_now``).
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from notifications.base import slack_enabled
from notifications.reach import person_reach
from ownership.hours import next_working_time
from ownership.models import Membership, Team, User

from ..models import Reminder, ReminderDelivery
from .delivery import _enqueue
from .due import PERSON_FIELDS, Due, due_reminders

logger = logging.getLogger(__name__)

Channel = ReminderDelivery.Channel


def planned_keys(dues: list[Due]) -> set[tuple]:
    """The (post-mortem, kind, subject, cycle, step) keys of ``dues`` that already have a ledger row."""
    if not dues:
        return set()
    rows = Reminder.objects.filter(
        postmortem_id__in={d.postmortem_id for d in dues}, step__in={d.step for d in dues}
    ).values_list("postmortem_id", "kind", "subject_key", "cycle", "step")
    return set(rows)


def _team_leads(teams: set[int]) -> dict[int, User]:
    memberships = Membership.objects.filter(team_id__in=teams, role=Membership.Role.LEAD).select_related("user")
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
    if due.step >= settings.REMINDER_LEAD_FROM_STEP and lead and lead not in people:
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
    to_team = due.step >= settings.REMINDER_TEAM_CHANNEL_FROM_STEP or not people or unreachable_on_slack
    if team is not None and to_team:
        if not people:
            add(Channel.OUTBOX, f"team:{team.slug}")
        if slack_enabled() and team.slack_channel:
            add(Channel.SLACK, team.slack_channel)
    if not rows:
        logger.warning("reminder %s for post-mortem %s has nobody to go to", reminder_id, due.postmortem_id)
    return rows


@transaction.atomic
def reminders_plan_due(*, now: dt.datetime) -> int:
    """Create the ledger rows and deliveries for every due, unplanned step below the personal maximum.

    A fixed number of queries whatever the number of post-mortems. Returns
    how many reminders this call created (a concurrent sweep may create the
    rest; ON CONFLICT DO NOTHING makes both harmless).
    """
    dues = [d for d in due_reminders(now=now) if d.step < settings.REMINDER_MAX_PER_PERSON]
    planned = planned_keys(dues)
    new = [d for d in dues if d.key not in planned]
    if not new:
        return 0
    return len(_plan(new, now=now))


def _insert(table: str, columns: dict[str, str], rows: list[tuple], *, returning: str = "") -> list[tuple]:
    """``INSERT ... ON CONFLICT DO NOTHING [RETURNING ...]`` of ``rows`` (tuples in ``columns`` order) into ``table``.

    ``columns`` maps each column to its PostgreSQL type. On PostgreSQL one
    statement takes every row as arrays (``SELECT * FROM unnest(...)``); on
    SQLite multi-row VALUES in batches. The ORM's bulk_create would build a
    model instance per row and psycopg would parse one placeholder per value,
    which dominated planning (bench/sweep).
    """
    if not rows:
        return []
    names = ", ".join(columns)
    tail = " ON CONFLICT DO NOTHING" + (f" RETURNING {returning}" if returning else "")
    out: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{kind}[]" for kind in columns.values())
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}){tail}",  # noqa: S608 - names are ours
                [list(c) for c in zip(*rows, strict=True)],
            )
            return cursor.fetchall() if returning else out
        adapt = connection.ops.adapt_datetimefield_value  # as the ORM stores them (naive UTC text)
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            params = [adapt(v) if isinstance(v, dt.datetime) else v for row in chunk for v in row]
            sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(chunk))}{tail}"  # noqa: S608
            cursor.execute(sql, params)
            if returning:
                out += cursor.fetchall()
    return out


def _plan(new: list[Due], *, now: dt.datetime) -> list[int]:
    """Insert the ledger rows of ``new`` and their deliveries (ON CONFLICT DO NOTHING); returns the ids of the
    reminders this call created.

    A step another sweep planned meanwhile is left to it: RETURNING gives only
    the rows this statement inserted, and only those get deliveries here.
    """
    created = _insert(
        "postmortems_reminder",
        {
            "postmortem_id": "bigint",
            "kind": "text",
            "subject_key": "text",
            "cycle": "integer",
            "step": "integer",
            "due_at": "timestamptz",
            "created_at": "timestamptz",
        },
        [(d.postmortem_id, d.kind, d.subject_key, d.cycle, d.step, d.due_at, now) for d in new],
        returning="id, postmortem_id, kind, subject_key, cycle, step",
    )
    wanted = {d.key: d for d in new}
    team_ids = {d.team_id for d in new if d.team_id}
    leads = _team_leads(team_ids)
    teams = Team.objects.in_bulk(team_ids)
    owners = User.objects.only(*PERSON_FIELDS).in_bulk({d.owner_id for d in new if d.owner_id})
    deliveries = []
    for reminder_id, *key in created:
        due = wanted[tuple(key)]
        deliveries += _deliveries(
            reminder_id,
            due,
            owner=owners.get(due.owner_id),
            lead=leads.get(due.team_id),
            team=teams.get(due.team_id),
            now=now,
        )
    _insert(
        "postmortems_reminderdelivery",
        {
            "reminder_id": "bigint",
            "recipient_user_id": "bigint",
            "recipient_team_id": "bigint",
            "channel": "text",
            "address": "text",
            "not_before": "timestamptz",
            "status": "text",
            "attempts": "integer",
            "created_at": "timestamptz",
            "last_error": "text",
            "external_ref": "text",
        },
        [(*row, ReminderDelivery.Status.PENDING, 0, now, "", "") for row in deliveries],
    )
    if created:
        logger.info("planned %d reminders with %d deliveries", len(created), len(deliveries))
    return [row[0] for row in created]


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
    that owe nothing are skipped; steps past ``REMINDER_MAX_PER_PERSON`` are
    left to the weekly digest.
    """
    now = now or timezone.now()
    dues: list[Due] = []
    nothing_due = 0
    for postmortem_id in dict.fromkeys(postmortem_ids):
        found = due_reminders(now=now, postmortem_id=postmortem_id)
        nothing_due += not found
        dues += found
    personal = [d for d in dues if d.step < settings.REMINDER_MAX_PER_PERSON]
    in_digest = len({d.postmortem_id for d in dues} - {d.postmortem_id for d in personal})
    planned = planned_keys(personal)
    new = [d for d in personal if d.key not in planned]
    already = len({d.postmortem_id for d in personal if d.key in planned} - {d.postmortem_id for d in new})
    mine = _plan(new, now=now) if new else []
    deliveries = ReminderDelivery.objects.filter(reminder_id__in=mine)
    ready = list(deliveries.filter(not_before__lte=now, queued_at__isnull=True).values_list("pk", flat=True))
    if ready:
        ReminderDelivery.objects.filter(pk__in=ready, queued_at__isnull=True).update(queued_at=now)
        transaction.on_commit(lambda: _enqueue(ready))
    return SendNowResult(
        planned=len(mine),
        queued=len(ready),
        held=deliveries.filter(not_before__gt=now).count(),
        already_planned=already,
        in_digest=in_digest,
        nothing_due=nothing_due,
    )
