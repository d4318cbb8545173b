"""Admin: the Slack requests received (read-only: the ledger of what Slack sent and what became of it)."""

from django.contrib import admin

from .models import InboundRequest


@admin.register(InboundRequest)
class InboundRequestAdmin(admin.ModelAdmin):
    list_display = ("received_at", "kind", "name", "slack_user_id", "channel_id", "status", "retry_num", "error")
    list_filter = ("kind", "status")
    search_fields = ("key", "name", "slack_user_id", "channel_id")
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in InboundRequest._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
