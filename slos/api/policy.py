"""``/api/v1/teams/{id}/budget-policy/``: a team's error-budget policy (``slos.policy``), read by everyone signed
in, set by the team's members and staff (``slos.services.budget_policy_set``, under ``ownership.permissions``)."""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.api.serializers import ServiceSummarySerializer
from ownership.api.serializers import TeamSummarySerializer
from ownership.models import Team
from slos.models import BudgetPolicy
from slos.policy import policy_for, services_under_policy
from slos.services import budget_policy_set
from sredesk.api.errors import ErrorSerializer
from sredesk.api.fields import StrictDecimalField, StrictInputSerializer, StrictIntegerField
from sredesk.api.permissions import ReadAllWriteOwners, check_write


class BudgetPolicySerializer(serializers.Serializer):
    """A team's error-budget policy and the services it holds now."""

    team = TeamSummarySerializer()
    enabled = serializers.BooleanField()
    threshold = serializers.DecimalField(
        max_digits=4, decimal_places=3, help_text="Budget left (fraction) at or below which it bites; 0: exhausted."
    )
    reminder_steps_sooner = serializers.IntegerField(help_text="Reminder cadence steps a held service's go ahead.")
    due_factor = serializers.DecimalField(
        max_digits=3, decimal_places=2, help_text="A new post-mortem is due after this fraction of the usual time."
    )
    is_default = serializers.BooleanField(help_text="The team never set one: these are the defaults.")
    updated_at = serializers.DateTimeField(allow_null=True)
    services_in_force = ServiceSummarySerializer(many=True, help_text="The team's services it holds now.")


class BudgetPolicyInput(StrictInputSerializer):
    """The policy's fields: all of them with PUT, those that change with PATCH."""

    enabled = serializers.BooleanField(help_text="Off: it never bites.")
    threshold = StrictDecimalField(
        max_digits=4, decimal_places=3, min_value=Decimal(0), max_value=Decimal(1), help_text="0 to 1; 0.2 is 20 %."
    )
    reminder_steps_sooner = StrictIntegerField(min_value=0, max_value=5)
    due_factor = StrictDecimalField(max_digits=3, decimal_places=2, min_value=Decimal("0.1"), max_value=Decimal(1))


FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Not a member of the team, nor staff.")


def budget_policy_data(team: Team) -> dict:
    """What ``BudgetPolicySerializer`` shows of ``team`` (two queries)."""
    team = Team.objects.select_related("budget_policy").get(pk=team.pk)
    policy = policy_for(team)
    return {
        "team": team,
        **{name: getattr(policy, name) for name in ("enabled", "threshold", "reminder_steps_sooner", "due_factor")},
        "is_default": policy.pk is None,
        "updated_at": policy.updated_at,
        "services_in_force": services_under_policy().filter(team=team).order_by("name"),
    }


class BudgetPolicyView(APIView):
    """A team's error-budget policy: while one of its services' SLOs has spent its budget down to ``threshold``,
    that service's post-mortems are reminded ``reminder_steps_sooner`` steps sooner and new ones are due after
    ``due_factor`` of the usual time. A team that never set one has the defaults (on, at exhaustion, one step,
    half the time)."""

    permission_classes = [ReadAllWriteOwners]
    schema_tags = ["teams"]

    @extend_schema(responses=BudgetPolicySerializer, operation_id="teams_budget_policy_retrieve")
    def get(self, request, team_id: int):
        """The team's policy (or the defaults) and the services it holds now."""
        team = get_object_or_404(Team, pk=team_id)
        return Response(BudgetPolicySerializer(budget_policy_data(team)).data)

    def _write(self, request, team_id: int, *, partial: bool) -> Response:
        team = get_object_or_404(Team, pk=team_id)
        check_write(request, BudgetPolicy(team=team))  # 403 before the body is read
        data = BudgetPolicyInput(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        budget_policy_set(team=team, actor=request.user, **data.validated_data)
        return Response(BudgetPolicySerializer(budget_policy_data(team)).data)

    @extend_schema(
        request=BudgetPolicyInput,
        responses={200: BudgetPolicySerializer, 403: FORBIDDEN},
        operation_id="teams_budget_policy_update",
    )
    def put(self, request, team_id: int):
        """Set the whole policy (every field). The team's members and staff."""
        return self._write(request, team_id, partial=False)

    @extend_schema(
        request=BudgetPolicyInput,
        responses={200: BudgetPolicySerializer, 403: FORBIDDEN},
        operation_id="teams_budget_policy_partial_update",
    )
    def patch(self, request, team_id: int):
        """Change the fields given; a team without a policy starts from the defaults. The team's members and staff."""
        return self._write(request, team_id, partial=True)
