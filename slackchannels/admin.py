from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import ngettext

from .models import IncidentChannel
from .services import incident_channel_retry


@admin.register(IncidentChannel)
class IncidentChannelAdmin(admin.ModelAdmin):
    """Each incident's Slack channel: its set-up (invites, topic, bookmarks), archiving and any problem to fix."""

    list_display = ("incident", "channel", "created_at", "set_up_at", "archived_at", "problem")
    list_filter = ("archived_at",)
    search_fields = ("name", "channel_id", "incident__title")
    list_select_related = ("incident",)
    readonly_fields = [f.name for f in IncidentChannel._meta.fields]
    actions = ["retry_set_up"]

    def has_add_permission(self, request) -> bool:
        return False  # channels are made by the set-up step, once per incident

    @admin.display(description="channel")
    def channel(self, row: IncidentChannel) -> str:
        if not row.channel_id:
            return "—"
        return format_html('<a href="{}">#{}</a>', row.url, row.name)

    @admin.action(description="Retry the Slack set-up (after fixing its problem)")
    def retry_set_up(self, request, queryset) -> None:
        for row in queryset:
            incident_channel_retry(row.incident_id)
        count = queryset.count()
        channels = ngettext("channel", "channels", count)
        messages.success(request, f"Set-up owed again for {count} {channels}; a worker does it now.")
