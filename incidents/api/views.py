"""Incidents (declare, edit, transitions, timeline), alerts and integrations. Every write calls incidents.services."""

from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from incidents import services
from incidents.integrations import integration_update
from incidents.models import Alert, Incident, Integration, Source, TimelineEvent, parse_public_id
from incidents.moves import incident_move
from incidents.update import incident_update
from ownership.models import Service
from sredesk.api.errors import ErrorSerializer
from sredesk.api.etags import ETagMixin, check_if_match
from sredesk.api.ordering import OrderKey
from sredesk.api.pagination import KeysetPagination
from sredesk.api.viewsets import BaseViewSet, ReadOnlyViewSet
from sredesk.inputs import InputError

from . import filters, serializers
from .list_rows import INCIDENT_LIST_VALUES, incident_list_rows

INCIDENT_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The incident's number (INC-42 is also accepted)."
)
CONFLICT = OpenApiResponse(ErrorSerializer, description="The current status does not allow this transition.")


class TimelinePagination(KeysetPagination):
    """Timeline pages, oldest first."""

    def ordering_keys(self, request, view) -> list[OrderKey]:
        return [OrderKey("at", descending=False, nullable=False), OrderKey("id", descending=False, nullable=False)]

    def page_model(self, view):
        return TimelineEvent


@extend_schema_view(
    retrieve=extend_schema(parameters=[INCIDENT_ID]),
    partial_update=extend_schema(parameters=[INCIDENT_ID]),
)
class IncidentViewSet(ETagMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Incidents, newest detected first.

    Anyone signed in may declare an incident; changing one is for its owning
    team's members, its commander and staff.
    """

    serializer_class = serializers.IncidentListSerializer
    filterset_class = filters.IncidentFilter
    lookup_value_regex = r"[^/.]+"  # a number or a public id, as get_object reads it
    ordering_fields = (
        "detected_at",
        "started_at",
        "resolved_at",
        "created_at",
        "updated_at",
        "severity",
        "status",
        "id",
    )
    ordering = ("-detected_at", "-id")
    schema_tags = ["incidents"]

    def get_queryset(self):
        if self.action == "timeline":
            return Incident.objects.all()
        queryset = Incident.objects.select_related("owning_team", "commander", "primary_service").prefetch_related(
            Prefetch("services", Service.objects.only("id", "slug", "name").order_by("name"))
        )
        if self.action != "list":
            queryset = queryset.select_related(
                "communications_lead", "acknowledged_by", "integration", "postmortem"
            ).prefetch_related("responders")
        return queryset

    def get_serializer_class(self):
        return serializers.IncidentListSerializer if self.action == "list" else serializers.IncidentDetailSerializer

    def list(self, request):
        """Incidents, newest detected first, in cursor pages, with their team, commander and services.

        Reads plain rows (``.values()``) and shapes them with ``incident_list_rows``: the same output as
        ``IncidentListSerializer``, at a fraction of the cost (see bench/api.py).
        """
        queryset = self.filter_queryset(Incident.objects.all())
        page = self.paginate_queryset(queryset.values(*INCIDENT_LIST_VALUES))
        return self.get_paginated_response(incident_list_rows(page))

    def get_object(self):
        """The incident the URL names, as ``42`` or ``INC-42`` (``parse_public_id``); anything else is a 404."""
        try:
            self.kwargs["pk"] = parse_public_id(str(self.kwargs["pk"]), field="id", bare=True)
        except InputError:
            raise Http404 from None
        return super().get_object()

    def _detail(self, pk: int, status_code: int = 200) -> Response:
        incident = self.get_queryset().get(pk=pk)
        return Response(serializers.IncidentDetailSerializer(incident).data, status=status_code)

    @extend_schema(request=serializers.IncidentCreateInput, responses={201: serializers.IncidentDetailSerializer})
    def create(self, request):
        """Declare an incident (status ``triggered``); announced to the owning team and the paged person."""
        data = serializers.IncidentCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_declare(actor=request.user, source=Source.API, **data.validated_data)
        return self._detail(incident.pk, status.HTTP_201_CREATED)

    @extend_schema(request=serializers.IncidentUpdateInput, responses=serializers.IncidentDetailSerializer)
    def partial_update(self, request, pk=None):
        """Change title, summary, severity, commander, communications lead or responders (all or nothing).

        Status and lifecycle times change through the transition actions, never here.
        """
        incident = self.get_object()
        data = serializers.IncidentUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            check_if_match(request, Incident, incident.pk)
            incident_update(incident_id=incident.pk, actor=request.user, source=Source.API, **data.validated_data)
        return self._detail(incident.pk)

    def _transition(self, request, verb: str) -> Response:
        incident = self.get_object()
        data = serializers.TransitionInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            check_if_match(request, Incident, incident.pk)
            outcome = incident_move(
                verb=verb, incident_id=incident.pk, actor=request.user, source=Source.API, at=data.validated_data["at"]
            )
        moved = self.get_queryset().get(pk=incident.pk)
        return Response(serializers.IncidentMoveSerializer(moved, context={"outcome": outcome}).data)

    _transition_schema = {
        "request": serializers.TransitionInput,
        "responses": {200: serializers.IncidentMoveSerializer, 409: CONFLICT},
        "parameters": [INCIDENT_ID],
    }

    @extend_schema(**_transition_schema)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Acknowledge (from triggered). A repeat changes nothing (``changed: false``, and ``hint`` says who
        acknowledged it first, and when); the first acknowledgement's time is kept."""
        return self._transition(request, "acknowledge")

    @extend_schema(**_transition_schema)
    @action(detail=True, methods=["post"])
    def mitigate(self, request, pk=None):
        """Impact stopped (from triggered or acknowledged). A repeat changes nothing (`changed: false`, `hint`)."""
        return self._transition(request, "mitigate")

    @extend_schema(**_transition_schema)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Resolve at ``at`` (default now; never before the detection, acknowledgement or mitigation recorded).
        When the severity needs a post-mortem, its draft is created by a worker just after (``postmortem`` is
        null until then). A repeat changes nothing (`changed: false`, and `hint` says who resolved it, and when)."""
        return self._transition(request, "resolve")

    @extend_schema(**_transition_schema)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Back to triggered from mitigated or resolved; the old times stay on the timeline."""
        return self._transition(request, "reopen")

    @extend_schema(
        methods=["GET"],
        request=None,
        responses=serializers.TimelinePageSerializer,
        parameters=[INCIDENT_ID],
        description="The incident's timeline, oldest first, in cursor pages (`cursor`, `page_size`).",
    )
    @extend_schema(
        methods=["POST"],
        request=serializers.NoteInput,
        responses={201: serializers.TimelineEventSerializer},
        parameters=[INCIDENT_ID],
        description="Add a note to the timeline.",
    )
    @action(detail=True, methods=["get", "post"])
    def timeline(self, request, pk=None):
        incident = self.get_object()
        if request.method == "POST":
            data = serializers.NoteInput(data=request.data)
            data.is_valid(raise_exception=True)
            event = services.incident_add_note(
                incident_id=incident.pk, text=data.validated_data["message"], actor=request.user, source=Source.API
            )
            return Response(serializers.TimelineEventSerializer(event).data, status=status.HTTP_201_CREATED)
        paginator = TimelinePagination()
        errors = paginator.check_params(request, self)
        if errors:
            raise ValidationError(errors)
        page = paginator.paginate_queryset(incident.timeline.select_related("actor"), request, self)
        return paginator.get_paginated_response(serializers.TimelineEventSerializer(page, many=True).data)


class AlertViewSet(ReadOnlyViewSet):
    """Alerts received from integrations, newest first (read-only: alerts arrive through /hooks/<integration>/)."""

    serializer_class = serializers.AlertSerializer
    filterset_class = filters.AlertFilter
    ordering_fields = ("starts_at", "last_seen_at", "first_seen_at", "id")
    ordering = ("-starts_at", "-id")
    schema_tags = ["alerts"]

    def get_queryset(self):
        return Alert.objects.select_related("integration", "incident")


class IntegrationViewSet(ReadOnlyViewSet):
    """Alert sources and their webhook URLs. Tokens and signing secrets are never shown.

    Staff may PATCH which of an integration's incidents earn a post-mortem draft; the rest is the admin's.
    """

    serializer_class = serializers.IntegrationSerializer
    filterset_class = filters.IntegrationFilter
    ordering_fields = ("name", "created_at", "id")
    ordering = ("name",)
    schema_tags = ["integrations"]

    def get_queryset(self):
        return Integration.objects.select_related("default_service")

    @extend_schema(request=serializers.IntegrationUpdateInput, responses=serializers.IntegrationSerializer)
    def partial_update(self, request, pk=None):
        """Set which of its incidents earn a post-mortem draft (minimum duration, acknowledgement). Staff only."""
        integration = self.get_object()
        data = serializers.IntegrationUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        integration_update(integration_id=integration.pk, actor=request.user, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=integration.pk)).data)
