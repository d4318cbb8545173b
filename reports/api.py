"""``GET /api/v1/reports/teams/`` and ``/api/v1/reports/services/``: the figures of ``reports.figures``, JSON or CSV.

Thin: the period comes from ``reports.period`` (400 naming the parameter),
the figures from ``reports.figures.report``, the CSV from ``reports.csv``.
CSV is chosen by ``?format=csv`` or ``Accept: text/csv``; errors are JSON
whatever was asked for (the one error shape).
"""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from sredesk.inputs import InputError

from .csv import report_csv
from .figures import report
from .period import DEFAULT_DAYS, MAX_DAYS, period_from_query


class CSVRenderer(BaseRenderer):
    """``text/csv`` for a report body (``reports.csv``)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return report_csv(data["_rows"], data["_period"]).encode("utf-8")


class StatsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many values were measured.")
    median = serializers.FloatField(allow_null=True, help_text="Seconds; null when count is 0.")
    p90 = serializers.FloatField(allow_null=True, help_text="90th percentile (continuous), seconds.")


class MeanStatsSerializer(StatsSerializer):
    mean = serializers.FloatField(allow_null=True, help_text="Seconds; null when count is 0.")


class SeverityFiguresSerializer(serializers.Serializer):
    severity = serializers.CharField(help_text="SEV1 … SEV4.")
    count = serializers.IntegerField(help_text="Incidents of this severity detected in the period.")
    time_to_acknowledge_seconds = MeanStatsSerializer(help_text="MTTA: detected_at → acknowledged_at.")
    time_to_mitigate_seconds = MeanStatsSerializer(help_text="started_at → mitigated_at.")
    time_to_resolve_seconds = MeanStatsSerializer(help_text="MTTR: started_at → resolved_at.")


class IncidentFiguresSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    by_severity = SeverityFiguresSerializer(many=True, help_text="Always SEV1 … SEV4, in order.")


class PostMortemFiguresSerializer(serializers.Serializer):
    published = serializers.IntegerField(help_text="Published in the period.")
    declined = serializers.IntegerField(help_text="Declined in the period.")
    with_verified_test = serializers.IntegerField(
        help_text="Of those published in the period: with an accepted regression test now (verified, or linked "
        "where the service's CI does not report to sredesk)."
    )
    owing_regression_test = serializers.IntegerField(
        help_text="Whose regression-test debt began in the period (publication or the due instant, whichever came "
        "first, so a late draft counts): owing one now."
    )
    published_to_verified_seconds = StatsSerializer(
        help_text="From publication to the first accepted test (0 when it came first)."
    )


class RegressionFiguresSerializer(serializers.Serializer):
    turned_red = serializers.IntegerField(help_text="Turns of a regression test to failing or missing in the period.")
    green_again = serializers.IntegerField(help_text="Of those, how many were verified again since.")
    time_to_green_seconds = StatsSerializer(help_text="From the turn to the next verification.")


class GroupSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="team or service.")
    id = serializers.IntegerField(allow_null=True, help_text="null: incidents with no team (service).")
    slug = serializers.CharField()
    name = serializers.CharField()


class GroupFiguresSerializer(serializers.Serializer):
    group = GroupSerializer()
    postmortems = PostMortemFiguresSerializer()
    regression_tests = RegressionFiguresSerializer()
    incidents = IncidentFiguresSerializer()


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Included, UTC.")
    end = serializers.DateTimeField(help_text="Excluded, UTC.")


class ReportSerializer(serializers.Serializer):
    group_by = serializers.CharField(help_text="team or service.")
    period = PeriodSerializer()
    results = GroupFiguresSerializer(many=True, help_text="Every team (service) by name, then one without.")


PERIOD_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (UTC) of the period; needs end."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day (UTC), included; at most 366 days in all."),
    OpenApiParameter("days", OpenApiTypes.INT, description=f"The last N×24 h (1..{MAX_DAYS}); default {DEFAULT_DAYS}."),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description="csv: as Accept: text/csv."),
]


class _ReportView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, CSVRenderer]
    schema_tags = ["reports"]
    group_by = ""

    def get(self, request):
        period = period_from_query(request.query_params, now=timezone.now())
        rows = report(self.group_by, period, now=timezone.now())
        if request.accepted_renderer.format == "csv":
            response = Response({"_rows": rows, "_period": period})
            stamp = f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"
            response["Content-Disposition"] = f'attachment; filename="sredesk-{self.group_by}s-{stamp}.csv"'
            return response
        body = {"group_by": self.group_by, "period": {"start": period.start, "end": period.end}, "results": rows}
        return Response(ReportSerializer(body).data)

    def perform_content_negotiation(self, request, force=False):
        """``?format=`` other than json or csv is a 400 naming it (DRF would answer 404)."""
        wanted = request.query_params.get("format")
        if wanted is not None and wanted not in ("json", "csv"):
            if force:
                return JSONRenderer(), "application/json"
            raise InputError("format", "Give format=json or format=csv.")
        return super().perform_content_negotiation(request, force=force)

    def finalize_response(self, request, response, *args, **kwargs):
        report_body = isinstance(getattr(response, "data", None), dict) and "_rows" in response.data
        if response.status_code >= 400 or not report_body:
            # Errors (the one error shape) and OPTIONS' description are JSON, even when CSV was asked for.
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


_RESPONSES = {
    (200, "application/json"): ReportSerializer,
    (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One row per group (reports.csv)."),
}


class TeamReportView(_ReportView):
    """Loop-closure and response figures per team over a period."""

    group_by = "team"

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=_RESPONSES, operation_id="reports_teams")
    def get(self, request):
        """Per team: post-mortems published, declined, with a verified test, owing one; published → verified;
        regression tests turned failing/missing and time to green; MTTA, time to mitigate, MTTR by severity."""
        return super().get(request)


class ServiceReportView(_ReportView):
    """Loop-closure and response figures per service over a period."""

    group_by = "service"

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=_RESPONSES, operation_id="reports_services")
    def get(self, request):
        """The figures of ``reports/teams/``, per service (the incident's primary service)."""
        return super().get(request)
