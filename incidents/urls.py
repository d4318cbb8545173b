from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("declare/", views.incident_declare_view, name="declare"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/notes/add/", views.incident_note_view, name="note"),
    path("<int:pk>/severity/", views.incident_severity_view, name="severity"),
    path("<int:pk>/roles/", views.incident_role_view, name="role"),
    path("<int:pk>/responders/", views.incident_responder_view, name="responders"),
    path("<int:pk>/<str:verb>/", views.incident_transition_view, name="transition"),
]
