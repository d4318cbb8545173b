"""Read-only queries over post-mortems, shared by the UI, the sweep and /metrics."""

from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from .models import PostMortem, RegressionTest


def has_accepted_regression_test() -> Q:
    """True for a post-mortem whose regression test stops its reminders and lets it complete.

    That is a ``verified`` test (CI has seen it pass), or, for an incident whose
    primary service's CI does not report to sredesk, a ``linked`` one.
    """
    tests = RegressionTest.objects.filter(postmortem=OuterRef("pk"))
    verified = Exists(tests.filter(state=RegressionTest.State.VERIFIED))
    linked = Exists(tests.filter(state=RegressionTest.State.LINKED))
    # The isnull guard keeps SQL three-valued logic out: with no primary service the join is NULL,
    # and NOT (x OR NULL) would drop the row from an exclude()/filter(accepted=False).
    relaxed = Q(incident__primary_service__isnull=False, incident__primary_service__ci_reports_tests=False)
    return Q(verified) | (Q(linked) & relaxed)


def postmortems_owing_regression_test(*, now: datetime) -> QuerySet[PostMortem]:
    """Post-mortems that are published or past their due date, not complete, with no accepted regression test."""
    return (
        PostMortem.objects.exclude(status=PostMortem.Status.COMPLETE)
        .filter(Q(status=PostMortem.Status.PUBLISHED) | Q(due_at__lte=now))
        .exclude(has_accepted_regression_test())
        .select_related("incident", "incident__owning_team", "owner")
    )


def postmortems_open() -> QuerySet[PostMortem]:
    """Post-mortems not yet complete, with reminder counts and regression-test presence, by due date."""
    return (
        PostMortem.objects.exclude(status=PostMortem.Status.COMPLETE)
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
