"""What the Slack app keeps: every inbound request once (the idempotency ledger) and one-time account-link tokens."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class InboundRequest(models.Model):
    """One request Slack sent, recorded once under its natural key, so a retry or a duplicate acts once.

    ``key`` is Slack's own identity of the request (``slackapp.inbound``): an
    event's ``event_id``; a command's ``user_id:trigger_id``; an action's
    ``<message ts or view id>:<action_id>:<action_ts>``; a view submission's
    ``<view id>:<view hash>``. Transport artefacts (``X-Slack-Retry-Num``) are
    kept for the record only. ``status`` goes ``queued`` -> ``done`` or
    ``failed`` (claimed and finished in one transaction by the worker), or is
    ``ignored`` when no handler is registered for it.
    """

    class Kind(models.TextChoices):
        COMMAND = "command", "Slash command"
        ACTION = "action", "Button or menu"
        VIEW_SUBMISSION = "view_submission", "Modal submitted"
        EVENT = "event", "Event"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored (no handler)"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=255, help_text="Slack's identity of the request (see the model's docstring).")
    name = models.CharField(max_length=255, blank=True, help_text="The verb, action_id, callback_id or event type.")
    team_id = models.CharField(max_length=32, blank=True)
    slack_user_id = models.CharField(max_length=32, blank=True)
    channel_id = models.CharField(max_length=32, blank=True)
    payload = models.JSONField(help_text="The request as Slack sent it (form fields, or the parsed JSON).")
    retry_num = models.PositiveIntegerField(default=0, help_text="X-Slack-Retry-Num of the delivery recorded.")
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    handled_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="What went wrong, in plain words (also told to the user).")
    view_id = models.CharField(max_length=64, blank=True, help_text="The loading modal opened for it, if any.")
    view_hash = models.CharField(max_length=128, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="slack_inbound_once_per_key")]
        indexes = [models.Index(fields=["status", "received_at"], name="slack_inbound_status_received")]
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name or self.key} ({self.status})"


class SlackLinkToken(models.Model):
    """A one-time link that ties a Slack user to the sredesk person who opens it signed in.

    Only the token's SHA-256 is stored (``sredesk.tokens``). Valid until
    ``expires_at`` and for one use (``used_at``, ``used_by``). ``slack_handle``
    and ``team_name`` are what the request from Slack called the user and the
    workspace: the link page shows them, so whoever opens it sees whose Slack
    account it ties.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    slack_user_id = models.CharField(max_length=32)
    team_id = models.CharField(max_length=32, blank=True)
    slack_handle = models.CharField(max_length=80, blank=True, help_text="The user's Slack handle, as Slack sent it.")
    team_name = models.CharField(
        max_length=80, blank=True, help_text="The workspace's name (domain), as Slack sent it."
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"Slack link for {self.slack_user_id}"


class SlackDeclare(models.Model):
    """An incident declared from Slack, so the same person repeating the same title soon gets it back (BR-10).

    ``title_key`` is the title case-folded with its spaces collapsed. A repeat
    within ``SREDESK_SLACK_DECLARE_REPEAT_SECONDS`` answers with this incident
    instead of declaring another (``slackapp.commands.declare``).
    """

    slack_user_id = models.CharField(max_length=32)
    title_key = models.CharField(max_length=300)
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["slack_user_id", "title_key", "created_at"], name="slack_declare_repeat")]

    def __str__(self) -> str:
        return f"{self.slack_user_id} declared {self.incident_id}"


class ButtonClick(models.Model):
    """The latest click of one button (``action_id``) on one Slack message, so a double click acts once.

    ``message`` is the message's ``channel:ts``; ``clicked_at`` is when the
    door received the click (``InboundRequest.received_at``, UTC). One row per
    (message, button): the unique constraint makes two workers handling two
    clicks at once take turns (``slackapp.clicks.first_click``).
    """

    message = models.CharField(max_length=100)
    action_id = models.CharField(max_length=255)
    slack_user_id = models.CharField(max_length=32, blank=True)
    inbound = models.ForeignKey(InboundRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    clicked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "action_id"], name="slack_button_click_once")]

    def __str__(self) -> str:
        return f"{self.action_id} on {self.message} at {self.clicked_at:%Y-%m-%d %H:%M:%S}"
