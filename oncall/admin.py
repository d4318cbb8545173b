"""Operators' screens for schedules, layers, members and overrides (the past is not rewritten here either)."""

from contextlib import ExitStack

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from sredesk.exceptions import PermissionDenied

from .changes import shifts_watched
from .models import (
    EscalationPolicy,
    EscalationStep,
    EscalationTarget,
    HandoffNote,
    Layer,
    LayerMember,
    Override,
    Page,
    PersonCalendar,
    Schedule,
    Swap,
)
from .services import CLOCK_TOLERANCE, calendar_token_issue
from .swaps import swap_cancel

PAST = "must not be in the past: shifts already served are not rewritten."


class NoPastForm(forms.ModelForm):
    """A member's or override's window may change only from now on (``TIMES``: the instants it protects)."""

    TIMES: tuple[str, ...] = ()

    def clean(self):
        cleaned = super().clean()
        now = timezone.now() - CLOCK_TOLERANCE
        for name in self.TIMES:
            if name not in self.changed_data:
                continue
            was = self.initial.get(name) if self.instance.pk else None
            value = cleaned.get(name)
            if (was is not None and was < now) or (value is not None and value < now):
                self.add_error(name, PAST)
        return cleaned


class MemberForm(NoPastForm):
    TIMES = ("active_from", "active_until")


class OverrideForm(NoPastForm):
    TIMES = ("start", "end")


class LayerMemberInline(admin.TabularInline):
    model = LayerMember
    form = MemberForm
    extra = 0
    autocomplete_fields = ["user"]
    fields = ("position", "user", "active_from", "active_until")
    can_delete = False  # end a place (active until), so past turns keep their person

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "layer")


class LayerInline(admin.TabularInline):
    model = Layer
    extra = 0
    fields = ("name", "priority", "turn_unit", "turn_length", "handoff_time", "anchor_date", "restrict_days",
              "restrict_start", "restrict_end")  # fmt: skip
    show_change_link = True


class ShiftsWatchedAdmin(admin.ModelAdmin):
    """Tells the people whose next 14 days an admin save or delete changes (``oncall.changes``), as the services
    do: watching starts before the object is saved and ends after its inlines are (the admin's transaction)."""

    def schedule_of(self, obj) -> int | None:
        return obj.schedule_id

    def save_model(self, request, obj, form, change):
        schedule_id = self.schedule_of(obj)
        if schedule_id is not None:
            request._oncall_watch = shifts_watched(schedule_id)
            request._oncall_watch.__enter__()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        watch = getattr(request, "_oncall_watch", None)
        if watch is not None:
            request._oncall_watch = None
            watch.__exit__(None, None, None)

    def delete_model(self, request, obj):
        with shifts_watched(self.schedule_of(obj)):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        """ "Delete selected": the same notices as deleting each one, watched once per schedule touched (one
        notice per changed piece of a shift and person, however many rows went)."""
        schedule_ids = sorted({self.schedule_of(obj) for obj in queryset} - {None})
        with transaction.atomic(), ExitStack() as watching:
            for schedule_id in schedule_ids:
                watching.enter_context(shifts_watched(schedule_id))
            super().delete_queryset(request, queryset)


@admin.register(Schedule)
class ScheduleAdmin(ShiftsWatchedAdmin):
    list_display = ("name", "team", "timezone")
    list_filter = ("team", "timezone")
    search_fields = ("name", "slug", "team__name")
    prepopulated_fields = {"slug": ("name",)}
    list_select_related = ("team",)
    autocomplete_fields = ("team",)
    inlines = [LayerInline]
    actions = ["issue_calendar_token"]

    def schedule_of(self, obj) -> int | None:
        return obj.pk

    def delete_model(self, request, obj):
        super(ShiftsWatchedAdmin, self).delete_model(request, obj)  # a schedule gone pages nobody: nothing to tell

    def delete_queryset(self, request, queryset):
        super(ShiftsWatchedAdmin, self).delete_queryset(request, queryset)  # as delete_model

    @admin.action(description="Issue a new calendar (iCal) link (shown once; the old one stops working)")
    def issue_calendar_token(self, request, queryset) -> None:
        for pk in queryset.values_list("pk", flat=True):
            schedule, token = calendar_token_issue(schedule_id=pk, actor=request.user)
            url = settings.SREDESK_BASE_URL + reverse("oncall:calendar", args=[token])
            self.message_user(request, f"{schedule.name}: {url} (shown only now)", messages.WARNING)


@admin.register(Layer)
class LayerAdmin(ShiftsWatchedAdmin):
    list_display = ("name", "schedule", "priority", "turn_length", "turn_unit", "handoff_time", "anchor_date")
    list_filter = ("turn_unit", "schedule__team")
    search_fields = ("name", "schedule__name")
    list_select_related = ("schedule",)
    autocomplete_fields = ("schedule",)
    inlines = [LayerMemberInline]


@admin.register(Override)
class OverrideAdmin(ShiftsWatchedAdmin):
    form = OverrideForm
    list_display = ("schedule", "kind", "user", "start", "end", "created_by")
    list_filter = ("kind", "schedule__team", "schedule")
    search_fields = ("schedule__name", "user__username", "note")
    list_select_related = ("schedule", "user", "created_by")
    autocomplete_fields = ("schedule", "user")
    readonly_fields = ("created_by", "created_at")
    date_hierarchy = "start"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Swap)
class SwapAdmin(ShiftsWatchedAdmin):
    """Swaps as asked and taken (through ``oncall.swaps``: asked on the web or API, never edited here). Deleting
    one (or a selection) is watched like any write that could change who is on call."""

    list_display = ("schedule", "asked_by", "start", "end", "state", "taken_by", "taken_at")
    list_filter = ("state", "schedule__team", "schedule")
    search_fields = ("schedule__name", "asked_by__username", "taken_by__username", "note")
    list_select_related = ("schedule", "asked_by", "taken_by")
    date_hierarchy = "start"
    actions = ["cancel_swaps"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Cancel the selected asked swaps")
    def cancel_swaps(self, request, queryset) -> None:
        for pk in queryset.filter(state=Swap.State.ASKED).values_list("pk", flat=True):
            try:
                swap_cancel(swap_id=pk, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"Swap {pk}: {' '.join(getattr(exc, 'messages', [str(exc)]))}",
                                  messages.ERROR)  # fmt: skip


@admin.register(HandoffNote)
class HandoffNoteAdmin(admin.ModelAdmin):
    """Outgoing people's notes (written by them on the web or API, carried by the next hand-off notice)."""

    list_display = ("schedule", "author", "handoff_at", "handed_over_at", "created_at")
    list_filter = ("schedule",)
    search_fields = ("schedule__name", "author__username", "text")
    list_select_related = ("schedule", "author")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PersonCalendar)
class PersonCalendarAdmin(admin.ModelAdmin):
    """People's own iCal feeds: deleting one stops it (the person issues a new link from "your shifts")."""

    list_display = ("user", "created_at")
    search_fields = ("user__username",)
    list_select_related = ("user",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0
    fields = ("position", "wait_minutes")
    show_change_link = True  # its targets are on the step's page


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "repeat")
    list_filter = ("team",)
    search_fields = ("name", "team__name")
    list_select_related = ("team",)
    autocomplete_fields = ("team",)
    inlines = [EscalationStepInline]


class EscalationTargetInline(admin.TabularInline):
    model = EscalationTarget
    extra = 1
    autocomplete_fields = ("user", "schedule", "team")


@admin.register(EscalationStep)
class EscalationStepAdmin(admin.ModelAdmin):
    list_display = ("policy", "position", "wait_minutes")
    list_filter = ("policy",)
    search_fields = ("policy__name",)
    list_select_related = ("policy",)
    inlines = [EscalationTargetInline]


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    """The page ledger: read-only (a page is written once, by ``oncall.escalation``)."""

    list_display = ("incident", "policy", "step", "repeat", "target", "person", "due_at", "created_at")
    list_filter = ("policy",)
    search_fields = ("incident__title", "person__username", "target")
    list_select_related = ("incident", "policy", "person")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
