"""The notification layer's tables: delivery ledgers and the database outbox."""

from django.db import models
from django.utils import timezone


class DeliveryBase(models.Model):
    """One message to one address through one channel, delivered by a claiming worker.

    Status: ``pending`` -> ``sending`` (claimed) -> ``sent`` | ``failed`` |
    ``skipped`` (no longer needed when its turn came). ``attempts`` above 1
    means the recipient may have received it twice (see ``notifications.delivery``).
    """

    class Channel(models.TextChoices):
        OUTBOX = "outbox", "Outbox"
        SLACK = "slack", "Slack"
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    channel = models.CharField(max_length=16, choices=Channel.choices)
    address = models.CharField(max_length=200, help_text="Slack user or channel id, email address, or outbox name.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a delivery task was last enqueued (empty: not yet released)."
    )
    not_before = models.DateTimeField(
        default=timezone.now,
        help_text="Not sent before this time: the recipient's working hours, or the channel's Retry-After.",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    external_ref = models.CharField(max_length=200, blank=True, help_text="The channel's id for the sent message.")

    class Meta:
        abstract = True


class Notification(DeliveryBase):
    """A one-off notification (incident declared, escalated, resolved, ...), planned once per ``dedup_key``."""

    dedup_key = models.CharField(max_length=200, unique=True, help_text="e.g. timeline-event:17:slack:C0TEAM")
    topic = models.CharField(max_length=100, blank=True, help_text="What it is about, e.g. INC-42.")
    subject = models.CharField(max_length=300)
    text = models.TextField()
    url = models.URLField(max_length=500, blank=True)
    buttons = models.JSONField(
        default=list, blank=True, help_text="What the reader can do from it: Button fields (label, action_id, ...)."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "claimed_at"])]
        # "Notifications" beside "Outbox messages" said nothing of how they differ: these are deliveries.
        verbose_name = "announcement delivery"
        verbose_name_plural = "announcement deliveries"

    def __str__(self) -> str:
        return f"{self.topic} via {self.channel} to {self.address}: {self.status}"


class OutboxMessage(models.Model):
    """One message as sredesk addressed it, written once per ``dedup_key``: what the outbox channel received.

    Every announcement and reminder gets its outbox copy, whatever other
    channels (Slack, email) also carry it; their delivery state is in
    ``Notification`` and ``ReminderDelivery`` rows.
    """

    dedup_key = models.CharField(max_length=200, unique=True, help_text="e.g. reminder-delivery:17")
    recipient = models.CharField(max_length=200)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} to {self.recipient}: {self.subject}"
