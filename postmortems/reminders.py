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
from django.db import connection, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from notifications.base import Message, slack_enabled
from notifications.delivery import deliver, release_due, requeue_stuck
from notifications.reach import person_reach
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

    postmortem_id: int
    incident_id: int
    title: str  # the incident's
    team_id: int | None  # the owning team's
    owner_id: int | None  # the post-mortem owner's
    postmortem_due_at: dt.datetime
    kind: str
    cycle: int
    step: int
    due_at: dt.datetime
    action_item: ActionItem | None = None

    @property
    def public_id(self) -> str:
        return f"INC-{self.incident_id}"

    @property
    def subject_key(self) -> str:
        return f"action-item:{self.action_item.pk}" if self.action_item else ""

    @property
    def key(self) -> tuple:
        return (self.postmortem_id, self.kind, self.subject_key, self.cycle, self.step)


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


# What planning reads of a person (for channels and working hours).
PERSON_FIELDS = [
    "id", "username", "first_name", "last_name", "email", "slack_user_id", "timezone", "work_start", "work_end",
    "working_days",
]  # fmt: skip


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
    accepted = ExpressionWrapper(has_accepted_regression_test(), output_field=BooleanField())
    postmortems = (
        PostMortem.objects.filter(_awake(now))
        .alias(accepted=accepted, is_regressed=regressed)
        # Filter in SQL: most post-mortems owe nothing, and fetching them would dominate the sweep.
        .filter(
            Q(status__in=[S.DRAFT, S.IN_REVIEW], due_at__lte=now)
            | Q(accepted=False, status=S.PUBLISHED)
            | Q(accepted=False, status=S.COMPLETE, is_regressed=True)
        )
        .annotate(regressed=regressed)
        .order_by()
        # Tuples, not model instances: planning reads a handful of columns of thousands of rows.
        .values_list(
            "id",
            "status",
            "due_at",
            "published_at",
            "reminder_cycle",
            "reminder_cycle_started_at",
            "incident_id",
            "incident__title",
            "incident__owning_team_id",
            "owner_id",
            "regressed",
        )
    )
    if postmortem_id is not None:
        postmortems = postmortems.filter(pk=postmortem_id)
    dues = []
    for (
        pk,
        status,
        due_at,
        published_at,
        cycle,
        cycle_started,
        incident_id,
        title,
        team_id,
        owner_id,
        is_regressed,
    ) in postmortems:
        if status in (S.DRAFT, S.IN_REVIEW):
            kind, since, cycle = Kind.OVERDUE_DRAFT, due_at, 0
        elif is_regressed:
            kind, since = Kind.TEST_REGRESSED, cycle_started or published_at
        elif status == S.PUBLISHED:
            kind, since = Kind.NO_REGRESSION_TEST, cycle_started if cycle else published_at
        else:
            continue
        step = cadence_step(since, now) if since else None
        if step is not None:
            dues.append(Due(pk, incident_id, title, team_id, owner_id, due_at, kind, cycle, *step))
    items = (
        ActionItem.objects.filter(
            status__in=[ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS], due_date__lt=now.date()
        )
        .exclude(postmortem__status__in=[S.COMPLETE, S.DECLINED])
        .filter(Q(postmortem__snoozed_until__isnull=True) | Q(postmortem__snoozed_until__lte=now))
        .select_related("owner", "postmortem__incident")
        .only(
            "id",
            "title",
            "due_date",
            "owner",
            "postmortem_id",
            "postmortem__id",
            "postmortem__due_at",
            "postmortem__owner_id",
            "postmortem__incident__id",
            "postmortem__incident__title",
            "postmortem__incident__owning_team_id",
            *(f"owner__{f}" for f in PERSON_FIELDS),
        )
    )
    if postmortem_id is not None:
        items = items.filter(postmortem_id=postmortem_id)
    for item in items:
        since = dt.datetime.combine(item.due_date + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        step = cadence_step(since, now)
        if step is not None:
            pm, incident = item.postmortem, item.postmortem.incident
            dues.append(
                Due(
                    pm.pk,
                    incident.pk,
                    incident.title,
                    incident.owning_team_id,
                    pm.owner_id,
                    pm.due_at,
                    Kind.OVERDUE_ACTION_ITEM,
                    0,
                    *step,
                    action_item=item,
                )
            )
    return dues


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


def _enqueue(delivery_ids: list[int]) -> None:
    from .tasks import reminder_deliver_task

    for delivery_id in delivery_ids:
        reminder_deliver_task.delay(delivery_id)


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
    if due.kind == Kind.OVERDUE_DRAFT:
        return f"post-mortem draft overdue since {due.postmortem_due_at:%Y-%m-%d}"
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
