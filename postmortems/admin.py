"""Admin for post-mortems and their follow-ups. Workflow moves go through the services, never a bulk UPDATE."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils import timezone

from incidents.models import Source
from sredesk.admin import HistoryAdmin, SharedChoicesInline

from .action_items import action_item_due_date_check, action_item_set_status
from .models import (
    ActionItem,
    Heartbeat,
    PostMortem,
    RegressionTest,
    RegressionTestWaiver,
    Reminder,
    ReminderDelivery,
    TestResult,
    TestRun,
    TestRunFile,
)
from .regression_tests import regression_test_verify_by_hand
from .reminders import reminders_send_now
from .services import postmortem_transition
from .waivers import regression_test_waiver_decide


class ActionItemAdminForm(forms.ModelForm):
    """The admin's door keeps the services' rules: an empty owner is the post-mortem's owner, and a due date moved
    into the past needs confirming (``postmortems.action_items.action_item_due_date_check``)."""

    confirm_past_due = forms.BooleanField(label="The due date is in the past: it is already overdue", required=False)

    class Meta:
        model = ActionItem
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


class RegressionTestFilter(admin.SimpleListFilter):
    title = "regression test"
    parameter_name = "test"

    def lookups(self, request, model_admin):
        return [("accepted", "Accepted (stops reminders)"), ("owed", "Not yet accepted")]

    def queryset(self, request, queryset):
        if self.value() == "accepted":
            return queryset.with_accepted_test()
        if self.value() == "owed":
            return queryset.without_accepted_test()
        return queryset


def _workflow_action(verb: str, label: str):
    """An admin action that moves each selected post-mortem through ``postmortem_transition``."""

    def action(modeladmin, request, queryset):
        done = 0
        for postmortem in queryset.select_related("incident"):
            try:
                postmortem_transition(postmortem_id=postmortem.pk, verb=verb, actor=request.user, source=Source.ADMIN)
                done += 1
            except ValidationError as exc:
                modeladmin.message_user(
                    request, f"{postmortem.incident.public_id}: {' '.join(exc.messages)}", messages.ERROR
                )
        modeladmin.message_user(request, f"{label}: {done} post-mortem(s).")

    action.__name__ = f"{verb}_selected"
    action.short_description = f"{label} selected post-mortems"
    return action


@admin.register(PostMortem)
class PostMortemAdmin(HistoryAdmin):
    list_display = (
        "incident", "severity", "status", "owner", "due_at", "published_at", "reminders_planned", "test_accepted",
    )  # fmt: skip
    list_filter = ("status", RegressionTestFilter, "incident__severity", "incident__owning_team")
    search_fields = ("incident__title", "summary", "root_cause", "owner__username")
    date_hierarchy = "due_at"
    list_select_related = ("incident", "owner")
    autocomplete_fields = ("owner",)
    raw_id_fields = ("incident",)
    readonly_fields = (
        "status", "published_at", "completed_at", "reminder_cycle", "reminder_cycle_started_at", "created_at",
        "updated_at",
    )  # fmt: skip
    inlines = [ActionItemInline, RegressionTestInline, RegressionTestWaiverInline, ReminderInline]
    actions = [
        "send_reminder_now",
        _workflow_action("publish", "Publish"),
        _workflow_action("complete", "Complete"),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate_rules(now=timezone.now())
            .annotate(reminder_count=Count("reminders", distinct=True))
        )

    @admin.display(description="severity", ordering="incident__severity")
    def severity(self, obj: PostMortem) -> str:
        return obj.incident.get_severity_display()

    @admin.display(description="reminders", ordering="reminder_count")
    def reminders_planned(self, obj: PostMortem) -> int:
        return obj.reminder_count

    @admin.display(description="accepted test", boolean=True, ordering="has_accepted_test")
    def test_accepted(self, obj: PostMortem) -> bool:
        """Verified, or linked where the service's CI does not report (``postmortems.querysets``)."""
        return bool(obj.has_accepted_test)

    @admin.action(description="Send reminder now (the step due, if not sent yet)")
    def send_reminder_now(self, request, queryset) -> None:
        result = reminders_send_now(postmortem_ids=list(queryset.values_list("pk", flat=True)), now=timezone.now())
        parts = [f"{result.planned} reminder(s) planned, {result.queued} delivery(ies) sent to the queue"]
        if result.held:
            parts.append(f"{result.held} held until the recipient's working hours")
        if result.already_planned:
            parts.append(f"{result.already_planned} post-mortem(s) already had their due reminder")
        if result.in_digest:
            parts.append(f"{result.in_digest} past the personal maximum (in the weekly digest)")
        if result.nothing_due:
            parts.append(f"{result.nothing_due} owe(s) nothing now or are snoozed")
        self.message_user(request, "; ".join(parts) + ".", messages.SUCCESS if result.planned else messages.WARNING)


class ActionItemOverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue(now=timezone.now())
        return queryset


@admin.register(ActionItem)
class ActionItemAdmin(HistoryAdmin):
    form = ActionItemAdminForm
    list_display = ("title", "postmortem", "kind", "priority", "owner", "due_date", "overdue", "status")
    list_filter = ("status", ActionItemOverdueFilter, "kind", "priority", "postmortem__incident__owning_team")
    search_fields = ("title", "description", "owner__username", "postmortem__incident__title")
    date_hierarchy = "due_date"
    list_select_related = ("postmortem__incident", "owner")
    autocomplete_fields = ("owner",)
    raw_id_fields = ("postmortem",)
    readonly_fields = ("created_at", "updated_at")
    actions = ["mark_done", "mark_in_progress"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate_rules(now=timezone.now())

    @admin.display(description="overdue", boolean=True, ordering="is_overdue")
    def overdue(self, obj: ActionItem) -> bool:
        """Open or in progress past its due date, a UTC date (``postmortems.querysets``)."""
        return bool(obj.is_overdue)

    def _set_status(self, request, queryset, status: str) -> None:
        for item in queryset:
            action_item_set_status(action_item_id=item.pk, status=status, actor=request.user, source=Source.ADMIN)
        self.message_user(request, f"{queryset.count()} action item(s) {ActionItem.Status(status).label.lower()}.")

    @admin.action(description="Mark selected action items done")
    def mark_done(self, request, queryset) -> None:
        self._set_status(request, queryset, ActionItem.Status.DONE)

    @admin.action(description="Mark selected action items in progress")
    def mark_in_progress(self, request, queryset) -> None:
        self._set_status(request, queryset, ActionItem.Status.IN_PROGRESS)


class VerifyByHandForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=1000,
        help_text="Logged on each incident's timeline with your name, e.g. "
        "“ran it on the release branch, CI there does not upload”.",
    )


@admin.register(RegressionTest)
class RegressionTestAdmin(HistoryAdmin):
    list_display = ("test_id", "repository", "postmortem", "state", "state_changed_at", "linked_by", "linked_at")
    list_filter = ("state", "repository")
    search_fields = ("test_id", "postmortem__incident__title", "repository__name")
    date_hierarchy = "state_changed_at"
    list_select_related = ("repository", "postmortem__incident", "linked_by")
    raw_id_fields = ("postmortem", "action_item", "state_run")
    readonly_fields = ("state", "state_changed_at", "state_run", "linked_by", "linked_at")
    actions = ["verify_by_hand"]

    @admin.action(description="Mark verified by hand (asks for a reason)")
    def verify_by_hand(self, request, queryset):
        """Intermediate page: the reason, then ``regression_test_verify_by_hand`` for each selected test."""
        form = VerifyByHandForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            changed = 0
            for test in queryset:
                _, did = regression_test_verify_by_hand(
                    regression_test_id=test.pk,
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    source=Source.ADMIN,
                )
                changed += did
            unchanged = queryset.count() - changed
            self.message_user(
                request,
                f"{changed} regression test(s) marked verified by hand"
                + (f"; {unchanged} already verified" if unchanged else "")
                + ".",
            )
            return None
        return TemplateResponse(
            request,
            "admin/postmortems/regressiontest/verify_by_hand.html",
            {
                **self.admin_site.each_context(request),
                "title": "Mark regression tests verified by hand",
                "opts": self.model._meta,
                "tests": queryset.select_related("repository", "postmortem__incident"),
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


class ReminderDeliveryInline(admin.TabularInline):
    model = ReminderDelivery
    extra = 0
    fields = ("channel", "address", "status", "attempts", "not_before", "sent_at", "last_error")
    readonly_fields = fields
    can_delete = False


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("postmortem", "kind", "cycle", "step", "due_at", "created_at")
    list_filter = ("kind",)
    search_fields = ("postmortem__incident__title",)
    date_hierarchy = "due_at"
    list_select_related = ("postmortem__incident",)
    inlines = [ReminderDeliveryInline]
    readonly_fields = ("postmortem", "kind", "subject_key", "cycle", "step", "due_at", "created_at")


@admin.register(ReminderDelivery)
class ReminderDeliveryAdmin(admin.ModelAdmin):
    list_display = ("reminder", "channel", "address", "status", "attempts", "not_before", "sent_at", "last_error")
    list_filter = ("status", "channel")
    search_fields = ("address", "last_error")
    date_hierarchy = "created_at"
    list_select_related = ("reminder__postmortem__incident",)
    raw_id_fields = ("reminder", "recipient_user", "recipient_team")


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "last_success_at")


class TestRunFileInline(admin.TabularInline):
    model = TestRunFile
    extra = 0
    fields = ("filename", "producer", "tests", "size_bytes", "sha256", "uploaded_at")
    readonly_fields = fields
    can_delete = False


@admin.register(TestRun)
class TestRunAdmin(admin.ModelAdmin):
    list_display = ("repository", "run_key", "branch", "commit", "complete", "created_at", "completed_at")
    list_filter = ("complete", "repository")
    search_fields = ("run_key", "commit", "branch")
    date_hierarchy = "created_at"
    list_select_related = ("repository",)
    inlines = [TestRunFileInline]


@admin.register(TestResult)
class TestResultAdmin(admin.ModelAdmin):
    list_display = ("test_id", "test_run", "outcome", "flaky", "attempts", "duration_seconds")
    list_filter = ("outcome", "flaky", "test_run__repository")
    search_fields = ("test_id",)
    list_select_related = ("test_run__repository",)
    raw_id_fields = ("test_run",)


@admin.register(RegressionTestWaiver)
class RegressionTestWaiverAdmin(admin.ModelAdmin):
    """ "Not testable" requests. The owning team's lead decides from Slack; staff can decide here, for a lead who
    has no Slack (``postmortems.waivers.regression_test_waiver_decide``: once, on the timeline)."""

    list_display = ("postmortem", "status", "reason", "requested_by", "requested_at", "decided_by", "decided_at")
    list_filter = ("status",)
    search_fields = ("reason", "postmortem__incident__title")
    list_select_related = ("postmortem__incident", "requested_by", "decided_by")
    readonly_fields = ("postmortem", "status", "reason", "requested_by", "requested_at", "decided_by", "decided_at")
    actions = ["approve", "reject"]

    def has_add_permission(self, request) -> bool:
        return False  # asked by a post-mortem's writer (Slack's Not testable…)

    def _decide(self, request, queryset, *, approve: bool) -> None:
        decided = 0
        for waiver in queryset:
            _, did = regression_test_waiver_decide(
                waiver_id=waiver.pk, approve=approve, actor=request.user, source=Source.ADMIN
            )
            decided += did
        left = queryset.count() - decided
        verb = "approved" if approve else "rejected"
        self.message_user(request, f"{decided} request(s) {verb}" + (f"; {left} already decided" if left else "") + ".")

    @admin.action(description="Approve: the post-mortem owes no regression test")
    def approve(self, request, queryset) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject: a regression test is owed")
    def reject(self, request, queryset) -> None:
        self._decide(request, queryset, approve=False)
