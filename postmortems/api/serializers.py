"""Post-mortem, action item, regression test, test run and reminder serializers (outputs) and the inputs.

Nested objects read from relations the viewsets select or prefetch.
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.api.serializers import IncidentSummarySerializer
from ownership.api.serializers import (
    RepositorySummarySerializer,
    TeamSummarySerializer,
    UserSummarySerializer,
    person_ref,
)
from ownership.models import Repository
from postmortems.action_items import ACTION_ITEM_FIELDS
from postmortems.forms import SECTION_MAX_LENGTH
from postmortems.models import (
    ActionItem,
    PostMortem,
    RegressionTest,
    Reminder,
    ReminderDelivery,
    TestResult,
    TestRun,
)
from postmortems.querysets import action_item_is_overdue, postmortem_is_overdue_draft
from postmortems.services import POSTMORTEM_SECTIONS
from postmortems.testids import MAX_TEST_ID_CHARS
from slos.budget import incident_budget
from slos.budget_serializers import BudgetUseSerializer, PolicyInForceSerializer, budget_data
from sredesk.api.fields import (
    AwareDateTimeField,
    LabelChoiceField,
    MoveChangedField,
    MoveHintField,
    RefField,
    StrictInputSerializer,
    label_choice_input,
)


class TestRunSummarySerializer(serializers.ModelSerializer):
    __test__ = False  # not a pytest test class

    class Meta:
        model = TestRun
        fields = ["id", "run_key", "branch", "commit", "url", "complete", "created_at"]
        read_only_fields = fields


class ActionItemSerializer(serializers.ModelSerializer):
    """Follow-up work from a post-mortem."""

    incident = IncidentSummarySerializer(source="postmortem.incident", read_only=True)
    priority = LabelChoiceField(ActionItem.Priority, read_only=True)
    owner = UserSummarySerializer(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "postmortem",
            "incident",
            *ACTION_ITEM_FIELDS,
            "overdue",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.BooleanField(help_text="Open or in progress, and its due date (a UTC date) has passed.")
    )
    def get_overdue(self, item: ActionItem) -> bool:
        return action_item_is_overdue(item, now=timezone.now())


class RegressionTestSerializer(serializers.ModelSerializer):
    """A linked regression test, its state and the CI run that last changed it."""

    repository = RepositorySummarySerializer(read_only=True)
    state_run = TestRunSummarySerializer(read_only=True, allow_null=True)
    linked_by = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = RegressionTest
        fields = [
            "id",
            "postmortem",
            "action_item",
            "repository",
            "test_id",
            "change_url",
            "state",
            "state_changed_at",
            "state_run",
            "linked_by",
            "linked_at",
        ]
        read_only_fields = fields


class ReminderDeliverySerializer(serializers.ModelSerializer):
    recipient_user = UserSummarySerializer(read_only=True, allow_null=True)
    recipient_team = TeamSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = ReminderDelivery
        fields = [
            "id",
            "channel",
            "address",
            "recipient_user",
            "recipient_team",
            "status",
            "attempts",
            "not_before",
            "queued_at",
            "claimed_at",
            "sent_at",
            "last_error",
        ]
        read_only_fields = fields


class ReminderSerializer(serializers.ModelSerializer):
    """One reminder step of a post-mortem and its deliveries (one per recipient and channel)."""

    deliveries = ReminderDeliverySerializer(many=True, read_only=True)

    class Meta:
        model = Reminder
        fields = ["id", "postmortem", "kind", "subject_key", "cycle", "step", "due_at", "created_at", "deliveries"]
        read_only_fields = fields


class PostMortemListSerializer(serializers.ModelSerializer):
    """A post-mortem in a list: incident, owner, status, due date, and whether it has a verified test."""

    incident = IncidentSummarySerializer(read_only=True)
    owning_team = TeamSummarySerializer(source="incident.owning_team", read_only=True, allow_null=True)
    owner = UserSummarySerializer(read_only=True, allow_null=True)
    has_verified_test = serializers.BooleanField(read_only=True, help_text="CI has seen a linked test pass.")
    overdue = serializers.SerializerMethodField()
    budget_policy = PolicyInForceSerializer(
        source="*",
        read_only=True,
        help_text="The error-budget policy of the incident's primary service: while in force, the reminders about "
        "this post-mortem go `reminder_steps_sooner` steps ahead.",
    )

    class Meta:
        model = PostMortem
        fields = [
            "id",
            "incident",
            "owning_team",
            "owner",
            "status",
            "due_at",
            "overdue",
            "published_at",
            "completed_at",
            "declined_at",
            "decline_reason",
            "snoozed_until",
            "snooze_reason",
            "has_verified_test",
            "budget_policy",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField(help_text="Still a draft or in review past its due date."))
    def get_overdue(self, postmortem: PostMortem) -> bool:
        return postmortem_is_overdue_draft(postmortem, now=timezone.now())


class PostMortemDetailSerializer(PostMortemListSerializer):
    """A whole post-mortem: sections (Markdown), action items, regression tests, reminders and what blocks it."""

    action_items = ActionItemSerializer(many=True, read_only=True)
    regression_tests = RegressionTestSerializer(many=True, read_only=True)
    reminders = ReminderSerializer(many=True, read_only=True)
    regression_test_requirement = serializers.ChoiceField(
        choices=[RegressionTest.State.VERIFIED, RegressionTest.State.LINKED],
        read_only=True,
        help_text="The test state that satisfies it: verified, or linked when the service's CI does not report.",
    )
    completion_blockers = serializers.SerializerMethodField()
    error_budget = serializers.SerializerMethodField()

    class Meta(PostMortemListSerializer.Meta):
        fields = [
            *PostMortemListSerializer.Meta.fields,
            *POSTMORTEM_SECTIONS,
            "source_url",
            "regression_test_requirement",
            "completion_blockers",
            "error_budget",
            "action_items",
            "regression_tests",
            "reminders",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField(), help_text="Why `complete` would fail."))
    def get_completion_blockers(self, postmortem: PostMortem) -> list[str]:
        from postmortems.services import postmortem_completion_blockers

        return postmortem_completion_blockers(postmortem)

    @extend_schema_field(
        BudgetUseSerializer(
            many=True, help_text="Impact: what the incident used of each SLO's error budget of its services."
        )
    )
    def get_error_budget(self, postmortem: PostMortem) -> list[dict]:
        return budget_data(incident_budget(postmortem.incident))


class PostMortemMoveSerializer(PostMortemDetailSerializer):
    """The post-mortem after a workflow move, and whether this request moved it (``postmortems.moves``)."""

    changed = MoveChangedField()
    hint = MoveHintField(
        help_text='When nothing changed, since when and by whom ("The post-mortem was already '
        'published by Alice Doe at 2024-05-01 12:05 CEST."); "" otherwise.'
    )

    class Meta(PostMortemDetailSerializer.Meta):
        fields = [*PostMortemDetailSerializer.Meta.fields, "changed", "hint"]
        read_only_fields = fields


class OwnerInput(StrictInputSerializer):
    """``owner``, by id or username: who owns a post-mortem (null: nobody) or an action item (null: the
    post-mortem's owner)."""

    owner = person_ref(allow_null=True, required=False)


class PostMortemUpdateInput(OwnerInput):
    """Sections (Markdown), owner and due date; give only what changes."""

    due_at = AwareDateTimeField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        for section in POSTMORTEM_SECTIONS:
            fields[section] = serializers.CharField(required=False, allow_blank=True, max_length=SECTION_MAX_LENGTH)
        return fields


class DeclineInput(StrictInputSerializer):
    reason = serializers.CharField(max_length=500, help_text="Why nobody needs this post-mortem (on the timeline).")


class SnoozeInput(StrictInputSerializer):
    until = AwareDateTimeField(allow_null=True, help_text="When reminders resume (null: resume now).")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class ActionItemUpdateInput(OwnerInput):
    """An action item's fields (a change gives only what changes). ``owner`` null or left out: the post-mortem's owner.
    ``due_date`` is a UTC date; one in the past is refused unless ``confirm_past_due`` is true."""

    title = serializers.CharField(max_length=300, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    kind = serializers.ChoiceField(choices=ActionItem.Kind.choices, required=False)
    priority = label_choice_input(ActionItem.Priority, required=False)
    due_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=ActionItem.Status.choices, required=False)
    wont_do_reason = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    tracker_url = serializers.URLField(required=False, allow_blank=True, max_length=500)
    confirm_past_due = serializers.BooleanField(
        required=False,
        default=False,
        help_text="True to keep a due date in the past (the item is overdue at once); otherwise it is refused.",
    )


class ActionItemCreateInput(ActionItemUpdateInput):
    postmortem = serializers.PrimaryKeyRelatedField(queryset=PostMortem.objects.select_related("incident"))
    title = serializers.CharField(max_length=300)


class RegressionTestLinkInput(StrictInputSerializer):
    postmortem = serializers.PrimaryKeyRelatedField(queryset=PostMortem.objects.select_related("incident"))
    repository = RefField("name", queryset=Repository.objects.all(), help_text="The repository's id or name.")
    test_id = serializers.CharField(
        max_length=MAX_TEST_ID_CHARS, help_text="e.g. tests/payments/test_retry.py::test_timeout_is_retried[eu]"
    )
    change_url = serializers.URLField(required=False, allow_blank=True, default="", max_length=500)
    action_item = serializers.PrimaryKeyRelatedField(
        queryset=ActionItem.objects.all(), required=False, allow_null=True, default=None
    )


class TestRunSerializer(serializers.ModelSerializer):
    __test__ = False  # not a pytest test class

    repository = RepositorySummarySerializer(read_only=True)
    tests = serializers.IntegerField(read_only=True, help_text="Results in the run.")
    failures = serializers.IntegerField(read_only=True, help_text="Results that failed or errored.")

    class Meta:
        model = TestRun
        fields = [
            "id",
            "repository",
            "run_key",
            "branch",
            "commit",
            "url",
            "complete",
            "created_at",
            "completed_at",
            "tests",
            "failures",
        ]
        read_only_fields = fields


class TestResultSerializer(serializers.ModelSerializer):
    __test__ = False  # not a pytest test class

    class Meta:
        model = TestResult
        fields = ["id", "test_run", "test_id", "outcome", "flaky", "attempts", "duration_seconds", "message"]
        read_only_fields = fields


class TestRunUploadInput(StrictInputSerializer):
    """One or more JUnit XML files for a run (multipart, field ``file``), as ``/ci/junit/`` takes them."""

    __test__ = False  # not a pytest test class

    file = serializers.ListField(child=serializers.FileField(), min_length=1, max_length=50)
    branch = serializers.CharField(max_length=200)
    commit = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    run_key = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="The CI build id (default: commit)."
    )
    url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    format = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default="", help_text="Producer hint: pytest, jest, go, ..."
    )
    complete = serializers.BooleanField(required=False, default=False, help_text="This upload ends the run.")


class TestRunUploadResult(serializers.Serializer):
    __test__ = False  # not a pytest test class

    run = TestRunSummarySerializer()
    files = serializers.IntegerField()
    new_files = serializers.IntegerField()
    tests = serializers.IntegerField()
    auto_linked = serializers.IntegerField()
    changed = serializers.IntegerField(help_text="Regression tests whose state changed.")
