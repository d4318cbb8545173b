"""The API shape of ``slos.budget``: what an incident used of each SLO's error budget (read only)."""

from rest_framework import serializers

from .budget import BudgetUse


class BudgetSLOSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    slug = serializers.CharField()
    name = serializers.CharField()
    service = serializers.CharField(source="service.slug", help_text="The service's slug.")


class WindowUseSerializer(serializers.Serializer):
    """What the incident used of one SLO window's budget."""

    window_start = serializers.DateTimeField(help_text="The SLO window's start (UTC).")
    window_end = serializers.DateTimeField(help_text="Its end (UTC); a rolling window ends where the impact ends.")
    label = serializers.CharField(help_text='"November 2026 in Europe/Berlin", or "30 days to 2026-11-10 10:30 UTC".')
    impact_start = serializers.DateTimeField(help_text="The part of the impact window inside this SLO window: start.")
    impact_end = serializers.DateTimeField(help_text="... and end.")
    used = serializers.FloatField(
        allow_null=True, help_text="Bad seconds (time SLI) or bad events the data shows; null: no data at all."
    )
    budget = serializers.FloatField(
        allow_null=True, help_text="The window's error budget in the same unit; null: no data or traffic in it."
    )
    fraction = serializers.FloatField(allow_null=True, help_text="used ÷ budget (0.37 is 37 %).")
    coverage = serializers.FloatField(
        help_text="The part of the impact with SLI data, 0..1; below 1 the use is at least `used` (missing data is "
        "never counted as good)."
    )


class BudgetUseSerializer(serializers.Serializer):
    """What one incident used of one SLO's error budget (``slos.budget.incident_budget``)."""

    slo = BudgetSLOSerializer()
    unit = serializers.ChoiceField(choices=["seconds", "events"])
    counted = serializers.BooleanField(
        help_text="False: a time SLI that counts only worse incidents (min_severity); this one used nothing."
    )
    ongoing = serializers.BooleanField(help_text="The impact has not ended (no mitigated_at nor resolved_at).")
    sentence = serializers.CharField(help_text='"this incident used 37 % of the month\'s budget (…)"')
    windows = WindowUseSerializer(many=True, help_text="One per SLO window the impact touches, oldest first.")


def budget_data(uses: list[BudgetUse]) -> list[dict]:
    """``incident_budget``'s result as the API gives it."""
    return BudgetUseSerializer(uses, many=True).data


class PolicyInForceSerializer(serializers.Serializer):
    """Whether the owning team's error-budget policy is in force for a service (``slos.policy``), read from the
    annotations of ``slos.policy.policy_annotations`` (use with ``source="*"``)."""

    in_force = serializers.BooleanField(
        source="budget_policy_in_force",
        help_text="An SLO of the service has spent its budget down to the team's threshold (0: exhausted).",
    )
    reminder_steps_sooner = serializers.IntegerField(
        source="budget_policy_steps_sooner", help_text="Reminder cadence steps its post-mortems go ahead (0: none)."
    )
    due_factor = serializers.DecimalField(
        source="budget_policy_due_factor",
        max_digits=3,
        decimal_places=2,
        help_text="A new post-mortem of its incidents is due after this fraction of the usual time (1: as usual).",
    )
