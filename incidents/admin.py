from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import F
from django.db.models.functions import Length
from django.utils.translation import ngettext

from sredesk.admin import HistoryAdmin
from sredesk.forms import WholeNumberField
from sredesk.inputs import InputError
from sredesk.templatetags.sredesk_ui import duration

from . import services
from .integrations import integration_create, integration_token_rotate
from .models import (
    Alert,
    Incident,
    IncidentCard,
    Integration,
    SideEffect,
    Source,
    TimelineEvent,
    WebhookDelivery,
    parse_public_id,
)
from .times import lifecycle_time


def _transition_action(verb: str):
    """An admin action that runs the lifecycle service on each selected incident (never a bulk UPDATE)."""

    def action(modeladmin, request, queryset):
        done = unchanged = 0
        for incident in queryset:
            try:
                after = services.TRANSITIONS[verb](incident_id=incident.pk, actor=request.user, source=Source.ADMIN)
            except ValidationError as exc:
                modeladmin.message_user(request, f"{incident.public_id}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                if after.status == incident.status:
                    unchanged += 1
                else:
                    done += 1
        already = f"; {unchanged} already {after.get_status_display().lower()}" if unchanged else ""
        noun = ngettext("incident", "incidents", done)
        modeladmin.message_user(request, f"{verb.capitalize()}: {done} {noun}{already}.")

    action.__name__ = f"{verb}_selected"
    action.short_description = f"{verb.capitalize()} selected incidents"
    return action


class TimelineEventInline(admin.TabularInline):
    model = TimelineEvent
    extra = 0
    fields = ("at", "kind", "actor", "source", "message")
    readonly_fields = fields
    can_delete = False
    ordering = ("at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # written by the services (and the "add note" page), never typed in here


class AlertInline(admin.TabularInline):
    model = Alert
    extra = 0
    fields = ("name", "status", "integration", "starts_at", "ends_at", "times_seen")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("integration")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class IncidentCardInline(admin.TabularInline):
    """The incident's Slack messages (``incidents.cards``): where each is, the version it shows, the last error."""

    model = IncidentCard
    extra = 0
    fields = ("address", "conversation", "ts", "synced_version", "synced_at", "attempts", "last_error", "failed_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # owed by the announcement, posted and edited by the worker


class SideEffectInline(admin.TabularInline):
    """What the incident's moves still owe or have done after commit (a post-mortem draft), with the last error."""

    model = SideEffect
    extra = 0
    fields = ("kind", "pending", "attempts", "last_error", "created_at", "next_attempt_at", "done_at")
    readonly_fields = fields
    can_delete = False

    @admin.display(boolean=True)
    def pending(self, obj: SideEffect) -> bool:
        return obj.pending

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # owed by the services, done by the worker


class PendingFilter(admin.SimpleListFilter):
    title = "pending"
    parameter_name = "pending"

    def lookups(self, request, model_admin):
        return [("yes", "Pending"), ("no", "Done")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(done_at__isnull=self.value() == "yes")
        return queryset


@admin.register(SideEffect)
class SideEffectAdmin(admin.ModelAdmin):
    """Side effects owed by incident moves (``incidents.effects``): a pending one is retried by the sweep."""

    list_display = ("incident", "kind", "pending", "attempts", "last_error", "created_at", "next_attempt_at", "done_at")
    list_filter = (PendingFilter, "kind")
    list_select_related = ("incident",)
    search_fields = ("last_error",)
    readonly_fields = ("incident", "kind", "attempts", "last_error", "created_at", "next_attempt_at", "done_at")

    @admin.display(boolean=True)
    def pending(self, obj: SideEffect) -> bool:
        return obj.pending

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OpenFilter(admin.SimpleListFilter):
    title = "open or resolved"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open"), ("no", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(status=Incident.Status.RESOLVED)
        if self.value() == "no":
            return queryset.filter(status=Incident.Status.RESOLVED)
        return queryset


class IncidentAdminForm(forms.ModelForm):
    """A new incident's back-dated times are placed by the lifecycle rule (``lifecycle_time``), as at every door."""

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not self.errors:
            new = Incident(started_at=None, detected_at=None)
            try:
                new.started_at = lifecycle_time(new, "started_at", cleaned.get("started_at"), source=Source.ADMIN)
                lifecycle_time(new, "detected_at", cleaned.get("detected_at"), source=Source.ADMIN)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field, errors)
        return cleaned


@admin.register(Incident)
class IncidentAdmin(HistoryAdmin):
    """Incidents. Lifecycle times and status change only through the actions (the services), which log the timeline."""

    form = IncidentAdminForm
    list_display = ("public_id", "title", "severity", "status", "owning_team", "detected_at", "mtta", "mttr")
    list_display_links = ("public_id", "title")
    list_filter = (OpenFilter, "status", "severity", "owning_team", "primary_service", "integration")
    search_fields = ("title", "summary", "alert_group_key")
    date_hierarchy = "detected_at"
    filter_horizontal = ("services", "responders")
    list_select_related = ("owning_team",)
    raw_id_fields = ("integration",)
    inlines = [SideEffectInline, IncidentCardInline, TimelineEventInline, AlertInline]
    readonly_fields = (
        "started_at", "detected_at", "status", "acknowledged_at", "acknowledged_by", "mitigated_at", "resolved_at",
        "mtta", "time_to_mitigate", "mttr", "mtta_seconds", "time_to_mitigate_seconds", "mttr_seconds", "created_at",
        "updated_at",
    )  # fmt: skip
    fieldsets = (
        (None, {"fields": ("title", "summary", "severity", "status")}),
        ("Ownership and roles", {"fields": ("primary_service", "services", "owning_team", "commander",
                                             "communications_lead", "responders")}),
        ("When", {"fields": ("started_at", "detected_at", ("acknowledged_at", "acknowledged_by"), "mitigated_at",
                             "resolved_at")}),
        ("Durations", {"fields": (("mtta", "mtta_seconds"), ("time_to_mitigate", "time_to_mitigate_seconds"),
                                  ("mttr", "mttr_seconds"))}),
        ("Source", {"fields": ("integration", "created_at", "updated_at"), "classes": ("collapse",)}),
    )  # fmt: skip
    actions = [_transition_action(verb) for verb in services.TRANSITIONS]

    @admin.display(description="MTTA")
    def mtta(self, obj: Incident) -> str:
        return duration(obj.mtta_seconds)

    @admin.display(description="time to mitigate")
    def time_to_mitigate(self, obj: Incident) -> str:
        return duration(obj.time_to_mitigate_seconds)

    @admin.display(description="MTTR")
    def mttr(self, obj: Incident) -> str:
        return duration(obj.mttr_seconds)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:  # a new incident may be back-dated; its status starts at triggered
            return tuple(f for f in self.readonly_fields if f not in ("started_at", "detected_at"))
        return self.readonly_fields

    def save_model(self, request, obj: Incident, form, change: bool) -> None:
        """A new incident is declared through the service (its timeline entry, announcement, placed times)."""
        if change:
            return super().save_model(request, obj, form, change)
        incident = services.incident_declare(
            title=obj.title,
            severity=obj.severity,
            actor=request.user,
            source=Source.ADMIN,
            summary=obj.summary,
            primary_service=obj.primary_service,
            owning_team=obj.owning_team,
            commander=obj.commander,
            started_at=form.cleaned_data.get("started_at"),
            detected_at=form.cleaned_data.get("detected_at"),
        )
        Incident.objects.filter(pk=incident.pk).update(
            communications_lead=obj.communications_lead, version=F("version") + 1
        )
        obj.pk = obj.id = incident.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def get_search_results(self, request, queryset, search_term):
        """``INC-42`` finds incident 42; anything else searches the title, summary and alert group."""
        try:
            return queryset.filter(pk=parse_public_id(search_term or "", field="q")), False
        except InputError:  # not a public id (parse_public_id's rules, as in the API's search)
            return super().get_search_results(request, queryset, search_term)


@admin.register(TimelineEvent)
class TimelineEventAdmin(admin.ModelAdmin):
    list_display = ("incident", "at", "kind", "actor", "source", "message")
    list_filter = ("kind", "source")
    search_fields = ("message", "incident__title")
    date_hierarchy = "at"
    list_select_related = ("incident", "actor")
    raw_id_fields = ("incident", "actor")

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
        fields = ("name", "kind", "enabled", *Integration.ROUTING_FIELDS, *Integration.POSTMORTEM_FIELDS)
        field_classes = {"reopen_window_seconds": WholeNumberField, "postmortem_min_duration_seconds": WholeNumberField}

    def clean(self) -> dict:
        """Put the typed (or cleared) secret on the integration before the model's checks see it.

        So ``Integration.clean`` (the signing-secret rule, checked by the
        model validation that follows) judges the secret it will have: a
        secret for a kind that signs nothing is an error on this field, also
        when the kind of an integration that keeps one is changed.
        """
        cleaned = super().clean()
        if cleaned.get("clear_signing_secret"):
            self.instance.signing_secret = ""
        elif cleaned.get("signing_secret"):
            self.instance.signing_secret = cleaned["signing_secret"]
        return cleaned


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
        if change:
            super().save_model(request, obj, form, change)
            return
        _, token = integration_create(integration=obj, signing_secret=form.cleaned_data.get("signing_secret") or "")
        _show_token_once(self, request, obj, token)

    @admin.action(description="Rotate token (the new one is shown once)")
    def rotate_token(self, request, queryset) -> None:
        for pk in queryset.values_list("pk", flat=True):
            integration, token = integration_token_rotate(integration_id=pk)
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
