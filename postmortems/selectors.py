"""Read-only queries over post-mortems, shared by the UI, the sweep and /metrics."""

from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from .models import PostMortem, RegressionTest


def has_regression_test() -> Exists:
    """True for a post-mortem with a regression test that stops its reminders (any linked test, for now)."""
    return Exists(RegressionTest.objects.filter(postmortem=OuterRef("pk")))


def postmortems_owing_regression_test(*, now: datetime) -> QuerySet[PostMortem]:
    """Post-mortems that are published or past their due date, not complete, with no regression test."""
    return (
        PostMortem.objects.exclude(status=PostMortem.Status.COMPLETE)
        .filter(Q(status=PostMortem.Status.PUBLISHED) | Q(due_at__lte=now))
        .filter(~has_regression_test())
        .select_related("incident", "incident__owning_team", "owner")
    )


def postmortems_open() -> QuerySet[PostMortem]:
    """Post-mortems not yet complete, with reminder counts and regression-test presence, by due date."""
    return (
        PostMortem.objects.exclude(status=PostMortem.Status.COMPLETE)
        .select_related("incident", "incident__owning_team", "owner")
        .annotate(reminder_count=Count("reminders", distinct=True), has_test=has_regression_test())
        .order_by("due_at", "id")
    )
