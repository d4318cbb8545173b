from django.urls import path

from . import views

app_name = "ownership"
urlpatterns = [
    path("services/", views.service_catalog_view, name="services"),
    path("services/<slug:slug>/", views.service_dashboard_view, name="service"),
    path("me/", views.my_work_view, name="my_work"),
    path("me/profile/", views.profile_view, name="profile"),
]
