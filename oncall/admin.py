"""Operators' screens for schedules, layers, members and overrides (the past is not rewritten here either)."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from sredesk.exceptions import PermissionDenied

from .models import (
    EscalationPolicy,
    EscalationStep,
    EscalationTarget,
    Layer,
    LayerMember,
    Override,
    Page,
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


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "timezone")
    list_filter = ("team", "timezone")
    search_fields = ("name", "slug", "team__name")
    prepopulated_fields = {"slug": ("name",)}
    list_select_related = ("team",)
    autocomplete_fields = ("team",)
    inlines = [LayerInline]
    actions = ["issue_calendar_token"]

    @admin.action(description="Issue a new calendar (iCal) link (shown once; the old one stops working)")
    def issue_calendar_token(self, request, queryset) -> None:
        for pk in queryset.values_list("pk", flat=True):
            schedule, token = calendar_token_issue(schedule_id=pk, actor=request.user)
            url = settings.SREDESK_BASE_URL + reverse("oncall:calendar", args=[token])
            self.message_user(request, f"{schedule.name}: {url} (shown only now)", messages.WARNING)


@admin.register(Layer)
class LayerAdmin(admin.ModelAdmin):
    list_display = ("name", "schedule", "priority", "turn_length", "turn_unit", "handoff_time", "anchor_date")
    list_filter = ("turn_unit", "schedule__team")
    search_fields = ("name", "schedule__name")
    list_select_related = ("schedule",)
    autocomplete_fields = ("schedule",)
    inlines = [LayerMemberInline]


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin):
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
class SwapAdmin(admin.ModelAdmin):
    """Swaps as asked and taken (through ``oncall.swaps``: asked on the web or API, never edited here)."""

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
