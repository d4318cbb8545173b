from django.contrib import admin

from .models import Notification, OutboxMessage

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
class NotificationAdmin(admin.ModelAdmin):
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
