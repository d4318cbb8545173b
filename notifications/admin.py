from django.contrib import admin

from .models import Notification, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "subject")
    search_fields = ("recipient", "subject", "text")
    date_hierarchy = "created_at"
    readonly_fields = ("dedup_key", "recipient", "subject", "text", "url", "created_at")

    def has_add_permission(self, request) -> bool:
        return False  # the outbox records what sredesk sent


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "topic", "channel", "address", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status", "channel")
    search_fields = ("topic", "address", "subject", "text", "dedup_key")
    date_hierarchy = "created_at"
    readonly_fields = ("dedup_key", "created_at", "queued_at", "claimed_at", "sent_at", "external_ref")
