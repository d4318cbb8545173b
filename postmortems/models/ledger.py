"""The reminder ledger (one row a reminder step, one a delivery) and the periodic jobs' heartbeats."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from notifications.models import DeliveryBase
from ownership.models import Team

from .writeups import PostMortem


class Reminder(models.Model):
    """One logical reminder: the ledger row that makes each step happen once.

    Unique per (post-mortem, kind, subject, cycle, step), so every worker and every beat
    tick that plans the same step lands on the same row. ``due_at`` is when the
    step fell due.
    """

    class Kind(models.TextChoices):
        NO_REGRESSION_TEST = "no_regression_test", "No regression test"
        OVERDUE_DRAFT = "overdue_draft", "Overdue draft"
        OVERDUE_ACTION_ITEM = "overdue_action_item", "Overdue action item"
        TEST_REGRESSED = "test_regressed", "Regression test failing or missing"

    postmortem = models.ForeignKey(PostMortem, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    subject_key = models.CharField(
        max_length=64, blank=True, default="", help_text="What within the post-mortem, e.g. action-item:12."
    )
    cycle = models.PositiveIntegerField(default=0)
    step = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-due_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["postmortem", "kind", "subject_key", "cycle", "step"], name="reminder_unique_step"
            ),
        ]
        indexes = [models.Index(fields=["due_at", "id"], name="reminder_due_id_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.step + 1} for {self.postmortem.incident.public_id}"


class ReminderDelivery(DeliveryBase):
    """One reminder to one recipient (a person or a team) through one channel.

    Status and attempts are those of ``notifications.models.DeliveryBase``.
    A sent Slack reminder that was settled (``postmortems.reminders.settle``)
    has ``settled_at``/``settled_text``, and ``settled_edited_at`` once its
    message was edited in place to say so, without its buttons. The edit is
    retried like a delivery (``settled_edit_*``: attempts, the time it may be
    tried again, the claiming worker, and when sredesk gave up).
    """

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="deliveries")
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="reminder_deliveries"
    )
    recipient_team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="reminder_deliveries"
    )
    settled_at = models.DateTimeField(
        null=True, blank=True, help_text="When the reminder was settled (test linked, snoozed, waived), UTC."
    )
    settled_text = models.TextField(
        blank=True, default="", db_default="", help_text="Who settled it and how, as its Slack message now says."
    )
    settled_edited_at = models.DateTimeField(
        null=True, blank=True, help_text="When its Slack message was edited to the settled state (no buttons)."
    )
    settled_edit_attempts = models.PositiveIntegerField(
        default=0, db_default=0, help_text="How many times a worker tried to edit its Slack message."
    )
    settled_edit_not_before = models.DateTimeField(
        null=True, blank=True, help_text="The edit is not tried again before this (Slack's Retry-After, backoff), UTC."
    )
    settled_edit_claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker took the edit (empty: no worker has it now)."
    )
    settled_edit_failed_at = models.DateTimeField(
        null=True, blank=True, help_text="When sredesk gave up editing it (a person must act, or attempts used up)."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "reminder deliveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient_user__isnull=False, recipient_team__isnull=True)
                | Q(recipient_user__isnull=True, recipient_team__isnull=False),
                name="delivery_one_recipient",
            ),
            models.UniqueConstraint(
                fields=["reminder", "recipient_user", "channel"],
                condition=Q(recipient_user__isnull=False),
                name="delivery_unique_user_channel",
            ),
            models.UniqueConstraint(
                fields=["reminder", "recipient_team", "channel"],
                condition=Q(recipient_team__isnull=False),
                name="delivery_unique_team_channel",
            ),
        ]
        indexes = [models.Index(fields=["status", "claimed_at"])]

    def __str__(self) -> str:
        return f"{self.reminder} via {self.channel} to {self.address}: {self.status}"


class Heartbeat(models.Model):
    """Last success of a periodic job, read by ``/metrics`` so a dead beat shows."""

    name = models.CharField(max_length=64, primary_key=True)
    last_success_at = models.DateTimeField()
    figures = models.JSONField(
        default=dict, blank=True, help_text="What the job measured on its last run, for /metrics (see its docstring)."
    )

    def __str__(self) -> str:
        return f"{self.name} at {self.last_success_at:%Y-%m-%d %H:%M:%S}"
