from django.urls import path

from . import views

app_name = "ownership"
urlpatterns = [
    path("services/", views.service_catalog_view, name="services"),
    path("services/<slug:slug>/", views.service_dashboard_view, name="service"),
    path("me/", views.my_work_view, name="my_work"),
    path("me/profile/", views.profile_view, name="profile"),
    path("me/profile/page-webhook/", views.profile_page_webhook_view, name="profile_page_webhook"),
    path("me/profile/contact-rules/", views.profile_contact_rules_view, name="profile_contact_rules"),
    path("me/profile/test-page/", views.profile_test_page_view, name="profile_test_page"),
]
