from django.contrib import admin

from .models import Notification, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "subject")
    search_fields = ("recipient", "subject", "text")
    date_hierarchy = "created_at"
    readonly_fields = ("dedup_key", "recipient", "subject", "text", "url", "created_at")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "topic", "channel", "address", "status", "attempts", "last_error")
    list_filter = ("status", "channel")
    search_fields = ("topic", "address", "subject", "text")
    date_hierarchy = "created_at"
