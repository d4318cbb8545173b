"""Operators' console for SLOs: objectives with their last state, error-budget policies, alert rule states."""

from django.contrib import admin

from sredesk.admin import HistoryAdmin

from .models import SLO, BudgetPolicy, BurnAlert, SLOState


class StateInline(admin.StackedInline):
    model = SLOState
    can_delete = False
    extra = 0
    readonly_fields = [f.name for f in SLOState._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False


class BurnAlertInline(admin.TabularInline):
    model = BurnAlert
    can_delete = False
    extra = 0
    readonly_fields = ("rule", "firing", "starts_at", "ends_at", "changed_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SLO)
class SLOAdmin(HistoryAdmin):
    list_display = ("name", "service", "target", "window_kind", "sli_kind", "status", "paused")
    list_filter = ("sli_kind", "window_kind", "paused", "state__status", "service__team")
    search_fields = ("name", "slug", "service__name", "service__slug")
    autocomplete_fields = ["service"]
    prepopulated_fields = {"slug": ("name",)}
    list_select_related = ("service", "state")
    inlines = [StateInline, BurnAlertInline]

    @admin.display(description="status", ordering="state__status")
    def status(self, slo: SLO) -> str:
        state = getattr(slo, "state", None)
        return state.get_status_display() if state else "not evaluated yet"


@admin.register(BudgetPolicy)
class BudgetPolicyAdmin(HistoryAdmin):
    list_display = ("team", "enabled", "threshold", "reminder_steps_sooner", "due_factor", "updated_at")
    list_filter = ("enabled",)
    autocomplete_fields = ["team"]
