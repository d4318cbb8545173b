from django import forms
from django.contrib import admin
from django.utils import timezone

from sredesk.admin import LinkFieldsMixin
from sredesk.forms import link_formfield
from sredesk.inputs import InputError

from .health import slack_health
from .models import Notification, OutboxMessage, PageWebhook, SlackProblem

OUTBOX_HELP = (
    "What sredesk sent to its database outbox: a copy of every announcement and reminder, one per recipient "
    "(user:<username>, team:<slug>), whatever other channels carried it. Whether each channel delivered is under "
    "Announcement deliveries and Reminder deliveries."
)
ANNOUNCEMENT_HELP = (
    "One row per channel and address of each one-off announcement (incident declared, escalated, resolved, "
    "re-opened; post-mortem published; a regression test failing or missing; a team's weekly digest): pending, "
    "sent, failed or skipped, with attempts and the last error. Reminders have their own: Reminder deliveries. "
    "The text the outbox got is under Outbox messages."
)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    change_list_template = "admin/change_list_help.html"
    list_display = ("created_at", "recipient", "subject")
    search_fields = ("recipient", "subject", "text")
    date_hierarchy = "created_at"
    readonly_fields = ("dedup_key", "recipient", "subject", "text", "url", "created_at")

    def has_add_permission(self, request) -> bool:
        return False  # the outbox records what sredesk sent

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"changelist_help": OUTBOX_HELP, **(extra_context or {})})


@admin.register(Notification)
class NotificationAdmin(LinkFieldsMixin, admin.ModelAdmin):
    change_list_template = "admin/change_list_help.html"
    list_display = ("created_at", "topic", "channel", "address", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status", "channel")
    search_fields = ("topic", "address", "subject", "text", "dedup_key")
    date_hierarchy = "created_at"
    readonly_fields = ("dedup_key", "created_at", "queued_at", "claimed_at", "sent_at", "external_ref")

    def has_add_permission(self, request) -> bool:
        return False  # rows are planned by notify(), once per key; one typed by hand would bypass that

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"changelist_help": ANNOUNCEMENT_HELP, **(extra_context or {})})


class PageWebhookAdminForm(forms.ModelForm):
    """The URL is checked as at every door (``webhook_url_check``): a refusal is shown on its field."""

    class Meta:
        model = PageWebhook
        fields = ("url",)
        formfield_callback = link_formfield  # https assumed, as every admin link field (sredesk.admin)

    def clean_url(self) -> str:
        from .webhook import webhook_url_check

        try:
            return webhook_url_check(self.cleaned_data["url"])
        except InputError as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(PageWebhook)
class PageWebhookAdmin(LinkFieldsMixin, admin.ModelAdmin):
    """Page webhooks of people and teams. Made, moved, rotated on the owner's profile or ``/api/v1/page-webhooks/``
    (the secret is shown there once); here an operator can look, change the URL or remove one."""

    list_display = ("id", "user", "team", "url", "created_at", "rotated_at")
    search_fields = ("url", "user__username", "team__slug")
    form = PageWebhookAdminForm
    readonly_fields = ("user", "team", "created_at", "rotated_at", "previous_valid_until")
    fields = ("user", "team", "url", "created_at", "rotated_at", "previous_valid_until")

    def has_add_permission(self, request) -> bool:
        return False  # a new webhook needs a secret shown once to its owner: made through page_webhook_set

    def save_model(self, request, obj, form, change) -> None:
        from .page_webhooks import page_webhook_set

        owner = {"user": obj.user} if obj.user_id else {"team": obj.team}
        page_webhook_set(actor=request.user, url=obj.url, **owner)


SLACK_PROBLEMS_HELP = (
    "Above: whether Slack works for sredesk now (asked when this page opens). Below: Slack errors a person must "
    "fix (a revoked token, the bot missing from a channel, an unknown member id), on the workspace, a team or a "
    "person. Each is one row however often it recurs; it is marked fixed when the same call succeeds again, or "
    "here once you have fixed it."
)


@admin.register(SlackProblem)
class SlackProblemAdmin(admin.ModelAdmin):
    change_list_template = "admin/notifications/slack_health.html"
    list_display = ("words", "owner", "error", "target", "occurrences", "first_seen_at", "last_seen_at", "fixed_at")
    list_filter = (("fixed_at", admin.EmptyFieldListFilter), "error")
    search_fields = ("words", "error", "target", "key")
    list_select_related = ("team", "person")
    readonly_fields = [f.name for f in SlackProblem._meta.fields]
    actions = ["mark_fixed"]

    def has_add_permission(self, request) -> bool:
        return False  # recorded by the calls that met them

    @admin.display(description="on")
    def owner(self, problem: SlackProblem) -> str:
        return str(problem.team or problem.person or "the Slack workspace")

    @admin.action(description="Mark fixed")
    def mark_fixed(self, request, queryset) -> None:
        queryset.filter(fixed_at__isnull=True).update(fixed_at=timezone.now())

    def changelist_view(self, request, extra_context=None):
        context = {
            "title": "Slack health and problems",  # not Django's "Select Slack problem to change": nothing to change
            "changelist_help": SLACK_PROBLEMS_HELP,
            "health": slack_health(),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)
