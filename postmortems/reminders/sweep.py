"""The beat's sweep: plan due steps, release held deliveries, re-queue stuck ones, plan the weekly digests."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications.delivery import release_due, requeue_stuck
from notifications.services import notify
from ownership.models import Team

from ..models import Heartbeat, ReminderDelivery
from .delivery import _enqueue, _what
from .due import Due, due_reminders
from .planning import _team_leads, reminders_plan_due

SWEEP_HEARTBEAT = "reminders_sweep"


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did: reminders it created, deliveries it released or re-queued, digests it planned."""

    planned: int
    requeued: int
    released: int = 0
    digests: int = 0


def reminders_release(*, now: dt.datetime) -> int:
    """Enqueue reminder deliveries whose hold (working hours, Retry-After) has passed (``release_due``)."""
    return release_due(ReminderDelivery, now=now, enqueue=_enqueue)


def reminders_requeue_stuck(*, now: dt.datetime) -> int:
    """Re-enqueue reminder deliveries whose worker or message was lost (see ``notifications.delivery``)."""
    return requeue_stuck(ReminderDelivery, now=now, enqueue=_enqueue)


def reminders_digest(*, now: dt.datetime) -> int:
    """Plan this ISO week's digest for each team with post-mortems past the personal maximum. Returns how many.

    One digest per team per week (the notification key holds the week), to
    the team's channel and its lead, listing every such post-mortem.
    """
    overdue = [d for d in due_reminders(now=now) if d.step >= settings.REMINDER_MAX_PER_PERSON]
    by_team: dict[int, list[Due]] = {}
    for due in overdue:
        if due.team_id:
            by_team.setdefault(due.team_id, []).append(due)
    if not by_team:
        return 0
    leads = _team_leads(set(by_team))
    teams = Team.objects.in_bulk(list(by_team))
    year, week, _ = now.isocalendar()
    planned = 0
    for team_id, dues in by_team.items():
        team, lead = teams[team_id], leads.get(team_id)
        lines = sorted({f"- {d.public_id} {d.title}: {_what(d)}" for d in dues})
        header = f"Weekly digest for {team}: {len(lines)} item(s) still owed after every personal reminder."
        text = "\n".join([header, *lines])
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


def reminders_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """One beat tick: plan due reminders, release held deliveries, re-queue stuck ones, digest, heartbeat."""
    now = now or timezone.now()
    planned = reminders_plan_due(now=now)
    with transaction.atomic():
        released = reminders_release(now=now)
    requeued = reminders_requeue_stuck(now=now)
    digests = reminders_digest(now=now)
    Heartbeat.objects.update_or_create(name=SWEEP_HEARTBEAT, defaults={"last_success_at": timezone.now()})
    return SweepResult(planned=planned, requeued=requeued, released=released, digests=digests)
