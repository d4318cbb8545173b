"""SLO outputs (with the state the last evaluation stored) and the inputs of writes and sample pushes."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.api.serializers import ServiceSummarySerializer
from incidents.models import Severity
from ownership.api.serializers import TeamSummarySerializer
from ownership.models import Service
from slos.models import MAX_QUERY_CHARS, SLO, SLOState
from slos.samples import MAX_COUNT, MAX_SAMPLES_PER_REQUEST
from slos.windows import BURN_WINDOWS, rules_for, window_name, window_of
from slos.yamlsafe import MAX_YAML_BYTES
from sredesk.api.fields import (
    AwareDateTimeField,
    LabelChoiceField,
    RefField,
    StrictDecimalField,
    StrictInputSerializer,
    StrictIntegerField,
    label_choice_input,
)


class BurnRateSerializer(serializers.Serializer):
    window = serializers.CharField(help_text="The window's length as Prometheus writes it: 5m, 1h, 3d.")
    seconds = serializers.IntegerField()
    burn_rate = serializers.FloatField(
        allow_null=True, help_text="Error ratio ÷ (1 − target) over the window; null when it holds no data."
    )


class BurnRuleSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="page-fast, page-slow or ticket (SRE Workbook, multi-window).")
    severity = serializers.CharField(help_text="page or ticket.")
    threshold = serializers.FloatField(help_text="Burn rate at which it fires, derived from this SLO's window.")
    long_window = serializers.CharField()
    short_window = serializers.CharField()


class SLOStateSerializer(serializers.ModelSerializer):
    """The figures of the last evaluation (every minute). Budgets are in ``unit``: events, or seconds for the
    time SLI. Unknown figures (no data, no traffic) are null, never 100 %."""

    status = serializers.ChoiceField(SLOState._meta.get_field("status").choices, read_only=True)
    bad = serializers.FloatField(read_only=True)
    unit = serializers.SerializerMethodField()
    burn_rates = serializers.SerializerMethodField()
    rules = serializers.SerializerMethodField()

    class Meta:
        model = SLOState
        fields = [
            "status", "computed_at", "window_start", "window_end", "elapsed_seconds", "covered_seconds", "coverage",
            "unit", "good", "total", "bad", "attainment", "budget_total", "budget_left", "budget_left_fraction",
            "burn_rates", "rules", "last_data_at", "note",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "coverage": {"help_text": "Part of the elapsed window that has data (0..1); missing data is never good."},
            "attainment": {"help_text": "good ÷ total over covered data (0..1); null without data or traffic."},
            "budget_total": {"help_text": "(1 − target) of the events seen, or of the window's seconds; in unit."},
            "budget_left": {"help_text": "Budget total − bad, in unit; negative once overspent."},
            "budget_left_fraction": {"help_text": "Budget left ÷ budget total (1 untouched, 0 exhausted)."},
        }

    @extend_schema_field(serializers.ChoiceField(["events", "seconds"]))
    def get_unit(self, state: SLOState) -> str:
        return "events" if state.slo.is_events else "seconds"

    @extend_schema_field(BurnRateSerializer(many=True))
    def get_burn_rates(self, state: SLOState) -> list[dict]:
        rates = state.burn_rates or {}
        return [{"window": window_name(n), "seconds": n, "burn_rate": rates.get(str(n))} for n in BURN_WINDOWS]

    @extend_schema_field(BurnRuleSerializer(many=True))
    def get_rules(self, state: SLOState) -> list[dict]:
        window = window_of(state.slo, state.computed_at)
        return [
            {
                "name": rule.name,
                "severity": rule.severity,
                "threshold": rule.threshold(window.seconds),
                "long_window": window_name(rule.long_seconds),
                "short_window": window_name(rule.short_seconds),
            }
            for rule in rules_for(window)
        ]


class SLOSerializer(serializers.ModelSerializer):
    """An SLO: its target over a window for an SLI, and ``state``, the figures of its last evaluation (null
    until the first)."""

    service = ServiceSummarySerializer(read_only=True)
    team = TeamSummarySerializer(source="service.team", read_only=True, allow_null=True)
    target = serializers.DecimalField(max_digits=7, decimal_places=5, coerce_to_string=False, read_only=True)
    min_coverage = serializers.DecimalField(max_digits=4, decimal_places=3, coerce_to_string=False, read_only=True)
    min_severity = LabelChoiceField(Severity, read_only=True)
    target_percent = serializers.CharField(read_only=True, help_text="The target as people write it: 99.9 %.")
    state = serializers.SerializerMethodField()

    class Meta:
        model = SLO
        fields = [
            "id", "service", "team", "slug", "name", "description", "target", "target_percent", "window_kind",
            "window_days", "timezone", "sli_kind", "bucket_seconds", "good_query", "total_query", "min_severity",
            "measured_since", "min_coverage", "alert_min_bad_events", "absent_after_seconds", "paused", "state",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(SLOStateSerializer(allow_null=True))
    def get_state(self, slo: SLO) -> dict | None:
        try:
            state = slo.state
        except SLOState.DoesNotExist:
            return None
        return SLOStateSerializer(state).data


class SLOUpdateInput(StrictInputSerializer):
    """The fields to change; give only those. Checked as a whole SLO (a Prometheus SLI needs both queries)."""

    service = RefField("slug", queryset=Service.objects.all(), required=False, help_text="The service's id or slug.")
    slug = serializers.SlugField(max_length=63, required=False, help_text="Unique within the service.")
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    target = StrictDecimalField(max_digits=7, decimal_places=5, required=False, help_text="A fraction: 0.999.")
    window_kind = serializers.ChoiceField(SLO.WindowKind.choices, required=False)
    window_days = StrictIntegerField(required=False, min_value=1, max_value=90, help_text="Rolling window, days.")
    timezone = serializers.CharField(max_length=64, required=False, help_text="IANA zone of a calendar month.")
    sli_kind = serializers.ChoiceField(SLO.SLIKind.choices, required=False)
    bucket_seconds = StrictIntegerField(required=False, min_value=1, max_value=86400, help_text="Bucket length, s.")
    good_query = serializers.CharField(max_length=MAX_QUERY_CHARS, required=False, allow_blank=True)
    total_query = serializers.CharField(max_length=MAX_QUERY_CHARS, required=False, allow_blank=True)
    min_severity = label_choice_input(Severity, required=False)
    measured_since = AwareDateTimeField(required=False)
    min_coverage = StrictDecimalField(max_digits=4, decimal_places=3, required=False, min_value=0, max_value=1)
    alert_min_bad_events = StrictIntegerField(required=False, min_value=0, max_value=2**31 - 1)
    absent_after_seconds = StrictIntegerField(required=False, min_value=60, max_value=2**31 - 1)
    paused = serializers.BooleanField(required=False)


class SLOCreateInput(SLOUpdateInput):
    """A new SLO. ``service``, ``slug``, ``name``, ``target`` and ``sli_kind`` are required; the rest default."""

    service = RefField("slug", queryset=Service.objects.all(), help_text="The service's id or slug.")
    slug = serializers.SlugField(max_length=63, help_text="Unique within the service (OpenSLO metadata.name).")
    name = serializers.CharField(max_length=120)
    target = StrictDecimalField(max_digits=7, decimal_places=5, help_text="A fraction: 0.999 is 99.9 %.")
    sli_kind = serializers.ChoiceField(SLO.SLIKind.choices)


class SampleInput(serializers.Serializer):
    """One bucket's events (documentation of the shape; ``slos.samples`` checks it)."""

    bucket_start = serializers.DateTimeField(help_text="Start of the bucket, aligned on its length, with offset.")
    good = serializers.IntegerField(min_value=0, max_value=MAX_COUNT)
    total = serializers.IntegerField(min_value=0, max_value=MAX_COUNT, help_text="At least good.")


class SamplesInput(serializers.Serializer):
    samples = SampleInput(many=True, help_text=f"1 to {MAX_SAMPLES_PER_REQUEST:,} buckets, each at most once.")


class SamplesResult(serializers.Serializer):
    received = serializers.IntegerField(help_text="Samples stored.")
    created = serializers.IntegerField(help_text="Buckets that had no sample before.")
    replaced = serializers.IntegerField(help_text="Buckets whose stored sample this one replaced (never added to).")


class ImportInput(StrictInputSerializer):
    yaml = serializers.CharField(
        max_length=MAX_YAML_BYTES,
        trim_whitespace=False,
        help_text="OpenSLO v1 documents (YAML, several separated by ---): SLO, and the SLI and DataSource "
        "documents they refer to.",
    )
    dry_run = serializers.BooleanField(default=False, help_text="Check and report; write nothing.")


class ImportedSerializer(serializers.Serializer):
    action = serializers.ChoiceField(["created", "updated", "unchanged"])
    slo = SLOSerializer()


class ImportResult(serializers.Serializer):
    dry_run = serializers.BooleanField()
    slos = ImportedSerializer(many=True)


class ExportResult(serializers.Serializer):
    count = serializers.IntegerField()
    documents = serializers.ListField(
        child=serializers.DictField(), help_text="OpenSLO v1 SLO documents, as JSON (YAML's subset)."
    )
    yaml = serializers.CharField(help_text="The same documents as one YAML stream, ready to commit.")
