"""Admin of post-mortems and action items: workflow actions and filters that ask ``postmortems.querysets`` and
move through the services."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import ngettext

from incidents.models import Source
from sredesk.admin import HistoryAdmin

from ..action_items import action_item_set_status
from ..models import (
    ActionItem,
    PostMortem,
)
from ..reminders import reminders_send_now
from ..services import postmortem_transition
from .inlines import (
    ActionItemAdminForm,
    ActionItemInline,
    RegressionTestInline,
    RegressionTestWaiverInline,
    ReminderInline,
)


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
        modeladmin.message_user(request, f"{label}: {done} {ngettext('post-mortem', 'post-mortems', done)}.")

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
        parts = [
            f"{result.planned} {ngettext('reminder', 'reminders', result.planned)} planned, "
            f"{result.queued} {ngettext('delivery', 'deliveries', result.queued)} sent to the queue"
        ]
        if result.held:
            parts.append(f"{result.held} held until the recipient's working hours")
        if result.already_planned:
            had = ngettext(
                "post-mortem already had its due reminder",
                "post-mortems already had their due reminder",
                result.already_planned,
            )
            parts.append(f"{result.already_planned} {had}")
        if result.in_digest:
            parts.append(f"{result.in_digest} past the personal maximum (in the weekly digest)")
        if result.nothing_due:
            owes = ngettext("owes nothing now or is snoozed", "owe nothing now or are snoozed", result.nothing_due)
            parts.append(f"{result.nothing_due} {owes}")
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
        count = queryset.count()
        noun = ngettext("action item", "action items", count)
        self.message_user(request, f"{count} {noun} {ActionItem.Status(status).label.lower()}.")

    @admin.action(description="Mark selected action items done")
    def mark_done(self, request, queryset) -> None:
        self._set_status(request, queryset, ActionItem.Status.DONE)

    @admin.action(description="Mark selected action items in progress")
    def mark_in_progress(self, request, queryset) -> None:
        self._set_status(request, queryset, ActionItem.Status.IN_PROGRESS)
