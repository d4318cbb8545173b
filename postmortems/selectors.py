"""Read-only queries over post-mortems, shared by the UI, the sweep and /metrics.

The rules they apply (overdue, accepted test, owing a regression test, "today")
live in ``postmortems.querysets``; these only choose, order and annotate.
"""

from datetime import datetime

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from .models import ActionItem, PostMortem, RegressionTest, ReminderDelivery
from .querysets import UNPUBLISHED_STATUSES


def postmortems_owing_regression_test(*, now: datetime) -> QuerySet[PostMortem]:
    """Post-mortems that owe a regression test at ``now`` (``PostMortemQuerySet.owing_regression_test``)."""
    owing = PostMortem.objects.owing_regression_test(now=now)
    return owing.select_related("incident", "incident__owning_team", "owner")


def postmortems_open(*, now: datetime) -> QuerySet[PostMortem]:
    """Post-mortems not yet complete (nor declined), by due date, with reminder counts, regression-test presence
    and the rules of ``PostMortemQuerySet.annotate_rules``."""
    return (
        PostMortem.objects.exclude(status__in=[PostMortem.Status.COMPLETE, PostMortem.Status.DECLINED])
        .annotate_rules(now=now)
        .select_related("incident", "incident__owning_team", "owner")
        .annotate(
            reminder_count=Count("reminders", distinct=True),
            has_test=Exists(RegressionTest.objects.filter(postmortem=OuterRef("pk"))),
            has_verified_test=Exists(
                RegressionTest.objects.filter(postmortem=OuterRef("pk"), state=RegressionTest.State.VERIFIED)
            ),
        )
        .order_by("due_at", "id")
    )


def _reminders_sent() -> Count:
    """How many reminder steps reached someone (at least one delivery sent)."""
    return Count("reminders", filter=Q(reminders__deliveries__status="sent"), distinct=True)


def reminders_sent(postmortem: PostMortem) -> int:
    """How many of ``postmortem``'s reminder steps reached someone: the ``reminders_sent`` of the debt lists."""
    return PostMortem.objects.filter(pk=postmortem.pk).aggregate(n=_reminders_sent())["n"]


def postmortems_regression_debt(*, now: datetime) -> QuerySet[PostMortem]:
    """Post-mortems that owe a regression test at ``now``, the longest-owing first, with ``reminders_sent``,
    ``tests_linked`` and ``tests_regressed`` (failing or missing in CI).

    Owing is ``PostMortemQuerySet.owing_regression_test``. ``owes_since`` is
    when the debt began (``PostMortemQuerySet.annotate_owes_since``: publication or the due date, whichever came
    first).
    """
    return _with_debt_figures(PostMortem.objects.owing_regression_test(now=now)).order_by("owes_since", "id")


def regression_debt_counts(*, now: datetime, began_before: datetime) -> dict[str, int]:
    """``total``: how many post-mortems owe a regression test at ``now`` (the debt list's rows, all of them);
    ``older``: how many of those have owed it since before ``began_before`` (``owes_since``). One query."""
    owing = PostMortem.objects.owing_regression_test(now=now).annotate_owes_since()
    return owing.aggregate(total=Count("pk"), older=Count("pk", filter=Q(owes_since__lt=began_before)))


def regression_tests_owed_by(owner) -> QuerySet[PostMortem]:
    """``owner``'s post-mortems whose regression test is what they owe now (``PostMortemQuerySet.test_reminder_due``:
    the ones the sweep sends test reminders about; late drafts owe their write-up first), soonest due first, with
    the figures of ``postmortems_regression_debt``."""
    owed = PostMortem.objects.test_reminder_due().filter(owner=owner)
    return _with_debt_figures(owed).order_by("due_at", "id")


def _with_debt_figures(queryset: QuerySet[PostMortem]) -> QuerySet[PostMortem]:
    return (
        queryset.select_related("incident", "incident__owning_team", "incident__primary_service", "owner")
        .annotate_owes_since()
        .annotate(
            reminders_sent=_reminders_sent(),
            tests_linked=Count("regression_tests", distinct=True),
            tests_regressed=Count(
                "regression_tests", filter=Q(regression_tests__state__in=["failing", "missing"]), distinct=True
            ),
        )
    )


def postmortems_owed(*, now: datetime, owner=None) -> QuerySet[PostMortem]:
    """Post-mortems still to be written (draft or in review), soonest due first, each with ``is_overdue_draft``;
    optionally one owner's."""
    queryset = PostMortem.objects.filter(status__in=UNPUBLISHED_STATUSES)
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    return (
        queryset.annotate_rules(now=now)
        .select_related("incident", "incident__owning_team", "owner")
        .order_by("due_at", "id")
    )


def action_items_open(*, now: datetime, owner=None) -> QuerySet[ActionItem]:
    """Open or in-progress action items, those with a due date first (soonest first), each with ``is_overdue``;
    optionally one owner's."""
    queryset = ActionItem.objects.still_open()
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    return (
        queryset.annotate_rules(now=now)
        .select_related("owner", "postmortem__incident")
        .order_by(F("due_date").asc(nulls_last=True), "priority", "id")
    )


def action_items_overdue(*, now: datetime) -> QuerySet[ActionItem]:
    """Overdue action items (``ActionItemQuerySet.overdue``), the most overdue first."""
    return action_items_open(now=now).overdue(now=now)


def reminder_deliveries_to(user) -> QuerySet[ReminderDelivery]:
    """Reminders addressed to ``user`` (any channel), newest first."""
    return (
        ReminderDelivery.objects.filter(recipient_user=user)
        .select_related("reminder__postmortem__incident")
        .order_by("-created_at", "-id")
    )


def postmortems_by_status() -> dict[str, int]:
    """How many post-mortems are in each workflow status, every status present (0 when none), ``declined`` included."""
    counts = dict(PostMortem.objects.order_by().values_list("status").annotate(n=Count("id")))
    return {status: counts.get(status, 0) for status in PostMortem.Status.values}


def postmortem_repositories(postmortem: PostMortem) -> QuerySet:
    """The repositories of the incident's services (primary and affected): where its regression test lives."""
    from ownership.models import Repository

    services = postmortem.incident.services.all()
    return Repository.objects.filter(services__in=services).distinct().order_by("name")


# How far back the test picker looks: the latest runs of each repository (a CI may upload many per day).
RECENT_RUNS_PER_REPOSITORY = 20


def recent_test_results(*, repository_ids: list[int], typed: str, limit: int = 100) -> list:
    """Canonical test ids seen in recent CI runs (``RECENT_RUNS_PER_REPOSITORY`` per repository) of
    ``repository_ids`` whose id contains ``typed`` (case-insensitive; "" matches all): at most ``limit``
    ``TestResult`` rows, one per (repository, test) — the newest — ordered by test id, with their run's
    repository. What a test picker offers as someone types.
    """
    from django.db.models import Max

    from .ci_models import TestResult, TestRun

    runs = []
    for repository_id in repository_ids:
        runs += (
            TestRun.objects.filter(repository_id=repository_id)
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)[:RECENT_RUNS_PER_REPOSITORY]
        )
    if not runs:
        return []
    matches = TestResult.objects.filter(test_run_id__in=runs)
    if typed:
        matches = matches.filter(test_id__icontains=typed)
    newest = matches.values("test_run__repository_id", "test_key").annotate(newest=Max("pk")).values("newest")
    return list(
        TestResult.objects.filter(pk__in=[row["newest"] for row in newest.order_by()[: limit * 2]])
        .select_related("test_run__repository")
        .order_by("test_id", "pk")[:limit]
    )
