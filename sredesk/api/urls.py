"""The REST API's router, included at ``/api/v1/``; the schema is at ``/api/schema/``, its docs at ``/api/docs/``."""

from csp.constants import SELF
from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from incidents.api.views import AlertViewSet, IncidentViewSet, IntegrationViewSet
from notifications.api import ContactRulesView, PageWebhookViewSet, TestPageView
from oncall.api.views import (
    EscalationPolicyViewSet,
    HandoffNoteViewSet,
    LayerViewSet,
    MemberViewSet,
    OnCallView,
    OverrideViewSet,
    ScheduleViewSet,
    SwapViewSet,
)
from ownership.api.me import MeView
from ownership.api.views import PersonViewSet, RepositoryViewSet, ServiceViewSet, TeamViewSet
from postmortems.api.views import (
    ActionItemViewSet,
    PostMortemViewSet,
    RegressionTestViewSet,
    ReminderViewSet,
    TestResultViewSet,
    TestRunViewSet,
)
from reports.api import ServiceReportView, TeamReportView
from slos.api.policy import BudgetPolicyView
from slos.api.views import SLOViewSet

REDOC_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
]


class Router(DefaultRouter):
    include_root_view = False  # the schema and /api/docs/ describe the API
    include_format_suffixes = False


router = Router()
router.register("teams", TeamViewSet, basename="team")
router.register("people", PersonViewSet, basename="person")
router.register("services", ServiceViewSet, basename="service")
router.register("repositories", RepositoryViewSet, basename="repository")
router.register("incidents", IncidentViewSet, basename="incident")
router.register("alerts", AlertViewSet, basename="alert")
router.register("integrations", IntegrationViewSet, basename="integration")
router.register("postmortems", PostMortemViewSet, basename="postmortem")
router.register("action-items", ActionItemViewSet, basename="action-item")
router.register("regression-tests", RegressionTestViewSet, basename="regression-test")
router.register("test-runs", TestRunViewSet, basename="test-run")
router.register("test-results", TestResultViewSet, basename="test-result")
router.register("reminders", ReminderViewSet, basename="reminder")
router.register("slos", SLOViewSet, basename="slo")
router.register("schedules", ScheduleViewSet, basename="schedule")
router.register("layers", LayerViewSet, basename="layer")
router.register("layer-members", MemberViewSet, basename="layer-member")
router.register("overrides", OverrideViewSet, basename="override")
router.register("swaps", SwapViewSet, basename="swap")
router.register("handoff-notes", HandoffNoteViewSet, basename="handoff-note")
router.register("escalation-policies", EscalationPolicyViewSet, basename="escalation-policy")
router.register("page-webhooks", PageWebhookViewSet, basename="page-webhook")

urlpatterns = [
    path("v1/me/", MeView.as_view(), name="me"),
    path("v1/me/contact-rules/", ContactRulesView.as_view(), name="me-contact-rules"),
    path("v1/me/test-page/", TestPageView.as_view(), name="me-test-page"),
    path("v1/reports/teams/", TeamReportView.as_view(), name="reports-api-teams"),
    path("v1/reports/services/", ServiceReportView.as_view(), name="reports-api-services"),
    re_path(r"^v1/teams/(?P<team_id>[0-9]{1,18})/budget-policy/$", BudgetPolicyView.as_view(), name="budget-policy"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Our own templates: no inline script or style (Content-Security-Policy), nothing from another host.
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path(
        "redoc/",
        # Redoc's bundle adds two <style> elements as it loads, before it knows the page's nonce: allowed by their
        # hashes (an empty one and its own CSS; drf-spectacular-sidecar is pinned), and it searches in a worker it
        # makes from a blob: URL. tests/e2e/test_csp.py fails if a new version needs more.
        csp_update({"style-src": REDOC_STYLE_HASHES, "worker-src": [SELF, "blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html")
        ),
        name="api-redoc",
    ),
    path("v1/oncall/", OnCallView.as_view(), name="oncall"),
]
