from django.urls import path

from . import views

app_name = "oncall"
urlpatterns = [
    path("schedules/", views.schedule_list_view, name="schedules"),
    path("schedules/<slug:slug>/", views.schedule_view, name="schedule"),
    path("calendars/<str:token>.ics", views.calendar_view, name="calendar"),
]
