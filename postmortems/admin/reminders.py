"""Admin of reminders, their deliveries and the sweep's heartbeats (read-only ledgers)."""

from django.contrib import admin

from ..models import (
    Heartbeat,
    Reminder,
    ReminderDelivery,
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
