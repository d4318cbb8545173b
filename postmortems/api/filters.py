"""FilterSets for post-mortems, action items, regression tests, test runs and results, and reminders."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from incidents.models import Incident, parse_public_id
from ownership.models import Repository, Team, User
from postmortems.models import ActionItem, PostMortem, RegressionTest, Reminder, TestResult, TestRun
from postmortems.testids import MAX_TEST_ID_CHARS, test_key
from sredesk.api import filters as f


def _priority_alias(value: str) -> list[str] | None:
    by_label = {label.upper(): str(number) for number, label in ActionItem.Priority.choices}
    return [by_label[value.upper()]] if value.upper() in by_label else None


class PostMortemFilter(django_filters.FilterSet):
    status = f.multi_choice("status", PostMortem.Status.choices, "Any of these statuses. Repeat or comma-separate.")
    owner = f.ref("owner", User, "username", "Owned by this person (id or username).")
    team = f.ref("incident__owning_team", Team, "slug", "The incident's owning team (id or slug).")
    incident = f.ref("incident", Incident, None, "Of this incident (id or INC-42).", parse=parse_public_id)
    has_verified_test = f.boolean(
        "CI has seen a linked regression test pass (true) or not (false).", field_name="has_verified_test"
    )
    overdue = f.boolean("Still a draft or in review past the due date (true), or not (false).", method="filter_overdue")
    due_after, due_before = f.instant_range("due_at", "Due")
    search = f.search("Part of the incident's title or the post-mortem's summary.")

    class Meta:
        model = PostMortem
        fields: list[str] = []

    def filter_overdue(self, queryset, name, value):
        now = timezone.now()
        return queryset.overdue_draft(now=now) if value else queryset.not_overdue_draft(now=now)

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(incident__title__icontains=value) | Q(summary__icontains=value))


class ActionItemFilter(django_filters.FilterSet):
    status = f.multi_choice("status", ActionItem.Status.choices, "Any of these statuses. Repeat or comma-separate.")
    kind = f.multi_choice("kind", ActionItem.Kind.choices, "Any of these kinds.")
    priority = f.multi_choice(
        "priority",
        [(str(n), label) for n, label in ActionItem.Priority.choices],
        "Any of these priorities, as P1..P4 or 1..4.",
        aliases=_priority_alias,
        documented=list(ActionItem.Priority.labels),
    )
    owner = f.ref("owner", User, "username", "Owned by this person (id or username).")
    postmortem = f.ref("postmortem", PostMortem, None, "Of this post-mortem (id).")
    incident = f.ref("postmortem__incident", Incident, None, "Of this incident (id or INC-42).", parse=parse_public_id)
    team = f.ref("postmortem__incident__owning_team", Team, "slug", "The incident's owning team (id or slug).")
    overdue = f.boolean(
        "Open or in progress, and the due date (a UTC date) has passed (true), or not (false).",
        method="filter_overdue",
    )
    due_after = django_filters.DateFilter("due_date", lookup_expr="gte", help_text="Due on or after (YYYY-MM-DD).")
    due_before = django_filters.DateFilter("due_date", lookup_expr="lt", help_text="Due before (YYYY-MM-DD).")
    search = f.search("Part of the title or description.")

    class Meta:
        model = ActionItem
        fields: list[str] = []

    def filter_overdue(self, queryset, name, value):
        now = timezone.now()
        return queryset.overdue(now=now) if value else queryset.not_overdue(now=now)

    def filter_search(self, queryset, name, value):
        return queryset.filter(f.any_icontains(["title", "description"], value))


class RegressionTestFilter(django_filters.FilterSet):
    state = f.multi_choice("state", RegressionTest.State.choices, "Any of these states.")
    postmortem = f.ref("postmortem", PostMortem, None, "Of this post-mortem (id).")
    incident = f.ref("postmortem__incident", Incident, None, "Of this incident (id or INC-42).", parse=parse_public_id)
    repository = f.ref("repository", Repository, "name", "In this repository (id or name).")
    test_id = django_filters.CharFilter(
        max_length=MAX_TEST_ID_CHARS, method="filter_test_id", help_text="This canonical test id, exactly."
    )
    search = f.search("Part of the test id.")

    class Meta:
        model = RegressionTest
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(test_id__icontains=value)

    def filter_test_id(self, queryset, name, value):
        return queryset.filter(test_key=test_key(value))


class TestRunFilter(django_filters.FilterSet):
    __test__ = False  # not a pytest test class

    repository = f.ref("repository", Repository, "name", "Of this repository (id or name).")
    branch = django_filters.CharFilter(max_length=200, help_text="On this branch, exactly.")
    commit = django_filters.CharFilter(max_length=100, help_text="This commit, exactly.")
    run_key = django_filters.CharFilter(max_length=200, help_text="This CI build id, exactly.")
    complete = f.boolean("Closed runs (true) or runs still taking files (false).", field_name="complete")
    created_after, created_before = f.instant_range("created_at", "Started")

    class Meta:
        model = TestRun
        fields: list[str] = []


class TestResultFilter(django_filters.FilterSet):
    __test__ = False  # not a pytest test class

    test_run = f.ref("test_run", TestRun, None, "Of this run (id).")
    repository = f.ref("test_run__repository", Repository, "name", "Of runs of this repository (id or name).")
    test_id = django_filters.CharFilter(
        max_length=MAX_TEST_ID_CHARS, method="filter_test_id", help_text="This canonical test id, exactly."
    )
    outcome = f.multi_choice("outcome", TestResult.Outcome.choices, "Any of these outcomes.")
    flaky = f.boolean("Attempts disagreed (true) or not (false).", field_name="flaky")

    def filter_test_id(self, queryset, name, value):
        return queryset.filter(test_key=test_key(value))

    class Meta:
        model = TestResult
        fields: list[str] = []


class ReminderFilter(django_filters.FilterSet):
    kind = f.multi_choice("kind", Reminder.Kind.choices, "Any of these kinds.")
    postmortem = f.ref("postmortem", PostMortem, None, "Of this post-mortem (id).")
    incident = f.ref("postmortem__incident", Incident, None, "Of this incident (id or INC-42).", parse=parse_public_id)
    due_after, due_before = f.instant_range("due_at", "Fell due")

    class Meta:
        model = Reminder
        fields: list[str] = []
