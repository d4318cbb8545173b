"""On-call schedules, layers, members and overrides; the final schedule's shifts; who is paged now.

Writes go through ``oncall.services`` (the schedule's team and staff; never the past). Every answer about who
is on call comes from ``oncall.rotation.final_schedule`` (through ``oncall.selectors`` / ``oncall.paging``).
"""

import datetime as dt

from django import forms
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from oncall import handoffs, services, swaps
from oncall.models import (
    EscalationPolicy,
    EscalationStep,
    HandoffNote,
    Layer,
    LayerMember,
    Override,
    Schedule,
    Swap,
)
from oncall.paging import paged_for_schedule, paged_for_services
from oncall.selectors import schedule_final
from oncall.steps import paged_through
from ownership.models import Service, User
from sredesk.api.filters import ref_lookup
from sredesk.api.permissions import check_write
from sredesk.api.viewsets import BaseViewSet, ReadOnlyViewSet

from . import filters, serializers

MAX_WINDOW = dt.timedelta(days=92)  # a quarter: the longest window one request may ask the final schedule for
DEFAULT_WINDOW = dt.timedelta(days=14)


def window(request) -> tuple[dt.datetime, dt.datetime]:
    """``start``/``end`` from the query string, strictly: offsets required, end after start, at most MAX_WINDOW."""
    query = serializers.WindowQuery(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    start = query.validated_data.get("start") or timezone.now()
    end = query.validated_data.get("end") or start + DEFAULT_WINDOW
    if end <= start:
        raise exceptions.ValidationError({"end": ["Must be after start."]})
    if end - start > MAX_WINDOW:
        raise exceptions.ValidationError({"end": [f"At most {MAX_WINDOW.days} days after start."]})
    return start, end


def shifts_body(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> dict:
    final = schedule_final(schedule, start=start, end=end)
    people = User.objects.in_bulk({s.user_id for s in final.shifts if s.user_id})
    body = {"schedule": schedule.pk, "timezone": schedule.timezone, "start": final.start, "end": final.end,
            "shifts": final.shifts, "gaps": len(final.gaps)}  # fmt: skip
    return serializers.ShiftsSerializer(body, context={"people": people}).data


class ScheduleViewSet(ReadOnlyViewSet):
    """Teams' on-call schedules with their layers and members (changed in the admin; members and overrides here)."""

    serializer_class = serializers.ScheduleSerializer
    filterset_class = filters.ScheduleFilter
    ordering_fields = ("name", "slug", "id")
    ordering = ("name",)
    schema_tags = ["on call"]

    def get_queryset(self):
        members = LayerMember.objects.select_related("user")
        layers = Layer.objects.prefetch_related(Prefetch("members", members))
        return Schedule.objects.select_related("team").prefetch_related(Prefetch("layers", layers))

    @extend_schema(
        parameters=[serializers.WindowQuery],
        responses=serializers.ShiftsSerializer,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def shifts(self, request, pk=None):
        """The final schedule of [start, end): shifts end to end, each with its person and origin; gaps are shifts
        with no person. At most 92 days; times need an offset."""
        schedule = get_object_or_404(Schedule, pk=pk)
        start, end = window(request)
        return Response(shifts_body(schedule, start, end))


class LayerViewSet(ReadOnlyViewSet):
    """Layers (rotations) of schedules, with every member place, past ones included."""

    serializer_class = serializers.LayerSerializer
    filterset_class = filters.LayerFilter
    ordering_fields = ("priority", "id")
    ordering = ("id",)
    schema_tags = ["on call"]

    def get_queryset(self):
        return Layer.objects.prefetch_related(Prefetch("members", LayerMember.objects.select_related("user")))


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Places in layers' orders, effective-dated: adding or ending one never changes a past shift."""

    serializer_class = serializers.LayerMemberSerializer
    filterset_class = filters.MemberFilter
    ordering_fields = ("position", "active_from", "id")
    ordering = ("position", "id")
    schema_tags = ["on call"]

    def get_queryset(self):
        return LayerMember.objects.select_related("user", "layer__schedule")

    @extend_schema(request=serializers.MemberCreateInput, responses={201: serializers.LayerMemberSerializer})
    def create(self, request):
        """Add a person to a layer's order (default: last, from the layer's next hand-off)."""
        data = serializers.MemberCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        layer = fields.pop("layer")
        check_write(request, layer)
        member = services.member_add(layer_id=layer.pk, actor=request.user, **fields)
        return Response(self.get_serializer(self.get_queryset().get(pk=member.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.MemberEndInput, responses={200: serializers.LayerMemberSerializer, 204: None})
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        """Take the person out of the order from ``at`` (default now). A place not begun by then is deleted (204)."""
        member = self.get_object()
        data = serializers.MemberEndInput(data=request.data)
        data.is_valid(raise_exception=True)
        kept = services.member_end(member_id=member.pk, actor=request.user, at=data.validated_data.get("at"))
        if kept is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(self.get_queryset().get(pk=kept.pk)).data)


class OverrideViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Overrides: a person takes a window of a schedule, or is removed from it."""

    serializer_class = serializers.OverrideSerializer
    filterset_class = filters.OverrideFilter
    ordering_fields = ("start", "end", "id")
    ordering = ("start", "id")
    schema_tags = ["on call"]

    def get_queryset(self):
        return Override.objects.select_related("user", "created_by", "schedule")

    @extend_schema(request=serializers.OverrideCreateInput, responses={201: serializers.OverrideSerializer})
    def create(self, request):
        """Create an override (the schedule's team and staff; not in the past)."""
        data = serializers.OverrideCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        schedule = fields.pop("schedule")
        check_write(request, schedule)
        override = services.override_create(schedule_id=schedule.pk, actor=request.user, **fields)
        body = self.get_serializer(self.get_queryset().get(pk=override.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, 200: serializers.OverrideSerializer})
    def destroy(self, request, pk=None):
        """Withdraw an override: one not begun is deleted (204); one under way ends now (200); one over is a 400."""
        override = self.get_object()
        kept = services.override_cancel(override_id=override.pk, actor=request.user)
        if kept is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(self.get_queryset().get(pk=kept.pk)).data)


class SwapViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Swaps: a person asks someone to take a window of their time on call; the first taker gets an override.

    States: asked, taken, cancelled, expired (an asked swap whose window began). Lists and reads mark expired
    swaps first, so a state read here is current.
    """

    serializer_class = serializers.SwapSerializer
    filterset_class = filters.SwapFilter
    ordering_fields = ("start", "end", "id", "created_at")
    ordering = ("start", "id")
    schema_tags = ["on call"]

    def get_queryset(self):
        return Swap.objects.select_related("schedule", "asked_by", "taken_by")

    def list(self, request, *args, **kwargs):
        swaps.swaps_expire(now=timezone.now())
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        swaps.swaps_expire(now=timezone.now())
        return super().retrieve(request, *args, **kwargs)

    def _answer(self, swap: Swap, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=swap.pk)).data, status=code)

    @extend_schema(request=serializers.SwapAskInput, responses={201: serializers.SwapSerializer})
    def create(self, request):
        """Ask for a swap of [start, end): the final schedule must name the asker (default you) for all of it, and
        it must not have begun. Others may ask for someone only as the schedule's team or staff (403)."""
        data = serializers.SwapAskInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        schedule = fields.pop("schedule")
        swap = swaps.swap_ask(schedule_id=schedule.pk, actor=request.user, **fields)
        return self._answer(swap, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: serializers.SwapSerializer})
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])  # may_take_swap, in the service
    def take(self, request, pk=None):
        """Take the swap for yourself: a take override of its window in your name. 409 ``swap_taken`` names who
        took it first; 409 ``swap_closed`` when cancelled or expired; 409 ``swap_stale`` when the asker's shifts moved
        and the window is no longer all theirs; 403 for the asker and people outside the
        schedule's team and rotation."""
        swap = self.get_object()
        return self._answer(swaps.swap_take(swap_id=swap.pk, actor=request.user))

    @extend_schema(request=None, responses={200: serializers.SwapSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Withdraw an asked swap (its asker, the schedule's team, staff). 409 once taken, cancelled or expired."""
        swap = self.get_object()
        return self._answer(swaps.swap_cancel(swap_id=swap.pk, actor=request.user))


class HandoffNoteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Hand-off notes: the outgoing person's word for whoever takes over next, carried by the hand-off notice."""

    serializer_class = serializers.HandoffNoteSerializer
    filterset_class = filters.HandoffNoteFilter
    ordering_fields = ("created_at", "id")
    ordering = ("-created_at", "-id")
    schema_tags = ["on call"]

    def get_queryset(self):
        return HandoffNote.objects.select_related("schedule", "author")

    @extend_schema(request=serializers.HandoffNoteInput, responses={201: serializers.HandoffNoteSerializer})
    def create(self, request):
        """Write your note for the next hand-off of a schedule: you must be on call for it now or within 24 hours
        (400 on ``schedule`` otherwise); ``handoff_at`` says which hand-off the final schedule has then."""
        data = serializers.HandoffNoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        note = handoffs.handoff_note_add(schedule_id=data.validated_data["schedule"].pk, actor=request.user,
                                         text=data.validated_data["text"])  # fmt: skip
        body = self.get_serializer(self.get_queryset().get(pk=note.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)


class OnCallView(APIView):
    """``GET /api/v1/oncall/``: who is paged at ``at`` (default now) for a service, a schedule, or every service."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["on call"],
        parameters=[
            OpenApiParameter(
                "service", str, description="A service's slug or id; without service and schedule: every service."
            ),
            OpenApiParameter("schedule", str, description="A schedule's slug or id."),
            OpenApiParameter("at", dt.datetime, description="ISO 8601 with offset (default now)."),
        ],
        responses=serializers.OnCallRowSerializer(many=True),
    )
    def get(self, request):
        """One row per service asked about (or for the schedule): the person paged, from the final schedule when
        the service's paged responsibility names a schedule; ``next`` is the next shift with someone else; ``step``
        is the escalation policy step through which that person is paged. Queries flat in the number of services
        and schedules."""
        query = serializers.OnCallQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        at = query.validated_data.get("at") or timezone.now()
        if "schedule" in query.validated_data:
            schedule = _ref(Schedule.objects.all(), "slug", query.validated_data["schedule"], "schedule")
            answers = [paged_for_schedule(schedule, at)]
        else:
            services_ = Service.objects.order_by("name", "id")
            if "service" in query.validated_data:
                services_ = [_ref(services_, "slug", query.validated_data["service"], "service")]
            answers = paged_for_services(list(services_), at)
        through = paged_through(answers, at)
        rows = [
            {"service": a.service.slug if a.service else None, "schedule": a.schedule.slug if a.schedule else None,
             "at": a.at, "source": a.source, "person": a.person, "shift": a.shift, "next": a.next,
             "step": through.get(a.service.pk) if a.service else None}
            for a in answers
        ]  # fmt: skip
        people = User.objects.in_bulk({s.user_id for a in answers for s in (a.shift, a.next) if s and s.user_id})
        return Response(serializers.OnCallRowSerializer(rows, many=True, context={"people": people}).data)


def _ref(queryset, slug_field: str, value: str, field: str):
    try:
        return ref_lookup(queryset, slug_field, value)
    except forms.ValidationError as exc:
        raise exceptions.ValidationError({field: exc.messages}) from None


class EscalationPolicyViewSet(ReadOnlyViewSet):
    """Escalation policies (edited in the admin): steps in order, each with its wait and targets; their services."""

    serializer_class = serializers.EscalationPolicySerializer
    filterset_class = filters.EscalationPolicyFilter
    ordering_fields = ("name", "id")
    ordering = ("name",)
    schema_tags = ["on call"]

    def get_queryset(self):
        steps = EscalationStep.objects.prefetch_related("targets__user", "targets__schedule", "targets__team")
        return EscalationPolicy.objects.select_related("team").prefetch_related(Prefetch("steps", steps), "services")
