from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("declare/", views.incident_declare_view, name="declare"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/<str:verb>/", views.incident_transition_view, name="transition"),
    path("<int:pk>/notes/add/", views.incident_note_view, name="note"),
]
