"""The database outbox: every notification sredesk sends, readable in the admin and UI."""

from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    """One message as sredesk addressed it, written once per ``dedup_key``."""

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
