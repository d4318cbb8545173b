"""Serializers for schedules, layers, members, overrides and the final schedule's shifts (no queries of their own)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from oncall.models import (
    EscalationPolicy,
    EscalationStep,
    EscalationTarget,
    HandoffNote,
    Layer,
    LayerMember,
    Override,
    Schedule,
    Swap,
)
from ownership.api.serializers import TeamSummarySerializer, UserSummarySerializer
from ownership.models import User
from sredesk.api.fields import AwareDateTimeField, RefField, StrictInputSerializer


class LayerMemberSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)

    class Meta:
        model = LayerMember
        fields = ["id", "layer", "user", "position", "active_from", "active_until"]
        read_only_fields = fields


class LayerSerializer(serializers.ModelSerializer):
    members = LayerMemberSerializer(many=True, read_only=True, help_text="Every place, past ones included, in order.")

    class Meta:
        model = Layer
        fields = ["id", "schedule", "name", "priority", "turn_unit", "turn_length", "handoff_time", "anchor_date",
                  "restrict_days", "restrict_start", "restrict_end", "members"]  # fmt: skip
        read_only_fields = fields


class ScheduleSerializer(serializers.ModelSerializer):
    team = TeamSummarySerializer(read_only=True)
    layers = LayerSerializer(many=True, read_only=True)

    class Meta:
        model = Schedule
        fields = ["id", "name", "slug", "team", "timezone", "description", "layers"]
        read_only_fields = fields


class OverrideSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)
    created_by = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Override
        fields = ["id", "schedule", "kind", "user", "start", "end", "note", "created_by", "created_at"]
        read_only_fields = fields


class OverrideCreateInput(StrictInputSerializer):
    schedule = RefField("slug", queryset=Schedule.objects.all(), help_text="The schedule (id or slug).")
    user = RefField("username", queryset=User.objects.filter(is_active=True), help_text="Who (id or username).")
    kind = serializers.ChoiceField(
        choices=Override.Kind.choices, default=Override.Kind.TAKE,
        help_text="take: the person is on call for the window; remove: taken off it.",
    )  # fmt: skip
    start = AwareDateTimeField(help_text="From (ISO 8601 with offset); not in the past.")
    end = AwareDateTimeField(help_text="Until (exclusive), after start.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class SwapSerializer(serializers.ModelSerializer):
    """A swap: who asked for whose time, its window (UTC), its state, and who took it (with the override made)."""

    schedule = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    asked_by = UserSummarySerializer(read_only=True)
    taken_by = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Swap
        fields = ["id", "schedule", "asked_by", "start", "end", "note", "state", "taken_by", "taken_at", "override",
                  "created_at"]  # fmt: skip
        read_only_fields = fields


class SwapAskInput(StrictInputSerializer):
    schedule = RefField("slug", queryset=Schedule.objects.all(), help_text="The schedule (id or slug).")
    start = AwareDateTimeField(help_text="From (ISO 8601 with offset); in the future.")
    end = AwareDateTimeField(help_text="Until (exclusive), after start; at most 92 days on.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    asked_by = RefField("username", queryset=User.objects.filter(is_active=True), required=False,
                        help_text="Whose time (id or username; default you; others: the schedule's team).")  # fmt: skip


class HandoffNoteSerializer(serializers.ModelSerializer):
    """The outgoing person's note for the next hand-off; ``handed_over_at`` once a hand-off notice carried it."""

    schedule = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    author = UserSummarySerializer(read_only=True)

    class Meta:
        model = HandoffNote
        fields = ["id", "schedule", "author", "text", "handoff_at", "handed_over_at", "created_at"]
        read_only_fields = fields


class HandoffNoteInput(StrictInputSerializer):
    schedule = RefField("slug", queryset=Schedule.objects.all(), help_text="The schedule (id or slug).")
    text = serializers.CharField(max_length=4000, help_text="What the next person should know (up to 4,000).")


class MemberCreateInput(StrictInputSerializer):
    layer = serializers.PrimaryKeyRelatedField(queryset=Layer.objects.select_related("schedule"))
    user = RefField("username", queryset=User.objects.filter(is_active=True), help_text="Who (id or username).")
    position = serializers.IntegerField(required=False, min_value=0, max_value=100000,
                                        help_text="Place in the order (default: last).")  # fmt: skip
    active_from = AwareDateTimeField(required=False, help_text="From (default: the layer's next hand-off); not past.")


class MemberEndInput(StrictInputSerializer):
    at = AwareDateTimeField(required=False, help_text="From when the person is out (default now); not in the past.")


class WindowQuery(StrictInputSerializer):
    """``start``/``end`` of a window: ISO 8601 with an offset; defaults now and start + 14 days."""

    start = AwareDateTimeField(required=False, help_text="Window start (ISO 8601 with offset; default now).")
    end = AwareDateTimeField(required=False, help_text="Window end, exclusive (default start + 14 days).")


class OnCallQuery(StrictInputSerializer):
    service = serializers.CharField(required=False, max_length=120, help_text="A service's slug (or id).")
    schedule = serializers.CharField(required=False, max_length=120, help_text="A schedule's slug (or id).")
    at = AwareDateTimeField(required=False, help_text="The instant asked about (ISO 8601 with offset; default now).")


class ShiftSerializer(serializers.Serializer):
    """One piece of the final schedule: [start, end) with the person on call, or a gap (person null)."""

    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    person = serializers.SerializerMethodField()
    origin = serializers.ChoiceField(
        choices=["layer", "override", "swap", "gap"], help_text="Where it comes from (swap: a taken swap's override)."
    )
    layer = serializers.IntegerField(source="layer_id", allow_null=True)
    override = serializers.IntegerField(source="override_id", allow_null=True)

    @extend_schema_field(UserSummarySerializer(allow_null=True))
    def get_person(self, shift):
        user = self.context["people"].get(shift.user_id)
        return UserSummarySerializer(user).data if user else None


class ShiftsSerializer(serializers.Serializer):
    schedule = serializers.IntegerField()
    timezone = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    shifts = ShiftSerializer(many=True)
    gaps = serializers.IntegerField(help_text="How many shifts are gaps (nobody on call).")


class ThroughSerializer(serializers.Serializer):
    """An escalation policy's step: its policy, its 1-based number in the policy's order and its wait."""

    policy = serializers.CharField(source="policy.name")
    policy_id = serializers.IntegerField(source="policy.pk")
    number = serializers.IntegerField(help_text="1 is the first step.")
    wait_minutes = serializers.IntegerField(source="step.wait_minutes", help_text="Minutes before the next step.")


class OnCallRowSerializer(serializers.Serializer):
    """Who is paged for a service (or a schedule) at an instant, and from what."""

    service = serializers.CharField(allow_null=True, help_text="The service's slug (null when asked by schedule).")
    schedule = serializers.CharField(allow_null=True, help_text="The schedule's slug, when one decides.")
    at = serializers.DateTimeField()
    source = serializers.ChoiceField(
        choices=["schedule", "person", "team", "none"],
        help_text="schedule: the final schedule of the paged schedule; person/team: a fixed responsibility "
        "(a team's lead); none: nobody is named.",
    )
    person = serializers.SerializerMethodField()
    shift = ShiftSerializer(allow_null=True, help_text="The schedule's shift covering `at` (null without one).")
    next = ShiftSerializer(allow_null=True, help_text="The next shift with someone else on call (14 days ahead).")
    step = ThroughSerializer(
        allow_null=True,
        help_text="Through which step of the service's escalation policy the person is paged at `at`: the first step "
        "reaching them (a person target, or a schedule target whose final schedule names them); null without a "
        "policy, a person, or a step reaching them.",
    )

    @extend_schema_field(UserSummarySerializer(allow_null=True))
    def get_person(self, row):
        return UserSummarySerializer(row["person"]).data if row["person"] else None


class EscalationTargetSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True, allow_null=True)
    schedule = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    team = TeamSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = EscalationTarget
        fields = ["user", "schedule", "team"]
        read_only_fields = fields


class EscalationStepSerializer(serializers.ModelSerializer):
    targets = EscalationTargetSerializer(many=True, read_only=True)

    class Meta:
        model = EscalationStep
        fields = ["position", "wait_minutes", "targets"]
        read_only_fields = fields


class EscalationPolicySerializer(serializers.ModelSerializer):
    team = TeamSummarySerializer(read_only=True)
    steps = EscalationStepSerializer(many=True, read_only=True)
    services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = EscalationPolicy
        fields = ["id", "name", "team", "repeat", "steps", "services"]
        read_only_fields = fields
