"""The REST API's router, included at ``/api/v1/``; the schema is at ``/api/schema/``, its docs at ``/api/docs/``."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from incidents.api.views import AlertViewSet, IncidentViewSet, IntegrationViewSet
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

urlpatterns = [
    path("v1/me/", MeView.as_view(), name="me"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
