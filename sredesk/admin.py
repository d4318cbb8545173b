"""Admin pieces shared by the apps' admin modules."""

from django.core.exceptions import PermissionDenied
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from .forms import LinkField, LinkInput


class HistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's admin as a read-only audit trail.

    ``SIMPLE_HISTORY_REVERT_DISABLED`` only hides the "Revert" button; this
    also refuses the POST, because a revert would write status and times past
    the services and the incident timeline.

    Its links (runbook, dashboard, tracker, change URLs) are ``LinkField``s, so the
    browser does not refuse ``wiki.example.com/x``, which the server takes as https.
    """

    formfield_overrides = {
        models.URLField: {"form_class": LinkField, "widget": LinkInput(attrs={"class": "vURLField"})},
    }

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("The change history is read-only: edit the object itself.")
        return super().history_form_view(request, object_id, version_id, extra_context)
