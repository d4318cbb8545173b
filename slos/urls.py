from django.urls import path

from . import views

app_name = "slos"
urlpatterns = [
    path("slos/", views.slo_list_view, name="list"),
    path("slos/<int:pk>/", views.slo_view, name="slo"),
]
