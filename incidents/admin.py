from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models.functions import Length

from . import services
from .models import Alert, Incident, Integration, Source, TimelineEvent, WebhookDelivery


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


# --- Alert ingestion ------------------------------------------------------------------


class IntegrationForm(forms.ModelForm):
    """The signing secret is write-only: typed here, stored encrypted, never shown again."""

    signing_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="PagerDuty subscription secret or Grafana HMAC secret. Leave empty to keep the current one.",
    )
    clear_signing_secret = forms.BooleanField(required=False, help_text="Remove the signing secret.")

    class Meta:
        model = Integration
        fields = (
            "name",
            "kind",
            "enabled",
            "default_service",
            "service_label",
            "severity_label",
            "severity_map",
            "default_severity",
            "resolve_mode",
            "reopen_window_seconds",
        )

    def save(self, commit: bool = True) -> Integration:
        integration = super().save(commit=False)
        if self.cleaned_data.get("clear_signing_secret"):
            integration.signing_secret = ""
        elif self.cleaned_data.get("signing_secret"):
            integration.signing_secret = self.cleaned_data["signing_secret"]
        if commit:
            integration.save()
        return integration


def _show_token_once(modeladmin, request, integration: Integration, token: str) -> None:
    modeladmin.message_user(
        request,
        f"{integration.name}: webhook {integration.webhook_url} token {token} "
        "(shown only now: copy it into the sender)",
        messages.WARNING,
    )


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    form = IntegrationForm
    list_display = ("name", "kind", "enabled", "default_service", "resolve_mode", "has_secret", "webhook_path")
    list_filter = ("kind", "enabled", "resolve_mode")
    search_fields = ("name",)
    list_select_related = ("default_service",)
    readonly_fields = ("public_id", "webhook_url", "token_rotated_at", "has_secret", "created_at")
    actions = ["rotate_token"]

    @admin.display(boolean=True, description="signing secret")
    def has_secret(self, obj: Integration) -> bool:
        return obj.has_signing_secret

    def save_model(self, request, obj: Integration, form, change: bool) -> None:
        token = None if change else obj.set_new_token()
        super().save_model(request, obj, form, change)
        if token:
            _show_token_once(self, request, obj, token)

    @admin.action(description="Rotate token (the new one is shown once)")
    def rotate_token(self, request, queryset) -> None:
        for integration in queryset:
            token = integration.set_new_token()
            integration.save(update_fields=["token_hash", "token_rotated_at"])
            _show_token_once(self, request, integration, token)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "integration", "incident", "starts_at", "ends_at", "last_seen_at", "times_seen")
    list_filter = ("status", "integration", ("incident", admin.EmptyFieldListFilter))
    search_fields = ("name", "fingerprint", "labels", "group_key")
    date_hierarchy = "starts_at"
    list_select_related = ("integration", "incident")
    raw_id_fields = ("incident",)

    def get_readonly_fields(self, request, obj=None):
        # What the sender said is data, not configuration: only the incident link may be changed by hand.
        return [f.name for f in Alert._meta.fields if f.name not in ("id", "incident")]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("received_at", "integration", "outcome", "event_id", "size", "error")
    list_filter = ("outcome", "integration")
    search_fields = ("event_id", "error")
    date_hierarchy = "received_at"
    list_select_related = ("integration",)
    fields = ("integration", "received_at", "outcome", "event_id", "error", "result", "headers", "body_text")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("body").annotate(body_size=Length("body"))

    @admin.display(description="bytes", ordering="body_size")
    def size(self, obj: WebhookDelivery) -> int:
        return obj.body_size

    @admin.display(description="body (as received)")
    def body_text(self, obj: WebhookDelivery) -> str:
        return bytes(obj.body or b"").decode("utf-8", errors="replace")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # receipts are evidence: read-only (the retention task deletes them)
