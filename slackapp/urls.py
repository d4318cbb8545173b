"""URLs under ``/slack/``: the three doors Slack's app settings name, and the account-link page."""

from django.urls import path

from . import views

app_name = "slackapp"
urlpatterns = [
    path("commands", views.commands, name="commands"),
    path("interactivity", views.interactivity, name="interactivity"),
    path("events", views.events, name="events"),
    path("link/<str:token>/", views.link, name="link"),
]
