"""Incident, timeline, alert and integration serializers: ModelSerializers out, small explicit inputs in.

Times are ISO 8601 in UTC (``2024-05-01T10:00:00Z``); durations are seconds.
Severity reads ``SEV1``..``SEV4`` and is accepted as that or as 1..4.
"""


from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.models import Alert, Incident, Integration, Severity, TimelineEvent
from ownership.api.serializers import TeamSummarySerializer, UserSummarySerializer, person_ref
from ownership.models import Service, Team
from slos.budget import incident_budget
from slos.budget_serializers import BudgetUseSerializer, budget_data
from sredesk.api.fields import (
    AwareDateTimeField,
    LabelChoiceField,
    MoveChangedField,
    MoveHintField,
    RefField,
    StrictBooleanField,
    StrictInputSerializer,
    StrictIntegerField,
    label_choice_input,
)

# Writes take an object as reads and filters name it: by id, or by slug (services, teams) or username (people).
SERVICE_REF = "The service's id or slug."
TEAM_REF = "The team's id or slug."


@extend_schema_field({"type": "object", "additionalProperties": True})
class JSONObjectField(serializers.JSONField):
    """A JSON object with free-form keys (alert labels, timeline event data)."""


class ServiceSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "slug", "name"]
        read_only_fields = fields


class IncidentSummarySerializer(serializers.ModelSerializer):
    """An incident as other objects refer to it."""

    public_id = serializers.CharField(read_only=True, help_text="INC-<id>")
    severity = LabelChoiceField(Severity, read_only=True)

    class Meta:
        model = Incident
        fields = ["id", "public_id", "title", "severity", "status"]
        read_only_fields = fields


class IntegrationSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Integration
        fields = ["id", "name", "kind"]
        read_only_fields = fields


class IncidentListSerializer(serializers.ModelSerializer):
    """An incident in a list: status, times, durations, team, commander and services."""

    public_id = serializers.CharField(read_only=True, help_text="INC-<id>: the id people say and type.")
    severity = LabelChoiceField(Severity, read_only=True)
    time_to_detect_seconds = serializers.FloatField(
        read_only=True, allow_null=True, help_text="detected_at - started_at (an alert delivered late: its delay)."
    )
    mtta_seconds = serializers.FloatField(
        read_only=True, allow_null=True, help_text="acknowledged_at - detected_at (null until acknowledged)."
    )
    time_to_mitigate_seconds = serializers.FloatField(
        read_only=True, allow_null=True, help_text="mitigated_at - started_at."
    )
    mttr_seconds = serializers.FloatField(read_only=True, allow_null=True, help_text="resolved_at - started_at.")
    owning_team = TeamSummarySerializer(read_only=True, allow_null=True)
    commander = UserSummarySerializer(read_only=True, allow_null=True)
    primary_service = ServiceSummarySerializer(read_only=True, allow_null=True)
    services = ServiceSummarySerializer(many=True, read_only=True, help_text="Affected services (incl. the primary).")

    class Meta:
        model = Incident
        fields = [
            "id",
            "public_id",
            "title",
            "severity",
            "status",
            "started_at",
            "detected_at",
            "acknowledged_at",
            "mitigated_at",
            "resolved_at",
            "time_to_detect_seconds",
            "mtta_seconds",
            "time_to_mitigate_seconds",
            "mttr_seconds",
            "owning_team",
            "commander",
            "primary_service",
            "services",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "started_at": {"help_text": "When impact began (an alert-made incident: the alert's startsAt)."},
            "detected_at": {
                "help_text": "When the incident became known (an alert-made incident: when sredesk received the "
                "alert, never backdated to its startsAt). MTTA is measured from it."
            },
        }


class IncidentDetailSerializer(IncidentListSerializer):
    """One incident with its summary, every role and what can happen next."""

    communications_lead = UserSummarySerializer(read_only=True, allow_null=True)
    acknowledged_by = UserSummarySerializer(read_only=True, allow_null=True)
    responders = UserSummarySerializer(many=True, read_only=True)
    integration = IntegrationSummarySerializer(read_only=True, allow_null=True)
    postmortem = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()
    error_budget = serializers.SerializerMethodField()

    class Meta(IncidentListSerializer.Meta):
        fields = [
            *IncidentListSerializer.Meta.fields,
            "summary",
            "communications_lead",
            "acknowledged_by",
            "responders",
            "integration",
            "postmortem",
            "allowed_transitions",
            "error_budget",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True, help_text="The post-mortem's id, if any."))
    def get_postmortem(self, incident: Incident) -> int | None:
        try:
            return incident.postmortem.pk
        except Incident.postmortem.RelatedObjectDoesNotExist:
            return None

    @extend_schema_field(
        serializers.ListField(
            child=serializers.ChoiceField(choices=["acknowledge", "mitigate", "resolve", "reopen"]),
            help_text="Transitions the current status allows (POST /incidents/{id}/<verb>/).",
        )
    )
    def get_allowed_transitions(self, incident: Incident) -> list[str]:
        from django_fsm import can_proceed

        from incidents.services import TRANSITIONS

        return [verb for verb in TRANSITIONS if can_proceed(getattr(incident, verb))]

    @extend_schema_field(
        BudgetUseSerializer(
            many=True, help_text="What this incident used of each SLO's error budget of its services ([]: no SLO)."
        )
    )
    def get_error_budget(self, incident: Incident) -> list[dict]:
        return budget_data(incident_budget(incident))


class IncidentMoveSerializer(IncidentDetailSerializer):
    """The incident after a transition, and whether this request moved it (``incidents.moves``)."""

    changed = MoveChangedField()
    hint = MoveHintField(
        help_text='When nothing changed, who got there first and when ("INC-42 was already acknowledged by '
        'Alice Doe at 2024-05-01 12:05 CEST."); "" otherwise.'
    )

    class Meta(IncidentDetailSerializer.Meta):
        fields = [*IncidentDetailSerializer.Meta.fields, "changed", "hint"]
        read_only_fields = fields


class IncidentCreateInput(StrictInputSerializer):
    """Declare an incident. The owning team defaults to the primary service's; times default to now."""

    title = serializers.CharField(max_length=300)
    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=100_000)
    severity = label_choice_input(Severity, required=False, default=Severity.SEV3)
    primary_service = RefField(
        "slug", queryset=Service.objects.all(), required=False, allow_null=True, default=None, help_text=SERVICE_REF
    )
    services = RefField(
        "slug",
        queryset=Service.objects.all(),
        many=True,
        required=False,
        default=list,
        help_text="Other affected services, each by id or slug.",
    )
    owning_team = RefField(
        "slug", queryset=Team.objects.all(), required=False, allow_null=True, default=None, help_text=TEAM_REF
    )
    commander = person_ref(required=False, allow_null=True, default=None)
    started_at = AwareDateTimeField(required=False, allow_null=True, default=None, help_text="When impact began.")
    detected_at = AwareDateTimeField(required=False, allow_null=True, default=None)


TRANSITION_HINTS = {
    "status": "Change the status with POST /api/v1/incidents/{id}/acknowledge/ (mitigate/, resolve/, reopen/).",
    "acknowledged_at": 'Set by POST /api/v1/incidents/{id}/acknowledge/ with {"at": "<ISO 8601 time>"}.',
    "mitigated_at": 'Set by POST /api/v1/incidents/{id}/mitigate/ with {"at": "<ISO 8601 time>"}.',
    "resolved_at": 'Set by POST /api/v1/incidents/{id}/resolve/ with {"at": "<ISO 8601 time>"}.',
}


class IncidentUpdateInput(StrictInputSerializer):
    """Change the title, summary, severity or roles; give only what changes. Status and times change through
    the transition actions."""

    unknown_field_hints = TRANSITION_HINTS

    title = serializers.CharField(required=False, max_length=300)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    severity = label_choice_input(Severity, required=False)
    commander = person_ref(required=False, allow_null=True)
    communications_lead = person_ref(required=False, allow_null=True)
    responders = person_ref(
        many=True,
        required=False,
        help_text="The full list of responders, each by id or username (people not in it stop responding).",
    )


class TransitionInput(StrictInputSerializer):
    at = AwareDateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When it happened (ISO 8601 with offset; default now). Must keep the incident's order: "
        "detected <= acknowledged <= resolved, detected <= mitigated <= resolved (a 400 names the field).",
    )


class NoteInput(StrictInputSerializer):
    """A note, written as it is read: ``message`` (``text``, its old name, is still taken until the next release)."""

    message = serializers.CharField(max_length=10_000, required=False, help_text="The note (what the timeline shows).")
    text = serializers.CharField(
        max_length=10_000,
        required=False,
        help_text="Deprecated: the old name of `message`, accepted until the next release. Send `message`.",
    )

    def validate(self, attrs):
        if "message" in attrs and "text" in attrs:
            raise serializers.ValidationError({"text": ["Send the note once, as message (text is its old name)."]})
        if "message" not in attrs and "text" not in attrs:
            raise serializers.ValidationError({"message": ["This field is required."]})
        return {"message": attrs.get("message", attrs.get("text"))}


class TimelineEventSerializer(serializers.ModelSerializer):
    actor = UserSummarySerializer(read_only=True, allow_null=True)
    data = JSONObjectField(read_only=True)

    class Meta:
        model = TimelineEvent
        fields = ["id", "kind", "at", "actor", "source", "message", "data"]
        read_only_fields = fields


class TimelinePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TimelineEventSerializer(many=True)


class AlertSerializer(serializers.ModelSerializer):
    integration = IntegrationSummarySerializer(read_only=True)
    incident = IncidentSummarySerializer(read_only=True, allow_null=True)
    labels = JSONObjectField(read_only=True)
    annotations = JSONObjectField(read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "integration",
            "fingerprint",
            "status",
            "name",
            "starts_at",
            "ends_at",
            "labels",
            "annotations",
            "generator_url",
            "group_key",
            "incident",
            "first_seen_at",
            "last_seen_at",
            "times_seen",
        ]
        read_only_fields = fields


class IntegrationSerializer(serializers.ModelSerializer):
    """An alert source. Its token and signing secret are never shown (only whether a secret is set)."""

    default_service = ServiceSummarySerializer(read_only=True, allow_null=True)
    default_severity = LabelChoiceField(Severity, read_only=True)
    severity_map = JSONObjectField(read_only=True)
    webhook_url = serializers.CharField(read_only=True)
    has_signing_secret = serializers.BooleanField(read_only=True)

    class Meta:
        model = Integration
        fields = [
            "id",
            "public_id",
            "kind",
            "name",
            "webhook_url",
            "enabled",
            *Integration.ROUTING_FIELDS,
            *Integration.POSTMORTEM_FIELDS,
            "has_signing_secret",
            "token_rotated_at",
            "created_at",
        ]
        read_only_fields = fields


class IntegrationUpdateInput(StrictInputSerializer):
    """Which of an integration's incidents earn a post-mortem draft (staff only; other settings: the admin)."""

    postmortem_min_duration_seconds = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=Integration.MAX_POSTMORTEM_MIN_DURATION_SECONDS,
        help_text="Shortest incident (started to resolved, seconds) that earns a draft; 0: every one.",
    )
    postmortem_requires_ack = StrictBooleanField(
        required=False, help_text="Only incidents a person acknowledged earn a draft (JSON true or false)."
    )
