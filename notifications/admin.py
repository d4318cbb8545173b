from django.contrib import admin

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "subject")
    search_fields = ("recipient", "subject", "text")
    date_hierarchy = "created_at"
    readonly_fields = ("dedup_key", "recipient", "subject", "text", "url", "created_at")
