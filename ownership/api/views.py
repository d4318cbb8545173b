"""People, teams, services and repositories. Read-only except a service's catalog fields."""

from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from ownership.models import Membership, Repository, Responsibility, Service, Team, User
from ownership.services import service_update
from slos.policy import policy_annotations
from sredesk.api.etags import ETagMixin, check_if_match
from sredesk.api.viewsets import ReadOnlyViewSet

from . import filters, serializers


class PersonViewSet(ReadOnlyViewSet):
    """People who sign in, own post-mortems and action items, and get reminders."""

    serializer_class = serializers.PersonSerializer
    filterset_class = filters.PersonFilter
    ordering_fields = ("username", "last_name", "date_joined", "id")
    ordering = ("username",)
    schema_tags = ["people"]

    def get_queryset(self):
        return User.objects.prefetch_related(Prefetch("memberships", Membership.objects.select_related("team")))


class TeamViewSet(ReadOnlyViewSet):
    """Teams, their lead and members."""

    serializer_class = serializers.TeamSerializer
    filterset_class = filters.TeamFilter
    ordering_fields = ("name", "slug", "id")
    ordering = ("name",)
    schema_tags = ["teams"]

    def get_queryset(self):
        return Team.objects.prefetch_related(Prefetch("memberships", Membership.objects.select_related("user")))


class ServiceViewSet(ETagMixin, ReadOnlyViewSet):
    """The service catalog: owner, tier, links, repositories, and who is paged / triages / fixes / escalates."""

    serializer_class = serializers.ServiceSerializer
    filterset_class = filters.ServiceFilter
    ordering_fields = ("name", "slug", "tier", "id")
    ordering = ("name",)
    schema_tags = ["services"]

    def get_queryset(self):
        return (
            Service.objects.select_related("team")
            .annotate(**policy_annotations())
            .prefetch_related(
                "repositories",
                Prefetch(
                    "responsibilities",
                    Responsibility.objects.select_related("user", "team", "schedule").prefetch_related(
                        Prefetch("team__memberships", Membership.objects.select_related("user"))
                    ),
                ),
            )
        )

    @extend_schema(request=serializers.ServiceUpdateInput, responses=serializers.ServiceSerializer)
    def partial_update(self, request, pk=None):
        """Edit catalog fields (description, tier, links, whether CI reports tests). Owning team and staff only."""
        service = self.get_object()
        data = serializers.ServiceUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            check_if_match(request, Service, service.pk)
            service_update(service_id=service.pk, actor=request.user, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=service.pk)).data)


class RepositoryViewSet(ReadOnlyViewSet):
    """Source repositories whose CI reports test runs. CI tokens are never shown (only whether one is set)."""

    serializer_class = serializers.RepositorySerializer
    filterset_class = filters.RepositoryFilter
    ordering_fields = ("name", "id")
    ordering = ("name",)
    schema_tags = ["repositories"]

    def get_queryset(self):
        return Repository.objects.all()
