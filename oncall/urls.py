from django.urls import path

from . import views

app_name = "oncall"
urlpatterns = [
    path("schedules/", views.schedule_list_view, name="schedules"),
    path("schedules/<slug:slug>/", views.schedule_view, name="schedule"),
    path("schedules/<slug:slug>/swaps/", views.swap_ask_view, name="swap_ask"),
    path("schedules/<slug:slug>/handoff-note/", views.handoff_note_view, name="handoff_note"),
    path("swaps/<int:pk>/take/", views.swap_move_view, {"move": "take"}, name="swap_take"),
    path("swaps/<int:pk>/cancel/", views.swap_move_view, {"move": "cancel"}, name="swap_cancel"),
    path("calendars/mine/", views.person_calendar_link_view, name="person_calendar_link"),
    path("calendars/people/<str:token>.ics", views.person_calendar_view, name="person_calendar"),
    path("calendars/<str:token>.ics", views.calendar_view, name="calendar"),
]
