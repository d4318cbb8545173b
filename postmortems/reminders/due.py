"""Which reminder steps are due: the debts (kinds and their start), the cadence, one ``Due`` per step.

See the package docstring for the kinds; planning (``planning``) turns them into ledger rows.
"""

import datetime as dt
from bisect import bisect_right
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Exists, Max, Min, Model, OuterRef, Q, QuerySet

from incidents.models import public_id_for
from slos.policy import steps_sooner_by_service

from ..models import ActionItem, PostMortem, RegressionTest, Reminder
from ..querysets import action_item_overdue_since, overdue_draft_q, test_reminder_due_q

Kind = Reminder.Kind


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
    snoozed_until: dt.datetime | None = None  # the post-mortem's snooze, over or not (None: never snoozed)
    # Cadence steps ahead under the error-budget policy (``slos.policy``): step ``n + sooner`` falls at the
    # usual time of step ``n``, and steps below ``sooner`` are never planned.
    sooner: int = 0

    @property
    def public_id(self) -> str:
        return public_id_for(self.incident_id)

    @property
    def subject_key(self) -> str:
        return f"action-item:{self.action_item.pk}" if self.action_item else ""

    @property
    def key(self) -> tuple:
        return (self.postmortem_id, self.kind, self.subject_key, self.cycle, self.step)

    @property
    def since(self) -> dt.datetime:
        """When the debt began (its first step's due time)."""
        return self.due_at - dt.timedelta(seconds=cadence_offset(self.step - self.sooner))

    def step_due_at(self, step: int) -> dt.datetime | None:
        """When ``step`` of this debt falls due under the same policy; None for a step the policy skips."""
        if step < self.sooner:
            return None
        return self.since + dt.timedelta(seconds=cadence_offset(step - self.sooner))


def cadence_offset(step: int) -> float:
    """Seconds from a debt's start to its ``step`` (0-based): ``SREDESK_REMINDER_CADENCE_SECONDS``, then every
    ``SREDESK_REMINDER_REPEAT_SECONDS``."""
    offsets = settings.SREDESK_REMINDER_CADENCE_SECONDS
    if step < len(offsets):
        return offsets[step]
    return offsets[-1] + (step - len(offsets) + 1) * settings.SREDESK_REMINDER_REPEAT_SECONDS


def cadence_step(since: dt.datetime, now: dt.datetime, sooner: int = 0) -> tuple[int, dt.datetime] | None:
    """The latest cadence step due at ``now`` for a debt that began at ``since``.

    Steps fall at ``SREDESK_REMINDER_CADENCE_SECONDS`` after ``since``, then every
    ``SREDESK_REMINDER_REPEAT_SECONDS`` after the last of them. Returns (step, the
    step's due time), or None before the first step. Steps missed while
    nothing ran are not sent late one by one: only the latest counts (planning
    records the missed ones as superseded, with the reason). ``sooner``: the
    error-budget policy's steps ahead (``slos.policy.steps_sooner_by_service``); the step
    returned is that many higher, due at the same time.
    """
    found = _cadence_step(since, now)
    return None if found is None else (found[0] + sooner, found[1])


def _cadence_step(since: dt.datetime, now: dt.datetime) -> tuple[int, dt.datetime] | None:
    offsets = settings.SREDESK_REMINDER_CADENCE_SECONDS
    repeat = settings.SREDESK_REMINDER_REPEAT_SECONDS
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


def _owing_postmortems(now: dt.datetime, tests: QuerySet[RegressionTest]) -> QuerySet:
    """Post-mortems owing a reminder of their own at ``now`` (not snoozed), as tuples of what planning reads.

    ``tests``: the regression tests of the post-mortems to be read (PostgreSQL
    evaluates the EXISTS under OR as hashed subplans, each a scan of ``tests``).
    """
    regressed = Exists(
        tests.filter(postmortem=OuterRef("pk"), state__in=[RegressionTest.State.FAILING, RegressionTest.State.MISSING])
    )
    return (
        PostMortem.objects.filter(_awake(now))
        # Filter in SQL: most post-mortems owe nothing, and fetching them would dominate the sweep.
        # Late drafts owe their write-up (``overdue_draft``); the others, their regression test.
        .filter(overdue_draft_q(now) | test_reminder_due_q(tests))
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
            "snoozed_until",
            "incident__primary_service_id",
        )
    )


def _postmortem_dues(rows: list[tuple], now: dt.datetime, held: dict[int, int]) -> list[Due]:
    """``held``: reminder steps ahead per service under the error-budget policy (``steps_sooner_by_service``)."""
    S = PostMortem.Status
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
        snoozed_until,
        service_id,
    ) in rows:
        sooner = held.get(service_id, 0)
        if status in (S.DRAFT, S.IN_REVIEW):
            kind, since, cycle = Kind.OVERDUE_DRAFT, due_at, 0
        elif is_regressed:
            kind, since = Kind.TEST_REGRESSED, cycle_started or published_at
        elif status == S.PUBLISHED:
            kind, since = Kind.NO_REGRESSION_TEST, cycle_started if cycle else published_at
        else:
            continue
        step = cadence_step(since, now, sooner) if since else None
        if step is not None:
            dues.append(
                Due(
                    pk,
                    incident_id,
                    title,
                    team_id,
                    owner_id,
                    due_at,
                    kind,
                    cycle,
                    *step,
                    snoozed_until=snoozed_until,
                    sooner=sooner,
                )
            )
    return dues


def _overdue_items(now: dt.datetime) -> QuerySet[ActionItem]:
    """Open action items past their due date whose post-mortem is neither closed nor snoozed, with what planning
    reads (their owner, post-mortem and incident)."""
    S = PostMortem.Status
    return (
        ActionItem.objects.overdue(now=now)
        .exclude(postmortem__status__in=[S.COMPLETE, S.DECLINED])
        .filter(Q(postmortem__snoozed_until__isnull=True) | Q(postmortem__snoozed_until__lte=now))
        .select_related("owner", "postmortem__incident")
        .only(
            "id",
            "title",
            "due_date",
            "created_at",
            "owner",
            "postmortem_id",
            "postmortem__id",
            "postmortem__due_at",
            "postmortem__owner_id",
            "postmortem__snoozed_until",
            "postmortem__incident__id",
            "postmortem__incident__title",
            "postmortem__incident__owning_team_id",
            "postmortem__incident__primary_service_id",
            *(f"owner__{f}" for f in PERSON_FIELDS),
        )
    )


def _item_dues(items: list[ActionItem], now: dt.datetime, held: dict[int, int]) -> list[Due]:
    dues = []
    for item in items:
        sooner = held.get(item.postmortem.incident.primary_service_id, 0)
        # Not before the item existed: one created already late (a confirmed past due date) gets its
        # personal reminders from the start, rather than going straight to the digest.
        since = max(action_item_overdue_since(item.due_date), item.created_at)
        step = cadence_step(since, now, sooner)
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
                    snoozed_until=pm.snoozed_until,
                    sooner=sooner,
                )
            )
    return dues


def due_reminder_chunks(*, now: dt.datetime, postmortem_ids: Collection[int] | None = None) -> Iterator[list[Due]]:
    """Every reminder step due at ``now``, planned or not, a chunk at a time; optionally for some post-mortems only.

    Each chunk holds the dues of the post-mortems (then of the action items)
    in one window of ``SREDESK_REMINDER_PLAN_CHUNK`` consecutive ids, read by one
    query that also looks only at those post-mortems' regression tests: its
    memory, statement size and cost stay the same whatever the number of
    post-mortems, and the walk reads each row once. ``postmortem_ids`` (at
    most a chunk's worth on SQLite) travels as one array parameter. The
    error-budget policy (which services it holds, ``slos.policy``) is read
    once, by one query over the services, and shifts each debt's steps. See the
    package docstring for the kinds and their start times.
    """
    items = _overdue_items(now)
    held = steps_sooner_by_service()  # the error-budget policy, read once for the whole walk
    if postmortem_ids is not None:
        tests = RegressionTest.objects.filter(postmortem_id__any=postmortem_ids)
        yield _postmortem_dues(list(_owing_postmortems(now, tests).filter(pk__any=postmortem_ids)), now, held)
        yield _item_dues(list(items.filter(postmortem_id__any=postmortem_ids)), now, held)
        return
    for low, high in _windows(PostMortem):
        tests = RegressionTest.objects.filter(postmortem_id__gt=low, postmortem_id__lte=high)
        yield _postmortem_dues(list(_owing_postmortems(now, tests).filter(pk__gt=low, pk__lte=high)), now, held)
    for low, high in _windows(ActionItem):
        yield _item_dues(list(items.filter(pk__gt=low, pk__lte=high)), now, held)


def _windows(model: type[Model]) -> Iterator[tuple[int, int]]:
    """Consecutive id ranges (low, high] of ``SREDESK_REMINDER_PLAN_CHUNK`` ids covering ``model``'s rows as they
    are now."""
    size = settings.SREDESK_REMINDER_PLAN_CHUNK
    bounds = model.objects.aggregate(first=Min("pk"), last=Max("pk"))
    if bounds["first"] is None:
        return
    for low in range(bounds["first"] - 1, bounds["last"], size):
        yield low, low + size


def due_reminders(*, now: dt.datetime, postmortem_id: int | None = None) -> list[Due]:
    """Every reminder step due at ``now``, planned or not, for one post-mortem (or all: small data sets only;
    the sweep walks ``due_reminder_chunks``)."""
    ids = None if postmortem_id is None else [postmortem_id]
    return [due for chunk in due_reminder_chunks(now=now, postmortem_ids=ids) for due in chunk]
