"""Which reminder steps are due: the debts (kinds and their start), the cadence, one ``Due`` per step.

See the package docstring for the kinds; planning (``planning``) turns them into ledger rows.
"""

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass

from django.conf import settings
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q

from ..models import ActionItem, PostMortem, RegressionTest, Reminder
from ..selectors import has_accepted_regression_test

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
