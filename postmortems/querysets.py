"""The read rules of post-mortems and action items: one home for each.

Every door asks these and nothing else: web pages, API serializers and
filters, admin columns and filters, the reminder sweep and its digests,
``/metrics``, the overview, my work and the service page. Each rule is a
QuerySet method (for lists, filters and counts, in SQL) and, beside it, the
same rule for one row already in memory (``*_is_*``, used where a single
object is shown: an API body, a badge). The two forms are side by side so
that they change together; ``tests/postmortems/test_rules.py`` asks every
door the same questions about one fixture holding every case.

The rules:

* ``overdue`` (action item): open or in progress, and its due date has
  passed ("today" below).
* ``overdue_draft`` (post-mortem): a draft or in review whose ``due_at``
  (an instant, UTC) is before now.
* ``with_accepted_test`` / ``without_accepted_test``: the post-mortem has a
  regression test that stops its reminders and lets it complete: a
  ``verified`` one (CI has seen it pass), or a ``linked`` one when the
  incident's primary service does not report CI results to sredesk
  (``Service.ci_reports_tests`` off).
* ``waived``: the owning team's lead approved that the post-mortem owes no
  regression test ("not testable", ``postmortems.waivers``); it owes none,
  and may complete without one, but is not counted as having a test.
* ``test_reminder_due``: written (published, or complete with a test that
  has since failed or gone missing in CI), without an accepted test or a
  waiver: what the reminder sweep's test reminders and my work's
  "Regression tests owed" list. A late draft is owed as a write-up first.
* ``owing_regression_test``: without an accepted test or a waiver, and published, or
  complete with a test that has since failed or gone missing in CI, or an
  overdue draft (declined owes nothing). That is the debt sredesk exists to close;
  ``/metrics``' ``sredesk_postmortems_awaiting_regression_test``, the
  overview's debt list, my work and the reminder sweep all count it.
* ``owes_since``: when the regression-test debt began: publication or the
  due instant, whichever came first (a draft: its due instant). The debt
  lists order by it, and the reports count a period's debt by it (those
  whose debt began in the period and that still owe a test now), so the
  overview's "Still owing a test" tile and its debt list count the same
  post-mortems, late drafts included.
* ``accepted_at`` (figures): the instant the post-mortem first had an
  accepted test: the earliest time one of its tests entered ``verified``
  (from the tests' history, so a test that later failed still counts when it
  first passed), or, where the service's CI does not report
  (``ci_reports_tests`` off), the earliest ``linked_at`` of its tests.
* ``regression_test_turns_red`` (figures): a regression test entering
  ``failing`` or ``missing`` from another state (failing → missing is not
  a new turn), with when it was ``verified`` again afterwards.

"Today" for a due date
----------------------
An action item's ``due_date`` is a calendar date without a zone. It is
**the UTC date**: an item due on 2026-12-04 is overdue from 2026-12-05
00:00 UTC, for everyone (``due_date_today``). Why UTC and not the viewer's
or the team's zone: the same item must be overdue or not for every person
and program looking at it at the same moment (before, the web pages used the
viewer's zone and the API UTC, so an owner in Auckland and their lead in San
Francisco saw different answers); teams have no zone of their own, and an
item's owner can change or be missing; a post-mortem's ``due_at`` is already
an instant in UTC, and reminders count an overdue item from 00:00 UTC after
its due date (``postmortems.reminders``). The cost: west of UTC an item
turns overdue during the afternoon of its due date, east of UTC in the
morning after it. Pages show the due date as it was typed, never converted.
"""

import datetime as dt

from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce, Least


def due_date_today(now: dt.datetime) -> dt.date:
    """The calendar date that due dates are compared with at the aware instant ``now``: its UTC date."""
    return now.astimezone(dt.UTC).date()


OPEN_ITEM_STATUSES = ("open", "in_progress")  # ActionItem.Status.OPEN, IN_PROGRESS
UNPUBLISHED_STATUSES = ("draft", "in_review")  # PostMortem.Status.DRAFT, IN_REVIEW


def action_item_overdue_q(now: dt.datetime) -> Q:
    """An action item is open or in progress, and its due date is before today (UTC)."""
    return Q(status__in=OPEN_ITEM_STATUSES, due_date__lt=due_date_today(now))


def action_item_is_overdue(item, *, now: dt.datetime) -> bool:
    """``action_item_overdue_q`` for one loaded ``ActionItem``."""
    return bool(item.status in OPEN_ITEM_STATUSES and item.due_date and item.due_date < due_date_today(now))


def action_item_overdue_since(due_date: dt.date) -> dt.datetime:
    """The instant an item due on ``due_date`` turns overdue: 00:00 UTC on the next day."""
    return dt.datetime.combine(due_date + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def overdue_draft_q(now: dt.datetime) -> Q:
    """A post-mortem is a draft or in review, past its due instant."""
    return Q(status__in=UNPUBLISHED_STATUSES, due_at__lt=now)


def postmortem_is_overdue_draft(postmortem, *, now: dt.datetime) -> bool:
    """``overdue_draft_q`` for one loaded ``PostMortem``."""
    return postmortem.status in UNPUBLISHED_STATUSES and postmortem.due_at < now


def _tests(tests: models.QuerySet | None) -> models.QuerySet:
    """The regression tests of the outer post-mortem, among ``tests`` (all when None)."""
    from .models import RegressionTest  # the models import this module

    return (RegressionTest.objects.all() if tests is None else tests).filter(postmortem=OuterRef("pk"))


def accepted_test_q(tests: models.QuerySet | None = None) -> Q:
    """The post-mortem has a regression test that stops its reminders and lets it complete.

    A ``verified`` test, or a ``linked`` one when the incident's primary service's CI does not
    report to sredesk. For one loaded post-mortem, ``PostMortem.regression_test_requirement``
    names which of the two states counts (and the completion blockers say why). ``tests``
    narrows the tests looked at, for speed only (the sweep passes those of the post-mortems it
    reads, so PostgreSQL's hashed subplans do not scan them all).
    """
    from .models import RegressionTest

    tests = _tests(tests)
    verified = Exists(tests.filter(state=RegressionTest.State.VERIFIED))
    linked = Exists(tests.filter(state=RegressionTest.State.LINKED))
    # The isnull guard keeps SQL three-valued logic out: with no primary service the join is NULL,
    # and NOT (x OR NULL) would drop the row from an exclude()/filter(accepted=False).
    relaxed = Q(incident__primary_service__isnull=False, incident__primary_service__ci_reports_tests=False)
    return Q(verified) | (Q(linked) & relaxed)


def regressed_test_q(tests: models.QuerySet | None = None) -> Q:
    """The post-mortem has a regression test that a later CI run showed ``failing`` or ``missing``."""
    return Q(Exists(_tests(tests).filter(state__in=("failing", "missing"))))


def waived_q() -> Q:
    """The owning team's lead approved that the post-mortem owes no regression test ("not testable")."""
    from .models import RegressionTestWaiver

    return Q(Exists(RegressionTestWaiver.objects.filter(postmortem=OuterRef("pk"), status="approved")))


def test_reminder_due_q(tests: models.QuerySet | None = None) -> Q:
    """Written, and its regression test is what is owed now: published, or complete with a regressed test, and
    no accepted test nor approved waiver. The post-mortems the reminder sweep sends a test reminder about
    (``no_regression_test``, ``test_regressed``) and my work lists under "Regression tests owed"; a late
    draft is not among them: what it owes first is its write-up (``overdue_draft``).

    ``tests``: as for ``accepted_test_q`` (speed only)."""
    written = Q(status="published") | (Q(status="complete") & regressed_test_q(tests))
    return written & ~accepted_test_q(tests) & ~waived_q()


def owing_regression_test_q(now: dt.datetime, *, tests: models.QuerySet | None = None) -> Q:
    """No accepted test and no approved waiver, and published, or complete with a regressed test, or an overdue
    draft (module docstring): ``test_reminder_due_q`` plus the overdue drafts without a test or waiver.

    ``tests``: as for ``accepted_test_q`` (speed only)."""
    late_draft = overdue_draft_q(now) & ~accepted_test_q(tests) & ~waived_q()
    return test_reminder_due_q(tests) | late_draft


def owes_since_expression() -> Least:
    """When the outer post-mortem's regression-test debt began (module docstring): ``published_at`` or
    ``due_at``, whichever is earlier; ``due_at`` while unpublished. An instant, UTC."""
    return Least(Coalesce("published_at", "due_at"), "due_at")


RED_STATES = ("failing", "missing")  # RegressionTest.State.FAILING, MISSING: the regression guard regressed


def _test_history():
    from .models import RegressionTest

    return RegressionTest.history.model.objects.filter(history_type__in=("+", "~"))  # not deletions


def accepted_at_expression() -> Case:
    """When the outer post-mortem first had an accepted test (module docstring), NULL if never."""
    from .models import RegressionTest

    first_verified = Subquery(
        _test_history()
        .filter(postmortem=OuterRef("pk"), state=RegressionTest.State.VERIFIED)
        .order_by("state_changed_at")
        .values("state_changed_at")[:1]
    )
    first_linked = Subquery(_tests(None).order_by("linked_at").values("linked_at")[:1])
    relaxed = Q(incident__primary_service__isnull=False, incident__primary_service__ci_reports_tests=False)
    return Case(
        When(relaxed, then=Coalesce(first_linked, first_verified)),
        default=first_verified,
        output_field=models.DateTimeField(),
    )


def regression_test_turns_red(start: dt.datetime, end: dt.datetime) -> models.QuerySet:
    """History rows of regression tests that turned ``failing``/``missing`` in ``[start, end)`` (module docstring).

    Each row (a ``HistoricalRegressionTest``: ``id`` is the test, ``postmortem`` its post-mortem,
    ``state_changed_at`` when it turned red) carries ``previous_state`` and ``green_again_at``: the
    first time the test was ``verified`` after it (NULL while it is still red or unlinked)."""
    history = _test_history()
    previous = Subquery(
        history.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
        .order_by("-history_id")
        .values("state")[:1]
    )
    green_again = Subquery(
        history.filter(id=OuterRef("id"), history_id__gt=OuterRef("history_id"), state="verified")
        .order_by("history_id")
        .values("state_changed_at")[:1]
    )
    return (
        history.filter(state__in=RED_STATES, state_changed_at__gte=start, state_changed_at__lt=end)
        .annotate(previous_state=previous, green_again_at=green_again)
        .filter(Q(previous_state__isnull=True) | ~Q(previous_state__in=RED_STATES))
    )


class PostMortemQuerySet(models.QuerySet):
    """Post-mortems, with the read rules of this module as methods."""

    def overdue_draft(self, *, now: dt.datetime) -> "PostMortemQuerySet":
        return self.filter(overdue_draft_q(now))

    def not_overdue_draft(self, *, now: dt.datetime) -> "PostMortemQuerySet":
        return self.exclude(overdue_draft_q(now))

    def with_accepted_test(self) -> "PostMortemQuerySet":
        return self.filter(accepted_test_q())

    def without_accepted_test(self) -> "PostMortemQuerySet":
        return self.exclude(accepted_test_q())

    def owing_regression_test(self, *, now: dt.datetime) -> "PostMortemQuerySet":
        return self.filter(owing_regression_test_q(now))

    def test_reminder_due(self) -> "PostMortemQuerySet":
        return self.filter(test_reminder_due_q())

    def annotate_owes_since(self) -> "PostMortemQuerySet":
        """Each row with ``owes_since``: when its regression-test debt began (module docstring)."""
        return self.annotate(owes_since=owes_since_expression())

    def annotate_accepted_at(self) -> "PostMortemQuerySet":
        """Each row with ``accepted_at``: when it first had an accepted test (module docstring), or None."""
        return self.annotate(accepted_at=accepted_at_expression())

    def annotate_rules(self, *, now: dt.datetime) -> "PostMortemQuerySet":
        """Each row with ``is_overdue_draft``, ``has_accepted_test`` and ``owes_regression_test`` (booleans)."""
        boolean = models.BooleanField()
        return self.annotate(
            is_overdue_draft=models.ExpressionWrapper(overdue_draft_q(now), output_field=boolean),
            has_accepted_test=models.ExpressionWrapper(accepted_test_q(), output_field=boolean),
            owes_regression_test=models.ExpressionWrapper(owing_regression_test_q(now), output_field=boolean),
        )


class ActionItemQuerySet(models.QuerySet):
    """Action items, with the read rules of this module as methods."""

    def still_open(self) -> "ActionItemQuerySet":
        return self.filter(status__in=OPEN_ITEM_STATUSES)

    def overdue(self, *, now: dt.datetime) -> "ActionItemQuerySet":
        return self.filter(action_item_overdue_q(now))

    def not_overdue(self, *, now: dt.datetime) -> "ActionItemQuerySet":
        return self.exclude(action_item_overdue_q(now))

    def annotate_rules(self, *, now: dt.datetime) -> "ActionItemQuerySet":
        """Each row with ``is_overdue`` (boolean)."""
        return self.annotate(
            is_overdue=models.ExpressionWrapper(action_item_overdue_q(now), output_field=models.BooleanField())
        )
