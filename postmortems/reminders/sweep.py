"""The beat's sweep: plan due steps chunk by chunk, release held deliveries, re-queue stuck ones, plan the
weekly digests, and store the figures ``/metrics`` reads.

The sweep walks ``due_reminder_chunks`` once: each chunk's personal steps are
planned in a transaction of their own (so memory, statement size and lock time
stay bounded whatever the backlog, and a crash leaves the chunks already
planned, which the next sweep skips); a chunk that fails is retried in halves
down to the single step at fault, which is logged and counted while every
other step is planned. Steps past the personal maximum feed the digests.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from notifications.delivery import release_due, requeue_stuck
from notifications.services import notify
from ownership.models import Team

from ..models import Heartbeat, Reminder, ReminderDelivery
from .delivery import _enqueue, _what
from .due import Due, due_reminder_chunks
from .planning import _plan, _team_leads, missed_steps, planned_keys, unplanned
from .settle import settled_edits_release

logger = logging.getLogger(__name__)

SWEEP_HEARTBEAT = "reminders_sweep"
DIGEST_LINES = 50  # items listed by name in one team's digest; the rest are counted


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did: reminders it created, deliveries it released or re-queued, digests it planned, missed
    steps it recorded as superseded, due steps it failed to plan (logged; the next sweep tries again), and
    settled reminders' Slack edits it enqueued again."""

    planned: int
    requeued: int
    released: int = 0
    digests: int = 0
    superseded: int = 0
    failed: int = 0
    edits: int = 0  # settled reminders' Slack edits (re-)enqueued: their retry time came, or their task was lost


@dataclass
class _Digest:
    """One team's digest so far: how many items, and the first ``DIGEST_LINES`` lines in order."""

    count: int = 0
    lines: list[str] = field(default_factory=list)

    def add(self, dues: list[Due], sent: dict[tuple, int]) -> None:
        """Count ``dues``; ``sent``: personal reminders sent per debt (``_personal_reminders_sent``)."""
        self.count += len(dues)
        lines = (f"- {d.public_id} {d.title}: {_what(d)} ({_times(sent.get(d.key[:4], 0))})" for d in dues)
        self.lines = sorted({*self.lines, *lines})[:DIGEST_LINES]


@dataclass
class PlanResult:
    """What ``plan_due`` did and saw: the figures a sweep stores for ``/metrics``."""

    planned: int = 0
    superseded: int = 0
    failed: int = 0
    oldest_failed_due_at: dt.datetime | None = None  # the oldest due step left unplanned by an error
    next_due_at: dt.datetime | None = None  # the earliest personal step not due yet, among the debts seen
    digests: dict[int, _Digest] = field(default_factory=dict)  # team id -> items past the personal maximum

    def failed_on(self, dues: list[Due]) -> None:
        self.failed += len(dues)
        self.oldest_failed_due_at = min(filter(None, [self.oldest_failed_due_at, *(d.due_at for d in dues)]))


def plan_due(*, now: dt.datetime, last_sweep: dt.datetime | None = None) -> PlanResult:
    """Plan every due, unplanned step below the personal maximum, a chunk at a time (see the module docstring).

    ``last_sweep``: the instant the previous sweep planned at; steps that fell due after it and are not the
    latest of their debt are recorded as superseded (``planning.missed_steps``). Each step is planned once
    whatever runs concurrently (ON CONFLICT DO NOTHING): ``planned`` counts the reminders this call created.
    """
    result = PlanResult()
    most = settings.SREDESK_REMINDER_MAX_PER_PERSON
    for chunk in due_reminder_chunks(now=now):
        personal = [d for d in chunk if d.step < most]
        _plan_isolated(personal, now=now, last_sweep=last_sweep, result=result)
        for due in personal:
            if due.step + 1 < most:
                upcoming = due.step_due_at(due.step + 1)
                result.next_due_at = min(filter(None, [result.next_due_at, upcoming]))
        _add_to_digests(result.digests, chunk)
    return result


def _plan_isolated(dues: list[Due], *, now: dt.datetime, last_sweep: dt.datetime | None, result: PlanResult) -> None:
    """Plan ``dues`` in one transaction; if it fails, each half on its own, down to the single step at fault."""
    if not dues:
        return
    try:
        with transaction.atomic():
            planned = planned_keys(dues)
            new = unplanned(dues, planned)
            missed = dict(m for d in new for m in missed_steps(d, planned, last_sweep=last_sweep, now=now))
            created = _plan([*missed, *new], now=now, superseded={d.key: why for d, why in missed.items()})
    except Exception:  # any error of one step must not stop the others: isolate it
        if not connection.is_usable():
            raise  # the database is gone, not one step: let the task fail and the next tick retry
        if len(dues) == 1:
            logger.exception(
                "planning reminder step %s of post-mortem %s failed",
                dues[0].step,
                dues[0].postmortem_id,
                extra={"postmortem_id": dues[0].postmortem_id, "kind": dues[0].kind, "step": dues[0].step},
            )
            result.failed_on(dues)
            return
        half = len(dues) // 2
        _plan_isolated(dues[:half], now=now, last_sweep=last_sweep, result=result)
        _plan_isolated(dues[half:], now=now, last_sweep=last_sweep, result=result)
        return
    result.planned += len(created)
    result.superseded += len(missed)


def reminders_plan_due(*, now: dt.datetime) -> int:
    """``plan_due`` without the previous sweep's instant (no missed steps recorded); returns how many reminders
    this call created (a concurrent sweep may create the rest; ON CONFLICT DO NOTHING makes both harmless)."""
    return plan_due(now=now).planned


def reminders_release(*, now: dt.datetime) -> int:
    """Enqueue reminder deliveries whose hold (working hours, Retry-After) has passed (``release_due``)."""
    return release_due(ReminderDelivery, now=now, enqueue=_enqueue)


def reminders_requeue_stuck(*, now: dt.datetime) -> int:
    """Re-enqueue reminder deliveries whose worker or message was lost (see ``notifications.delivery``)."""
    return requeue_stuck(ReminderDelivery, now=now, enqueue=_enqueue)


def reminders_digest(*, now: dt.datetime, digests: dict[int, _Digest] | None = None) -> int:
    """Plan this ISO week's digest for each team with items past the personal maximum. Returns how many.

    One digest per team per week (the notification key holds the week), to
    the team's channel and its lead, counting every such item and listing the
    first ``DIGEST_LINES`` by incident, each with how many personal reminders
    were actually sent about it (none, when it fell due longer ago than the
    cadence reaches). ``digests`` is what ``plan_due`` collected on its walk;
    without it the due steps are walked here.
    """
    if digests is None:
        digests = _collect_digests(now)
    if not digests:
        return 0
    leads = _team_leads(set(digests))
    teams = Team.objects.filter(pk__any=list(digests)).in_bulk()
    year, week, _ = now.isocalendar()
    planned = 0
    for team_id, digest in digests.items():
        team, lead = teams[team_id], leads.get(team_id)
        header = f"Weekly digest for {team}: {digest.count} item(s) still owed that personal reminders no longer cover."
        more = digest.count - len(digest.lines)
        text = "\n".join([header, *digest.lines, *([f"… and {more} more: see the list"] if more > 0 else [])])
        planned += bool(
            notify(
                key=f"reminder-digest:{team_id}:{year}-W{week:02d}",
                topic=f"{team} digest",
                subject=f"sredesk weekly digest for {team}",
                text=text,
                url=settings.SREDESK_BASE_URL + reverse("postmortems:open"),
                slack=[team.slack_channel, lead.slack_user_id if lead else ""],
                outbox=[f"team:{team.slug}"] + ([f"user:{lead.username}"] if lead else []),
                email=[lead.email] if lead and lead.email else [],
            )
        )
    return planned


def _collect_digests(now: dt.datetime) -> dict[int, _Digest]:
    digests: dict[int, _Digest] = {}
    for chunk in due_reminder_chunks(now=now):
        _add_to_digests(digests, chunk)
    return digests


def _add_to_digests(digests: dict[int, _Digest], dues: list[Due]) -> None:
    """Add the steps of ``dues`` past the personal maximum to their team's digest (one query for the chunk)."""
    past = [d for d in dues if d.step >= settings.SREDESK_REMINDER_MAX_PER_PERSON and d.team_id]
    sent = _personal_reminders_sent(past)
    by_team: dict[int, list[Due]] = {}
    for due in past:
        by_team.setdefault(due.team_id, []).append(due)
    for team_id, team_dues in by_team.items():
        digests.setdefault(team_id, _Digest()).add(team_dues, sent)


def _personal_reminders_sent(dues: list[Due]) -> dict[tuple, int]:
    """How many steps of each debt (post-mortem, kind, subject, cycle) reached a person (a delivery sent)."""
    if not dues:
        return {}
    rows = (
        Reminder.objects.filter(
            postmortem_id__in={d.postmortem_id for d in dues},
            deliveries__recipient_user__isnull=False,
            deliveries__status=ReminderDelivery.Status.SENT,
        )
        .values_list("postmortem_id", "kind", "subject_key", "cycle")
        .annotate(steps=Count("id", distinct=True))
    )
    return {tuple(row[:4]): row[4] for row in rows}


def _times(sent: int) -> str:
    if not sent:
        return "no personal reminder was sent"
    return f"{sent} personal reminder{'s' if sent != 1 else ''} sent"


def reminders_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """One beat tick: plan due reminders, release held deliveries, re-queue stuck ones, digest, then store the
    heartbeat and the figures ``/metrics`` reads (``sweep_figures``)."""
    now = now or timezone.now()
    previous = sweep_figures()
    plan = plan_due(now=now, last_sweep=previous.get("planned_at"))
    with transaction.atomic():
        released = reminders_release(now=now)
    requeued = reminders_requeue_stuck(now=now)
    edits = settled_edits_release(now=now)
    digests = reminders_digest(now=now, digests=plan.digests)
    figures = {
        "planned_at": now,
        "failed": plan.failed,
        "oldest_failed_due_at": plan.oldest_failed_due_at,
        "next_due_at": plan.next_due_at,
    }
    Heartbeat.objects.update_or_create(
        name=SWEEP_HEARTBEAT,
        defaults={"last_success_at": timezone.now(), "figures": {k: _iso(v) for k, v in figures.items()}},
    )
    return SweepResult(
        planned=plan.planned,
        requeued=requeued,
        released=released,
        digests=digests,
        superseded=plan.superseded,
        failed=plan.failed,
        edits=edits,
    )


def sweep_figures() -> dict:
    """What the last sweep stored: ``planned_at`` (the instant it planned at), ``failed`` (due steps it could
    not plan), ``oldest_failed_due_at`` and ``next_due_at`` (aware UTC datetimes or None); {} before any sweep.
    """
    row = Heartbeat.objects.filter(name=SWEEP_HEARTBEAT).values_list("figures", flat=True).first()
    if not row:
        return {}
    return {k: dt.datetime.fromisoformat(v) if k.endswith("_at") and v else v for k, v in row.items()}


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.datetime) else value
