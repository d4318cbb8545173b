from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("reports/teams/", views.team_reports_view, name="teams"),
    path("reports/teams/<slug:slug>/", views.team_report_view, name="team"),
]
