from django.urls import path

from . import views

app_name = "slos"
urlpatterns = [
    path("slos/", views.slo_list_view, name="list"),
    path("slos/<int:pk>/", views.slo_view, name="slo"),
    path("teams/<slug:slug>/budget-policy/", views.team_policy_view, name="team_policy"),
]
