"""The notification layer's tables: delivery ledgers and the database outbox."""

from django.conf import settings
from django.db import models
from django.db.models import Q
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
    conversation = models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_default="",
        help_text="Where a channel whose messages can be edited (Slack) put it: the conversation id (a DM's D…).",
    )

    class Meta:
        abstract = True


class Notification(DeliveryBase):
    """A one-off notification (incident declared, escalated, resolved, ...), planned once per ``dedup_key``.

    Its channels are the reminders' and the page webhook (pages alone go there: ``notifications.webhook``).
    """

    class Channel(models.TextChoices):
        OUTBOX = "outbox", "Outbox"
        SLACK = "slack", "Slack"
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    channel = models.CharField(max_length=16, choices=Channel.choices)

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
        indexes = [
            models.Index(fields=["status", "claimed_at"]),
            # A webhook's latest deliveries (``page_webhooks_deliveries``): channel and address, newest first.
            models.Index(fields=["channel", "address", "created_at", "id"], name="notification_chan_addr_new_idx"),
        ]
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


class PageWebhook(models.Model):
    """A signed outgoing webhook that pages reach: a person's or a team's own phone or SMS gateway.

    Exactly one of ``user`` and ``team`` owns it (one webhook each). Each page is a JSON POST to ``url``
    signed with HMAC-SHA256 over the raw body (``notifications.signing``). The secret is made by sredesk,
    shown once, stored encrypted (Fernet, ``SREDESK_ENCRYPTION_KEY``) since signing needs it in clear; a
    rotation keeps the previous one signing too until ``previous_valid_until`` (aware UTC), so a receiver can
    switch without missing a page. Written only through ``notifications.page_webhooks``.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="page_webhook"
    )
    team = models.OneToOneField(
        "ownership.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="page_webhook"
    )
    url = models.URLField(max_length=500, help_text="https:// URL the pages are POSTed to.")
    secret_encrypted = models.TextField(editable=False)
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    previous_valid_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True) | Q(user__isnull=True, team__isnull=False),
                name="pagewebhook_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"webhook of {self.user or self.team}"

    @property
    def address(self) -> str:
        """The address its deliveries carry: ``webhook:<id>``."""
        return f"webhook:{self.pk}"


class ContactRule(models.Model):
    """A person's own rule: pages reach them through ``channel`` ``delay_minutes`` after the page (if the incident
    is still unacknowledged then). Read only through ``notifications.contact.page_channels``."""

    class PageChannel(models.TextChoices):
        SLACK = "slack", "Slack direct message"
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Page webhook"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_rules")
    channel = models.CharField(max_length=16, choices=PageChannel.choices)
    delay_minutes = models.PositiveSmallIntegerField(default=0, help_text="Minutes after the page (0 to 1440).")

    class Meta:
        ordering = ["user", "delay_minutes", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="contactrule_one_per_channel"),
            models.CheckConstraint(condition=Q(delay_minutes__lte=1440), name="contactrule_delay_at_most_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_channel_display()} after {self.delay_minutes} min"


class SlackCallFailure(models.Model):
    """One failed Slack Web API call (``notifications.slack_api``): what the health view calls the last outbound error.

    Purged with the deliveries (``SREDESK_NOTIFICATION_RETENTION_DAYS``).
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    method = models.CharField(max_length=64, help_text="e.g. conversations.create")
    error = models.CharField(max_length=100, help_text="Slack's error code, http_<status>, or unreachable.")
    target = models.CharField(max_length=100, blank=True, help_text="The channel or member concerned.")
    status = models.PositiveSmallIntegerField(default=0, help_text="HTTP status (0: no reply).")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.method}: {self.error}"


class SlackProblem(models.Model):
    """A Slack error that a person must fix (``slack_api.NEEDS_PERSON``), on the workspace, a team or a person.

    Open (``fixed_at`` empty) from the first failure until the same call
    succeeds again or an operator marks it fixed; repeats bump ``occurrences``
    and ``last_seen_at`` on the one open row (a unique constraint), so a
    failing delivery shows as one problem, not a stream of retries.
    ``key`` is ``workspace``, ``team:<id>`` or ``person:<id>``.
    """

    key = models.CharField(max_length=40)
    team = models.ForeignKey("ownership.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    error = models.CharField(max_length=100, help_text="Slack's error code.")
    method = models.CharField(max_length=64, blank=True)
    target = models.CharField(max_length=100, blank=True, help_text="The channel or member id concerned.")
    words = models.TextField(help_text="What it means and what to do.")
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    occurrences = models.PositiveIntegerField(default=1)
    fixed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        verbose_name = "Slack problem"
        verbose_name_plural = "Slack health and problems"
        constraints = [
            models.UniqueConstraint(
                fields=["key", "error", "target"],
                condition=models.Q(fixed_at__isnull=True),
                name="slack_problem_open_once",
            )
        ]

    def __str__(self) -> str:
        return self.words
