"""URL map: web UI at /, REST API at /api/v1/ (schema /api/schema/, docs /api/docs/), admin at /admin/,
operational endpoints at the root."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from ownership.views import SredeskLoginView

from . import observability
from .views import overview

admin.site.site_header = admin.site.site_title = "sredesk admin"
admin.site.index_title = "Operators' console"
admin.site.enable_nav_sidebar = False  # at laptop width the changelists need the room for their columns

urlpatterns = [
    path("", overview, name="overview"),
    path("", include("postmortems.urls")),
    path("", include("ownership.urls")),
    path("", include("slos.urls")),
    path("", include("reports.urls")),
    path("incidents/", include("incidents.urls")),
    path("hooks/", include("incidents.webhooks")),
    path("oncall/", include("oncall.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("sredesk.api.urls")),
    path("ci/", include("postmortems.ci_urls")),
    path("slack/", include("slackapp.urls")),
    path("accounts/login/", SredeskLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", observability.healthz, name="healthz"),
    path("readyz", observability.readyz, name="readyz"),
    path("metrics", observability.metrics, name="metrics"),
    # Browsers ask for /favicon.ico on pages that name no icon (the API's JSON, error pages).
    path("favicon.ico", RedirectView.as_view(url=static("sredesk/favicon.svg"), permanent=True)),
]

# JSON errors under /api/ (the one error shape), Django's pages elsewhere.
handler400 = "sredesk.api.errors.handler400"
handler404 = "sredesk.api.errors.handler404"
handler500 = "sredesk.api.errors.handler500"
