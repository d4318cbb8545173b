"""Output serializers for people, teams, services and repositories, and the one input (service catalog edits).

Nested objects read from prefetched relations (the viewsets prefetch them):
no serializer here runs a query of its own.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ownership.models import Membership, Repository, Responsibility, Service, Team, User
from slos.budget_serializers import PolicyInForceSerializer
from sredesk.api.fields import RefField, StrictInputSerializer

PERSON_REF = "The person's id or username."


def person_ref(**kwargs) -> RefField:
    """An input naming an active person by id or username (``sredesk.api.fields.RefField``): commanders, owners,
    responders. ``kwargs`` as for any field (``required``, ``allow_null``, ``many``...); ``help_text`` is
    ``PERSON_REF`` unless given."""
    kwargs.setdefault("help_text", PERSON_REF)
    return RefField("username", queryset=User.objects.filter(is_active=True), **kwargs)


def team_lead(team: Team) -> User | None:
    """The lead, from the team's prefetched memberships (``Team.lead`` reads them when the viewset prefetched them)."""
    return team.lead


class UserSummarySerializer(serializers.ModelSerializer):
    """A person as other objects refer to them."""

    name = serializers.CharField(source="__str__", read_only=True, help_text="Full name, else the username.")

    class Meta:
        model = User
        fields = ["id", "username", "name"]
        read_only_fields = fields


class TeamSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "slug", "name"]
        read_only_fields = fields


class MembershipOfPersonSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="team.id", read_only=True)
    slug = serializers.CharField(source="team.slug", read_only=True)
    name = serializers.CharField(source="team.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "slug", "name", "role"]
        read_only_fields = fields


class PersonSerializer(serializers.ModelSerializer):
    """A person: only what colleagues need (no email, password, permissions or login history)."""

    name = serializers.CharField(source="__str__", read_only=True)
    teams = MembershipOfPersonSerializer(source="memberships", many=True, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "name",
            "first_name",
            "last_name",
            "timezone",
            "work_start",
            "work_end",
            "working_days",
            "slack_user_id",
            "is_active",
            "teams",
        ]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "role"]
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    lead = serializers.SerializerMethodField()
    members = MemberSerializer(source="memberships", many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "slug", "slack_channel", "lead", "members"]
        read_only_fields = fields

    @extend_schema_field(UserSummarySerializer(allow_null=True))
    def get_lead(self, team: Team):
        lead = team_lead(team)
        return UserSummarySerializer(lead).data if lead else None


class RepositorySummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Repository
        fields = ["id", "name"]
        read_only_fields = fields


class RepositorySerializer(serializers.ModelSerializer):
    extra_counted_branches = serializers.SerializerMethodField()
    has_ci_token = serializers.SerializerMethodField()

    class Meta:
        model = Repository
        fields = ["id", "name", "url", "default_branch", "extra_counted_branches", "has_ci_token"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_extra_counted_branches(self, repo: Repository) -> list[str]:
        return [b.strip() for b in repo.extra_counted_branches.split(",") if b.strip()]

    @extend_schema_field(serializers.BooleanField())
    def get_has_ci_token(self, repo: Repository) -> bool:
        """Whether CI uploads are set up (the token itself is never shown again)."""
        return bool(repo.ci_token_hash)


class ResponsibilitySerializer(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True, allow_null=True)
    team = TeamSummarySerializer(read_only=True, allow_null=True)
    schedule = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True,
        help_text="An on-call schedule's slug: who it pages depends on the time (GET /api/v1/oncall/?service=).",
    )  # fmt: skip
    person = serializers.SerializerMethodField()

    class Meta:
        model = Responsibility
        fields = ["role", "user", "team", "schedule", "person"]
        read_only_fields = fields

    @extend_schema_field(UserSummarySerializer(allow_null=True))
    def get_person(self, responsibility: Responsibility):
        """Whom to contact: the user, else the team's lead; null for a schedule (ask /api/v1/oncall/)."""
        person = responsibility.user or (team_lead(responsibility.team) if responsibility.team else None)
        return UserSummarySerializer(person).data if person else None


class ServiceSerializer(serializers.ModelSerializer):
    team = TeamSummarySerializer(read_only=True, allow_null=True)
    repositories = RepositorySummarySerializer(many=True, read_only=True)
    responsibilities = ResponsibilitySerializer(many=True, read_only=True)
    catalog_gaps = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="What the catalog misses: owner, dashboard, ..."
    )
    budget_policy = PolicyInForceSerializer(
        source="*", read_only=True, help_text="The owning team's error-budget policy, when it holds the service."
    )

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "team",
            "tier",
            "runbook_url",
            "dashboard_url",
            "alerts_url",
            "ci_reports_tests",
            "repositories",
            "responsibilities",
            "catalog_gaps",
            "budget_policy",
            "version",
        ]
        read_only_fields = fields


class ServiceUpdateInput(StrictInputSerializer):
    """Catalog fields a service's team may edit (name and owning team stay with the admin)."""

    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    tier = serializers.ChoiceField(choices=Service.Tier.choices, required=False)
    runbook_url = serializers.URLField(required=False, allow_blank=True, max_length=500)
    dashboard_url = serializers.URLField(required=False, allow_blank=True, max_length=500)
    alerts_url = serializers.URLField(required=False, allow_blank=True, max_length=500)
    ci_reports_tests = serializers.BooleanField(required=False)
