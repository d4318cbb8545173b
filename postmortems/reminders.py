"""The reminder loop: what is owed, to whom, when; planned once, delivered once, never lost.

Shape: beat ticks, the database decides, a ledger row dedupes, a
compare-and-set claims, one task per delivery sends.

What is reminded (``Reminder.Kind``):

* ``no_regression_test``: a published post-mortem with no accepted regression
  test (``verified``, or ``linked`` where the service's CI does not report);
* ``test_regressed``: a published or complete post-mortem whose regression test
  turned ``failing`` or ``missing`` (each regression starts a new cycle);
* ``overdue_draft``: a draft or in-review post-mortem past its due date;
* ``overdue_action_item``: an open action item past its due date (one ledger
  per item, ``subject_key="action-item:<id>"``).

Each debt has a start (``since``) and a cadence of steps after it
(``REMINDER_CADENCE_SECONDS``, then every ``REMINDER_REPEAT_SECONDS``). The
owner is reminded from step 0, the owning team's lead too from
``REMINDER_LEAD_FROM_STEP``, the team's Slack channel from
``REMINDER_TEAM_CHANNEL_FROM_STEP``. After ``REMINDER_MAX_PER_PERSON`` steps
personal reminders stop and the post-mortem goes into the team's weekly
digest (to the team channel and the lead) until it is fixed: the pushing
never silently ends. A person is reminded inside their working hours only
(``ownership.hours``): a delivery due at night is held (``not_before``) until
the next opening. Snoozed post-mortems are skipped until the snooze ends.

Planning is set-based (a fixed number of queries whatever the number of
post-mortems) and idempotent under concurrency: reminders are unique per
(post-mortem, kind, subject, cycle, step) and deliveries per (reminder,
recipient, channel); rows are inserted with ON CONFLICT DO NOTHING inside one
transaction, so two sweeps or two beats plan each step once, and a sweep that
dies plans nothing half-way. Delivery is at-least-once, with one named window
for a duplicate: see ``notifications.delivery``.
"""

import datetime as dt
import logging
from bisect import bisect_right
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from notifications.base import Message, email_enabled, slack_enabled
from notifications.delivery import deliver, requeue_stuck
from notifications.services import notify
from ownership.hours import next_working_time
from ownership.models import Membership, Team, User

from .models import ActionItem, Heartbeat, PostMortem, RegressionTest, Reminder, ReminderDelivery
from .selectors import has_accepted_regression_test

logger = logging.getLogger(__name__)

SWEEP_HEARTBEAT = "reminders_sweep"
Kind = Reminder.Kind
Channel = ReminderDelivery.Channel


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did: reminders it created, deliveries it released or re-queued, digests it planned."""

    planned: int
    requeued: int
    released: int = 0
    digests: int = 0


@dataclass(frozen=True)
class Due:
    """One reminder step that is due: which debt, which step, since when."""

    postmortem: PostMortem
    kind: str
    cycle: int
    step: int
    due_at: dt.datetime
    action_item: ActionItem | None = None

    @property
    def subject_key(self) -> str:
        return f"action-item:{self.action_item.pk}" if self.action_item else ""

    @property
    def key(self) -> tuple:
        return (self.postmortem.pk, self.kind, self.subject_key, self.cycle, self.step)


def cadence_step(since: dt.datetime, now: dt.datetime) -> tuple[int, dt.datetime] | None:
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
        return step, since + dt.timedelta(seconds=offsets[step])
    extra = int((elapsed - offsets[-1]) // repeat)
    return len(offsets) - 1 + extra, since + dt.timedelta(seconds=offsets[-1] + extra * repeat)


def _awake(now: dt.datetime) -> Q:
    return Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now)


def due_reminders(*, now: dt.datetime, postmortem_id: int | None = None) -> list[Due]:
    """Every reminder step due at ``now``, planned or not (two queries), optionally for one post-mortem.

    See the module docstring for the kinds and their start times.
    """
    S = PostMortem.Status
    regressed = Exists(
        RegressionTest.objects.filter(
            postmortem=OuterRef("pk"), state__in=[RegressionTest.State.FAILING, RegressionTest.State.MISSING]
        )
    )
    postmortems = (
        PostMortem.objects.filter(_awake(now))
        .filter(Q(status__in=[S.PUBLISHED, S.COMPLETE]) | Q(status__in=[S.DRAFT, S.IN_REVIEW], due_at__lte=now))
        .annotate(accepted=ExpressionWrapper(has_accepted_regression_test(), output_field=BooleanField()))
        .annotate(regressed=regressed)
        .select_related("incident__owning_team", "incident__primary_service", "owner")
    )
    if postmortem_id is not None:
        postmortems = postmortems.filter(pk=postmortem_id)
    dues = []
    for pm in postmortems:
        if pm.status in (S.DRAFT, S.IN_REVIEW):
            kind, since, cycle = Kind.OVERDUE_DRAFT, pm.due_at, 0
        elif pm.accepted:
            continue
        elif pm.regressed:
            kind, cycle = Kind.TEST_REGRESSED, pm.reminder_cycle
            since = pm.reminder_cycle_started_at or pm.published_at
        elif pm.status == S.PUBLISHED:
            kind, cycle = Kind.NO_REGRESSION_TEST, pm.reminder_cycle
            since = pm.reminder_cycle_started_at if pm.reminder_cycle else pm.published_at
        else:
            continue
        step = cadence_step(since, now) if since else None
        if step is not None:
            dues.append(Due(pm, kind, cycle, *step))
    items = (
        ActionItem.objects.filter(
            status__in=[ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS], due_date__lt=now.date()
        )
        .exclude(postmortem__status=S.COMPLETE)
        .filter(Q(postmortem__snoozed_until__isnull=True) | Q(postmortem__snoozed_until__lte=now))
        .select_related("owner", "postmortem__incident__owning_team", "postmortem__owner")
    )
    if postmortem_id is not None:
        items = items.filter(postmortem_id=postmortem_id)
    for item in items:
        since = dt.datetime.combine(item.due_date + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        step = cadence_step(since, now)
        if step is not None:
            dues.append(Due(item.postmortem, Kind.OVERDUE_ACTION_ITEM, 0, *step, action_item=item))
    return dues


def planned_keys(dues: list[Due]) -> set[tuple]:
    """The (post-mortem, kind, subject, cycle, step) keys of ``dues`` that already have a ledger row."""
    if not dues:
        return set()
    rows = Reminder.objects.filter(
        postmortem_id__in={d.postmortem.pk for d in dues}, step__in={d.step for d in dues}
    ).values_list("postmortem_id", "kind", "subject_key", "cycle", "step")
    return set(rows)


def _team_leads(teams: set[int]) -> dict[int, User]:
    memberships = Membership.objects.filter(team_id__in=teams, role=Membership.Role.LEAD).select_related("user")
    return {m.team_id: m.user for m in memberships}


def _deliveries(reminder: Reminder, due: Due, lead: User | None, now: dt.datetime) -> list[ReminderDelivery]:
    """The delivery rows of one reminder: people in their working hours, the team channel when escalated.

    Everyone gets the outbox; a person gets Slack at their Slack id and email
    at their address when those channels are configured; someone Slack cannot
    reach directly is reached through the team channel instead.
    """
    team: Team | None = due.postmortem.incident.owning_team
    owner = (due.action_item.owner if due.action_item else None) or due.postmortem.owner or lead
    people = [owner] if owner else []
    if due.step >= settings.REMINDER_LEAD_FROM_STEP and lead and lead not in people:
        people.append(lead)
    rows = []

    def add(channel: str, address: str, *, user: User | None = None, not_before: dt.datetime = now) -> None:
        rows.append(
            ReminderDelivery(
                reminder=reminder,
                recipient_user=user,
                recipient_team=None if user else team,
                channel=channel,
                address=address,
                not_before=not_before,
                created_at=now,
            )
        )

    for person in people:
        later = next_working_time(person, now)
        add(Channel.OUTBOX, f"user:{person.username}", user=person, not_before=later)
        if slack_enabled() and person.slack_user_id:
            add(Channel.SLACK, person.slack_user_id, user=person, not_before=later)
        if email_enabled() and person.email:
            add(Channel.EMAIL, person.email, user=person, not_before=later)
    unreachable_on_slack = slack_enabled() and any(not p.slack_user_id for p in people)
    to_team = due.step >= settings.REMINDER_TEAM_CHANNEL_FROM_STEP or not people or unreachable_on_slack
    if team is not None and to_team:
        if not people:
            add(Channel.OUTBOX, f"team:{team.slug}")
        if slack_enabled() and team.slack_channel:
            add(Channel.SLACK, team.slack_channel)
    if not rows:
        logger.warning("reminder %s for post-mortem %s has nobody to go to", reminder.pk, due.postmortem.pk)
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
    Reminder.objects.bulk_create(
        [
            Reminder(
                postmortem=d.postmortem,
                kind=d.kind,
                subject_key=d.subject_key,
                cycle=d.cycle,
                step=d.step,
                due_at=d.due_at,
                created_at=now,
            )
            for d in new
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    wanted = {d.key: d for d in new}
    rows = Reminder.objects.filter(
        postmortem_id__in={d.postmortem.pk for d in new}, step__in={d.step for d in new}, created_at=now
    )
    mine = [r for r in rows if (r.postmortem_id, r.kind, r.subject_key, r.cycle, r.step) in wanted]
    leads = _team_leads({d.postmortem.incident.owning_team_id for d in new if d.postmortem.incident.owning_team_id})
    deliveries = []
    for reminder in mine:
        due = wanted[(reminder.postmortem_id, reminder.kind, reminder.subject_key, reminder.cycle, reminder.step)]
        deliveries += _deliveries(reminder, due, leads.get(due.postmortem.incident.owning_team_id), now)
    ReminderDelivery.objects.bulk_create(deliveries, ignore_conflicts=True, batch_size=1000)
    for reminder in mine:
        logger.info("planned %s step %s for post-mortem %s", reminder.kind, reminder.step, reminder.postmortem_id)
    return len(mine)


def _enqueue(delivery_ids: list[int]) -> None:
    from .tasks import reminder_deliver_task

    for delivery_id in delivery_ids:
        reminder_deliver_task.delay(delivery_id)


def reminders_release(*, now: dt.datetime, limit: int = 10_000) -> int:
    """Enqueue pending deliveries whose hold (``not_before``) has passed and that were never enqueued.

    Returns how many. Two sweeps may enqueue the same delivery; the claim in
    ``notifications.delivery.deliver`` makes the second task a no-op.
    """
    ready = ReminderDelivery.objects.filter(
        status=ReminderDelivery.Status.PENDING, queued_at__isnull=True, not_before__lte=now
    )
    ids = list(ready.order_by("not_before").values_list("pk", flat=True)[:limit])
    if ids:
        ReminderDelivery.objects.filter(pk__in=ids, queued_at__isnull=True).update(queued_at=now)
        transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


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
        if due.postmortem.incident.owning_team_id:
            by_team.setdefault(due.postmortem.incident.owning_team_id, []).append(due)
    if not by_team:
        return 0
    leads = _team_leads(set(by_team))
    teams = Team.objects.in_bulk(list(by_team))
    year, week, _ = now.isocalendar()
    planned = 0
    for team_id, dues in by_team.items():
        team, lead = teams[team_id], leads.get(team_id)
        lines = sorted({f"- {d.postmortem.incident.public_id} {d.postmortem.incident.title}: {_what(d)}" for d in dues})
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


def reminder_obsolete_reason(reminder: Reminder) -> str:
    """Why ``reminder`` should no longer be sent ("" if it still should). Read at send time, not plan time."""
    now = timezone.now()
    postmortem = PostMortem.objects.get(pk=reminder.postmortem_id)
    if postmortem.snoozed_until and postmortem.snoozed_until > now:
        return f"snoozed until {postmortem.snoozed_until:%Y-%m-%d %H:%M} UTC"
    later = (
        Reminder.objects.filter(
            postmortem_id=reminder.postmortem_id,
            kind=reminder.kind,
            subject_key=reminder.subject_key,
            cycle=reminder.cycle,
            step__gt=reminder.step,
        )
        .order_by("-step")
        .values_list("step", flat=True)
        .first()
    )
    if later is not None:  # e.g. held over a weekend while the next step fell due: send only the newest
        return f"superseded by reminder step {later + 1}"
    current = {d.key for d in due_reminders(now=now, postmortem_id=postmortem.pk)}
    if not any(k[1:4] == (reminder.kind, reminder.subject_key, reminder.cycle) for k in current):
        return {
            Kind.NO_REGRESSION_TEST: "post-mortem has a verified regression test",
            Kind.TEST_REGRESSED: "regression test is passing again",
            Kind.OVERDUE_DRAFT: "post-mortem is published",
            Kind.OVERDUE_ACTION_ITEM: "action item is done",
        }.get(reminder.kind, "no longer owed")
    return ""


def _what(due: Due) -> str:
    """What is missing, in a few words."""
    pm = due.postmortem
    if due.kind == Kind.OVERDUE_DRAFT:
        return f"post-mortem draft overdue since {pm.due_at:%Y-%m-%d}"
    if due.kind == Kind.OVERDUE_ACTION_ITEM:
        return f"action item “{due.action_item.title}” overdue since {due.action_item.due_date:%Y-%m-%d}"
    if due.kind == Kind.TEST_REGRESSED:
        return "its regression test is failing or missing in CI"
    return "no regression test verified in CI"


def reminder_message(delivery: ReminderDelivery) -> Message:
    """The text of one reminder: exactly what is missing, and the link where it is fixed."""
    reminder = delivery.reminder
    pm = reminder.postmortem
    incident = pm.incident
    detail = settings.SREDESK_BASE_URL + reverse("postmortems:detail", args=[pm.pk])
    if reminder.kind == Kind.OVERDUE_DRAFT:
        text = f"{incident.public_id} post-mortem draft is overdue (due {pm.due_at:%Y-%m-%d}): publish it at {detail}"
    elif reminder.kind == Kind.OVERDUE_ACTION_ITEM:
        item = ActionItem.objects.get(pk=int(reminder.subject_key.split(":")[1]))
        where = item.tracker_url or detail
        text = f"{incident.public_id} action item “{item.title}” is overdue (due {item.due_date:%Y-%m-%d}): {where}"
    elif reminder.kind == Kind.TEST_REGRESSED:
        bad = pm.regression_tests.filter(
            state__in=[RegressionTest.State.FAILING, RegressionTest.State.MISSING]
        ).values_list("test_id", "state")
        names = ", ".join(f"{test_id} ({state})" for test_id, state in bad)
        text = f"{incident.public_id} regression test no longer passes in CI: {names}. Fix it: {detail}"
    else:
        link = settings.SREDESK_BASE_URL + reverse("postmortems:link_test", args=[pm.pk])
        states = sorted(set(pm.regression_tests.values_list("state", flat=True)))
        if states:
            text = (
                f"{incident.public_id} post-mortem has no regression test verified in CI yet "
                f"(linked: {', '.join(states)}): see {detail}"
            )
        else:
            text = f"{incident.public_id} post-mortem has no regression test: link one at {link}"
    sent_before = Reminder.objects.filter(
        postmortem_id=reminder.postmortem_id,
        kind=reminder.kind,
        subject_key=reminder.subject_key,
        cycle=reminder.cycle,
        step__lt=reminder.step,
    ).count()
    if sent_before:
        text += f" (reminder {sent_before + 1})"
    if delivery.recipient_team_id or (pm.owner_id and delivery.recipient_user_id != pm.owner_id):
        text = f"Escalation, owner {pm.owner or 'unassigned'}: {text}"
    return Message(
        address=delivery.address,
        subject=f"{incident.public_id} ({incident.get_severity_display()}) {incident.title}",
        text=text,
        url=detail,
        dedup_key=f"reminder-delivery:{delivery.pk}",
    )


def reminder_deliver(*, delivery_id: int) -> str:
    """Send one reminder delivery if it is pending and still needed; see ``notifications.delivery.deliver``."""
    return deliver(
        ReminderDelivery.objects.select_related("reminder__postmortem__incident__owning_team"),
        delivery_id,
        build=reminder_message,
        obsolete=lambda delivery: reminder_obsolete_reason(delivery.reminder),
    )
