from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from . import services
from .models import Incident, Source, TimelineEvent


def _transition_action(verb: str):
    """An admin action that runs the lifecycle service on each selected incident (never a bulk UPDATE)."""

    def action(modeladmin, request, queryset):
        done = 0
        for incident in queryset:
            try:
                services.TRANSITIONS[verb](incident_id=incident.pk, actor=request.user, source=Source.ADMIN)
                done += 1
            except ValidationError as exc:
                modeladmin.message_user(request, f"{incident.public_id}: {' '.join(exc.messages)}", messages.ERROR)
        modeladmin.message_user(request, f"{verb.capitalize()}: {done} incident(s).")

    action.__name__ = f"{verb}_selected"
    action.short_description = f"{verb.capitalize()} selected incidents"
    return action


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
    readonly_fields = ("mtta_seconds", "time_to_mitigate_seconds", "mttr_seconds")
    actions = [_transition_action(verb) for verb in services.TRANSITIONS]


@admin.register(TimelineEvent)
class TimelineEventAdmin(admin.ModelAdmin):
    list_display = ("incident", "at", "kind", "actor", "source", "message")
    list_filter = ("kind", "source")
    search_fields = ("message",)
    list_select_related = ("incident", "actor")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the timeline is append-only
