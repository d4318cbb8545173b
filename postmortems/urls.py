from django.urls import path

from . import views

app_name = "postmortems"
urlpatterns = [
    path("postmortems/", views.open_postmortems, name="open"),
    path("postmortems/preview/", views.markdown_preview, name="preview"),
    path("postmortems/<int:pk>/", views.postmortem_detail, name="detail"),
    path("postmortems/<int:pk>/edit/", views.postmortem_edit, name="edit"),
    path("postmortems/<int:pk>/export.md", views.postmortem_export, name="export"),
    path("postmortems/<int:pk>/action-items/add/", views.action_item_add, name="add_action_item"),
    path("postmortems/<int:pk>/action-items/<int:item_pk>/edit/", views.action_item_edit, name="edit_action_item"),
    path(
        "postmortems/<int:pk>/action-items/<int:item_pk>/status/", views.action_item_status, name="action_item_status"
    ),
    path("postmortems/<int:pk>/link-test/", views.link_test, name="link_test"),
    path("postmortems/<int:pk>/snooze/", views.postmortem_snooze_view, name="snooze"),
    path("postmortems/<int:pk>/decline/", views.postmortem_decline_view, name="decline"),
    path("postmortems/<int:pk>/reopen/", views.postmortem_reopen_view, name="reopen"),
    path("postmortems/<int:pk>/<str:verb>/", views.postmortem_transition_view, name="transition"),
]
