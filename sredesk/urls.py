"""URL map: web UI at /, admin at /admin/, operational endpoints at the root."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ownership.views import SredeskLoginView

from . import observability

urlpatterns = [
    path("", include("postmortems.urls")),
    path("incidents/", include("incidents.urls")),
    path("hooks/", include("incidents.webhooks")),
    path("admin/", admin.site.urls),
    path("ci/", include("postmortems.ci_urls")),
    path("accounts/login/", SredeskLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", observability.healthz, name="healthz"),
    path("readyz", observability.readyz, name="readyz"),
    path("metrics", observability.metrics, name="metrics"),
]
