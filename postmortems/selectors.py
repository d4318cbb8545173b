"""Read-only queries over post-mortems, shared by the UI, the sweep and /metrics."""

from datetime import date, datetime

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, Least

from .models import ActionItem, PostMortem, RegressionTest, ReminderDelivery


def has_accepted_regression_test(tests: QuerySet[RegressionTest] | None = None) -> Q:
    """True for a post-mortem whose regression test stops its reminders and lets it complete.

    That is a ``verified`` test (CI has seen it pass), or, for an incident whose
    primary service's CI does not report to sredesk, a ``linked`` one.
    ``tests`` narrows the tests looked at (the sweep passes those of the
    post-mortems it reads, so PostgreSQL's hashed subplans do not scan them all).
    """
    tests = (RegressionTest.objects.all() if tests is None else tests).filter(postmortem=OuterRef("pk"))
    verified = Exists(tests.filter(state=RegressionTest.State.VERIFIED))
    linked = Exists(tests.filter(state=RegressionTest.State.LINKED))
    # The isnull guard keeps SQL three-valued logic out: with no primary service the join is NULL,
    # and NOT (x OR NULL) would drop the row from an exclude()/filter(accepted=False).
    relaxed = Q(incident__primary_service__isnull=False, incident__primary_service__ci_reports_tests=False)
    return Q(verified) | (Q(linked) & relaxed)


def postmortems_owing_regression_test(*, now: datetime) -> QuerySet[PostMortem]:
    """Post-mortems that are published or past their due date, not complete, with no accepted regression test."""
    return (
        PostMortem.objects.exclude(status__in=[PostMortem.Status.COMPLETE, PostMortem.Status.DECLINED])
        .filter(Q(status=PostMortem.Status.PUBLISHED) | Q(due_at__lte=now))
        .exclude(has_accepted_regression_test())
        .select_related("incident", "incident__owning_team", "owner")
    )


def postmortems_open() -> QuerySet[PostMortem]:
    """Post-mortems not yet complete (nor declined), with reminder counts and regression-test presence, by due date."""
    return (
        PostMortem.objects.exclude(status__in=[PostMortem.Status.COMPLETE, PostMortem.Status.DECLINED])
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


def postmortems_regression_debt(*, now: datetime) -> QuerySet[PostMortem]:
    """Post-mortems that owe a regression test now, the longest-owing first, with ``reminders_sent``.

    Owing: published, or a draft past its due date, or complete but its test
    has since failed or gone missing; and no accepted regression test
    (``has_accepted_regression_test``). ``owes_since`` is when the debt began
    (publication or the due date, whichever came first).
    """
    return (
        PostMortem.objects.filter(
            Q(status__in=[PostMortem.Status.PUBLISHED, PostMortem.Status.COMPLETE]) | Q(due_at__lte=now)
        )
        .exclude(status=PostMortem.Status.DECLINED)
        .exclude(has_accepted_regression_test())
        .select_related("incident", "incident__owning_team", "incident__primary_service", "owner")
        .annotate(
            owes_since=Least(Coalesce("published_at", "due_at"), "due_at"),
            reminders_sent=_reminders_sent(),
            tests_linked=Count("regression_tests", distinct=True),
        )
        .order_by("owes_since", "id")
    )


def postmortems_owed(*, owner=None) -> QuerySet[PostMortem]:
    """Post-mortems still to be written (draft or in review), soonest due first; optionally one owner's."""
    queryset = PostMortem.objects.filter(status__in=[PostMortem.Status.DRAFT, PostMortem.Status.IN_REVIEW])
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    return queryset.select_related("incident", "incident__owning_team", "owner").order_by("due_at", "id")


def action_items_open(*, owner=None) -> QuerySet[ActionItem]:
    """Open or in-progress action items, those with a due date first (soonest first); optionally one owner's."""
    queryset = ActionItem.objects.filter(status__in=[ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS])
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    return queryset.select_related("owner", "postmortem__incident").order_by(
        F("due_date").asc(nulls_last=True), "priority", "id"
    )


def action_items_overdue(*, today: date) -> QuerySet[ActionItem]:
    """Open or in-progress action items whose due date has passed, the most overdue first."""
    return action_items_open().filter(due_date__lt=today)


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
