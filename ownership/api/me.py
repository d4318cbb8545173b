"""``GET/PATCH /api/v1/me/``: the signed-in person's own profile, and how reminders reach them."""

from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ownership.models import Membership, User
from ownership.profile import PROFILE_FIELDS, person_profile_update, person_reachability
from sredesk.api.fields import StrictInputSerializer

from .serializers import MembershipOfPersonSerializer


class ChannelSerializer(serializers.Serializer):
    channel = serializers.CharField(help_text="outbox, slack or email.")
    address = serializers.CharField(help_text="Outbox name, Slack member id or email address.")


class ReachabilitySerializer(serializers.Serializer):
    """How reminders reach the person now (``ownership.profile.person_reachability``)."""

    channels = serializers.SerializerMethodField(help_text="Where a reminder to you goes, outbox first.")
    gaps = serializers.ListField(
        source="reach.gaps", child=serializers.CharField(), help_text="Channels that miss you, and why."
    )
    team_channel_instead = serializers.BooleanField(
        source="reach.team_channel_instead",
        help_text="Slack cannot message you directly; your teams' channels are told.",
    )
    team_channels = serializers.ListField(child=serializers.CharField())
    slack_problems = serializers.ListField(
        child=serializers.CharField(), help_text="Slack errors about you that someone must fix, in plain words."
    )
    working_hours = serializers.CharField(source="hours")
    in_working_hours = serializers.BooleanField(source="in_hours")
    next_opening = serializers.DateTimeField(help_text="When a reminder due now goes out (UTC); now inside your hours.")

    @extend_schema_field(ChannelSerializer(many=True))
    def get_channels(self, reachability) -> list[dict]:
        return [{"channel": c, "address": a} for c, a in reachability.reach.channels]


class MeSerializer(serializers.ModelSerializer):
    """The signed-in person as they see themselves: profile fields, teams, reachability."""

    teams = MembershipOfPersonSerializer(source="memberships", many=True, read_only=True)
    work_start = serializers.TimeField(format="%H:%M")
    work_end = serializers.TimeField(format="%H:%M")
    reachability = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", *PROFILE_FIELDS, "teams", "reachability"]
        read_only_fields = fields

    @extend_schema_field(ReachabilitySerializer)
    def get_reachability(self, person: User) -> dict:
        return ReachabilitySerializer(person_reachability(person, now=timezone.now())).data


class MeUpdateInput(StrictInputSerializer):
    """Fields a person sets for themselves; each is checked by ``ownership.profile`` (400 naming the field)."""

    first_name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    last_name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    email = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    timezone = serializers.CharField(required=False, trim_whitespace=False, help_text="IANA name, e.g. Europe/Berlin.")
    work_start = serializers.CharField(required=False, help_text="HH:MM, in your time zone.")
    work_end = serializers.CharField(required=False, help_text="HH:MM; equal to work_start: around the clock.")
    working_days = serializers.CharField(required=False, allow_blank=True, help_text="ISO weekday digits, e.g. 12345.")
    slack_user_id = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="Slack member id, e.g. U024BE7LH."
    )


class MeView(APIView):
    """Your own profile. ``PATCH`` changes only the fields it names; the others stay."""

    permission_classes = [IsAuthenticated]
    schema_tags = ["people"]

    def _me(self, request) -> User:
        return User.objects.prefetch_related(Prefetch("memberships", Membership.objects.select_related("team"))).get(
            pk=request.user.pk
        )

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve")
    def get(self, request):
        """Your profile, teams, and how reminders reach you now."""
        return Response(MeSerializer(self._me(request)).data)

    @extend_schema(request=MeUpdateInput, responses=MeSerializer, operation_id="me_partial_update")
    def patch(self, request):
        """Change your time zone, working hours, Slack member id, email or name."""
        data = MeUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        person_profile_update(user_id=request.user.pk, **data.validated_data)
        return Response(MeSerializer(self._me(request)).data)
