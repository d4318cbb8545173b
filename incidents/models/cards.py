"""An incident's live message in one Slack conversation: posted once, then edited in place (``incidents.cards``)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .lifecycle import Incident, public_id_for


class IncidentCard(models.Model):
    """The one message about an incident in one Slack conversation (a channel, or a person's DM).

    One row per (incident, address), claimed before Slack is called, so two
    workers announcing the incident at once post one message: the second
    waits for the first's row lock and then edits the message the first
    posted. ``ts`` is Slack's id for the message, ``conversation`` where Slack
    put it (a DM's ``D…`` id when ``address`` is a person's ``U…`` id), both
    empty until it is posted. It is owed an edit while ``synced_version`` is
    below the incident's ``version``; a worker (``incidents.cards``) does it
    after commit and beat's side-effect sweep from ``next_attempt_at``.
    A refusal retrying cannot fix (``channel_not_found``, ``invalid_auth``...)
    stops the edits (``failed_at``) until the incident is announced again.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="cards", db_index=False)
    address = models.CharField(max_length=200, help_text="The Slack channel or member id it was addressed to.")
    conversation = models.CharField(max_length=40, blank=True, help_text="Slack's conversation id for the message.")
    ts = models.CharField(max_length=40, blank=True, help_text="Slack's message id (empty: not posted yet).")
    synced_version = models.PositiveIntegerField(default=0, help_text="The incident version the message shows.")
    created_at = models.DateTimeField(default=timezone.now)
    synced_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now, help_text="When the sweep may try again.")
    attempts = models.PositiveIntegerField(default=0, help_text="Failed attempts since the last success.")
    last_error = models.TextField(blank=True)
    failed_at = models.DateTimeField(null=True, blank=True, help_text="When Slack refused it for good.")

    class Meta:
        ordering = ["incident_id", "id"]
        constraints = [models.UniqueConstraint(fields=["incident", "address"], name="incident_card_one_per_address")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(failed_at__isnull=True), name="incident_card_live_idx"
            ),
            models.Index(fields=["conversation", "ts"], name="incident_card_message_idx"),
        ]

    def __str__(self) -> str:
        state = f"ts {self.ts}" if self.ts else "not posted"
        return f"{public_id_for(self.incident_id)} in {self.address} ({state})"
