"""The post-mortem change page's inlines: action items (with their own form), regression tests, reminders,
"not testable" requests."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone

from sredesk.admin import SharedChoicesInline
from sredesk.forms import link_formfield

from ..action_items import action_item_due_date_check
from ..models import (
    ActionItem,
    RegressionTest,
    RegressionTestWaiver,
    Reminder,
)


class ActionItemAdminForm(forms.ModelForm):
    """The admin's door keeps the services' rules: an empty owner is the post-mortem's owner, and a due date moved
    into the past needs confirming (``postmortems.action_items.action_item_due_date_check``)."""

    confirm_past_due = forms.BooleanField(label="The due date is in the past: it is already overdue", required=False)

    class Meta:
        model = ActionItem
        formfield_callback = link_formfield
        fields = [
            "postmortem", "title", "description", "kind", "priority", "owner", "due_date", "confirm_past_due",
            "status", "wont_do_reason", "tracker_url",
        ]  # fmt: skip
        help_texts = {"owner": "Empty: the post-mortem's owner.", "due_date": "A UTC date."}

    def clean(self):
        data = super().clean()
        if "due_date" in self.changed_data:
            try:
                action_item_due_date_check(
                    data.get("due_date"), confirm_past_due=data.get("confirm_past_due", False), now=timezone.now()
                )
            except ValidationError as exc:
                self.add_error("due_date", exc.message_dict["due_date"])
        postmortem = self.instance.postmortem if self.instance.postmortem_id else data.get("postmortem")
        if not data.get("owner") and postmortem is not None:
            data["owner"] = postmortem.owner
        return data


class ActionItemInline(SharedChoicesInline):
    model = ActionItem
    extra = 0
    form = ActionItemAdminForm
    fields = (
        "title", "kind", "priority", "owner", "due_date", "confirm_past_due", "status", "wont_do_reason",
        "tracker_url",
    )  # fmt: skip
    autocomplete_fields = ("owner",)


class RegressionTestInline(SharedChoicesInline):
    model = RegressionTest
    extra = 0
    fields = ("repository", "test_id", "change_url", "state", "state_changed_at")
    readonly_fields = ("state", "state_changed_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("repository")


class ReminderInline(admin.TabularInline):
    model = Reminder
    extra = 0
    fields = ("kind", "subject_key", "cycle", "step", "due_at", "created_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("postmortem__incident")  # its name

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RegressionTestWaiverInline(admin.TabularInline):
    """ "Not testable" requests: decided by the team lead through ``postmortems.waivers`` (Slack or here, read-only)."""

    model = RegressionTestWaiver
    extra = 0
    fields = ("status", "reason", "requested_by", "requested_at", "decided_by", "decided_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False
