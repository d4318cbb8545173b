from django.urls import path

from . import views

app_name = "postmortems"
urlpatterns = [
    path("", views.open_postmortems, name="open"),
    path("postmortems/<int:pk>/link-test/", views.link_test, name="link_test"),
]
