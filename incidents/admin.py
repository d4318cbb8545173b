from django.contrib import admin

from .models import Incident, TimelineEvent


class TimelineEventInline(admin.TabularInline):
    model = TimelineEvent
    extra = 0
    fields = ("at", "kind", "actor", "source", "message")
    readonly_fields = fields
    can_delete = False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("public_id", "title", "severity", "status", "owning_team", "commander", "detected_at")
    list_filter = ("severity", "status", "owning_team")
    search_fields = ("title", "summary")
    date_hierarchy = "detected_at"
    filter_horizontal = ("services",)
    list_select_related = ("owning_team", "commander")
    inlines = [TimelineEventInline]


@admin.register(TimelineEvent)
class TimelineEventAdmin(admin.ModelAdmin):
    list_display = ("incident", "at", "kind", "actor", "source", "message")
    list_filter = ("kind", "source")
    search_fields = ("message",)
    list_select_related = ("incident", "actor")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the timeline is append-only
