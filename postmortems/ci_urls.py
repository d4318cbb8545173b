from django.urls import path

from . import ci_views

app_name = "ci"
urlpatterns = [
    path("junit/", ci_views.junit_upload, name="junit_upload"),
    path("runs/<path:run_key>/complete/", ci_views.run_complete, name="run_complete"),
]
