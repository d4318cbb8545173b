"""An incident's Slack channel: claimed once per incident before Slack is called, then set up step by step."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from incidents.models import Incident


class IncidentChannel(models.Model):
    """The Slack channel of one incident (one at most: the one-to-one key is the guard two workers race on).

    The row is claimed (inserted and locked) before ``conversations.create``
    is called, and ``channel_id`` stored in the same transaction, so however
    many workers set the channel up, Slack is asked to create it once. Each
    later step records what it did, so a retried set-up repeats none of it:
    ``invites`` maps a Slack member id (or ``person:<id>`` for someone with
    none) to its outcome (``invited``, ``already_in_channel``, or
    ``skipped: <error>``); ``bookmarks`` maps ``incident`` / ``postmortem`` to
    Slack's bookmark id; ``topic`` is the topic last set. ``problem`` is a Slack
    error a person must fix (in plain words); set-up stops there until it is fixed.
    """

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="slack_channel")
    channel_id = models.CharField(max_length=32, blank=True, help_text="Slack's channel id (C…); empty until created.")
    name = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    set_up_at = models.DateTimeField(
        null=True, blank=True, help_text="When invites, topic and bookmarks were last done."
    )
    invites = models.JSONField(default=dict, blank=True)
    bookmarks = models.JSONField(default=dict, blank=True)
    topic = models.CharField(max_length=250, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    problem = models.TextField(blank=True, help_text="A Slack error a person must fix before set-up can go on.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel_id"], condition=~Q(channel_id=""), name="incident_channel_id_once")
        ]

    def __str__(self) -> str:
        return f"#{self.name or '(not created yet)'} of {self.incident.public_id}"

    @property
    def url(self) -> str:
        """A link that opens the channel in Slack (``slack.com/app_redirect``), or "" before it exists."""
        return f"https://slack.com/app_redirect?channel={self.channel_id}" if self.channel_id else ""
