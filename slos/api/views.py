"""``/api/v1/slos/``: SLOs with their state, written by their service's team (``slos.services``), and the push
of SLI samples (``slos.samples``). Reads are for everyone signed in."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from slos import imports, samples, services
from slos.models import SLO
from slos.selectors import slos_with_state
from sredesk.api.errors import ErrorSerializer
from sredesk.api.permissions import check_write
from sredesk.api.viewsets import BaseViewSet

from . import filters, serializers

SAMPLES_SHAPE = 'Send {"samples": [{bucket_start, good, total}, ...]} and nothing else.'
NOT_PUSHED = OpenApiResponse(ErrorSerializer, description="The SLO's SLI is not pushed (code not_pushed).")


class SLOViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, BaseViewSet):
    """Service level objectives with the figures of their last evaluation (every minute): attainment, budget
    total and left (as a fraction, and in events or seconds), burn rate per window, coverage and status."""

    serializer_class = serializers.SLOSerializer
    filterset_class = filters.SLOFilter
    ordering_fields = ("name", "slug", "created_at", "updated_at", "id")
    ordering = ("name", "id")
    schema_tags = ["SLOs"]

    def get_queryset(self):
        return slos_with_state()

    def _detail(self, pk: int, status_code: int = 200) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data, status=status_code)

    @extend_schema(request=serializers.SLOCreateInput, responses={201: serializers.SLOSerializer})
    def create(self, request):
        """Add an SLO to a service (its team's members and staff). Its state comes with the next evaluation."""
        data = serializers.SLOCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        service = fields.pop("service")
        check_write(request, SLO(service=service))
        slo = services.slo_create(actor=request.user, service=service, **fields)
        return self._detail(slo.pk, status.HTTP_201_CREATED)

    @extend_schema(request=serializers.SLOUpdateInput, responses=serializers.SLOSerializer)
    def partial_update(self, request, pk=None):
        """Change some fields (the service's team and staff; moving it to another service needs both teams').
        The bucket length of an SLO with samples cannot change."""
        slo = self.get_object()
        data = serializers.SLOUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.slo_update(slo_id=slo.pk, actor=request.user, **data.validated_data)
        return self._detail(slo.pk)

    def perform_destroy(self, instance: SLO) -> None:
        services.slo_delete(slo_id=instance.pk, actor=self.request.user)

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        """Delete an SLO with its samples and state; its firing burn alerts resolve first."""
        return super().destroy(request, *args, **kwargs)

    @extend_schema(
        request=serializers.SamplesInput,
        responses={200: serializers.SamplesResult, 409: NOT_PUSHED},
    )
    @action(detail=True, methods=["post"])
    def samples(self, request, pk=None):
        """Push good and total events per bucket to an ``events_pushed`` SLO. Idempotent per bucket: a bucket
        sent again replaces the stored one, never adds to it. All or nothing: any bad sample is a 400 naming it
        (``samples.3.good``) and nothing is stored. Whole numbers from 0, good ≤ total, ``bucket_start`` aligned
        on the SLO's ``bucket_seconds`` (Unix epoch), not in the future, within the last 90 days."""
        slo = self.get_object()
        body = request.data
        if not isinstance(body, dict) or set(body) != {"samples"}:
            raise ValidationError({"samples": [SAMPLES_SHAPE]})
        stored = samples.samples_store(slo_id=slo.pk, actor=request.user, samples=body["samples"])
        return Response(serializers.SamplesResult(stored).data)

    @extend_schema(request=serializers.ImportInput, responses=serializers.ImportResult)
    @action(detail=False, methods=["post"], url_path="import")
    def import_documents(self, request):
        """Import OpenSLO v1 SLO documents (``manage.py slo_import``'s twin): idempotent by service and
        ``metadata.name`` (an SLO is created, updated, or left unchanged). All or nothing: a refused document is
        a 400 naming it and where (``yaml.2.spec.timeWindow``) and nothing is written. Each SLO needs its
        service's write rule (403)."""
        data = serializers.ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        done = imports.slo_import(sources=[("yaml", params["yaml"])], actor=request.user, dry_run=params["dry_run"])
        found = {slo.pk: slo for slo in self.get_queryset().filter(pk__in=[item.slo.pk for item in done])}
        rows = [{"action": item.action, "slo": found.get(item.slo.pk, item.slo)} for item in done]
        return Response(serializers.ImportResult({"dry_run": params["dry_run"], "slos": rows}).data)

    @extend_schema(responses=serializers.ExportResult)
    @action(detail=False, methods=["get"])
    def export(self, request):
        """The SLOs as OpenSLO v1 documents, with the list's filters (``?service=checkout``, ``?team=payments``):
        as JSON objects and as one YAML stream to commit next to the code (``manage.py slo_export``'s twin)."""
        slos = list(self.filter_queryset(self.get_queryset()))
        documents, text = imports.slo_export(slos)
        return Response(serializers.ExportResult({"count": len(slos), "documents": documents, "yaml": text}).data)
