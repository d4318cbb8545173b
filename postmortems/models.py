"""Post-mortems, their action items and regression tests, and the reminder ledger.

CI runs and their results live in ``postmortems.ci_models`` (imported here, so
``postmortems.models`` names every model of the app).
"""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from incidents.models import Incident
from notifications.models import DeliveryBase
from ownership.models import Repository, Team
from sredesk.versions import Versioned

from .ci_models import TestResult, TestRun, TestRunFile
from .querysets import ActionItemQuerySet, PostMortemQuerySet
from .testids import test_key


class PostMortem(Versioned):
    """The blameless write-up of one incident.

    It owes a regression test from the moment it is published, or from its due
    date if the draft is late; reminders go to ``owner`` until one is linked.
    Sections are Markdown.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        PUBLISHED = "published", "Published"
        COMPLETE = "complete", "Complete"
        DECLINED = "declined", "Declined"

    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="postmortem")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="postmortems"
    )
    status = FSMField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    due_at = models.DateTimeField(help_text="When the post-mortem should be published (UTC).")
    published_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    reminder_cycle = models.PositiveIntegerField(
        default=0, help_text="Bumped when the post-mortem starts owing a regression test again."
    )
    reminder_cycle_started_at = models.DateTimeField(
        null=True, blank=True, help_text="When the current reminder cycle began (cycle 1 and later)."
    )
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(
        max_length=500, blank=True, help_text="Why nobody needs this post-mortem (required to decline)."
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    snooze_reason = models.CharField(max_length=300, blank=True)

    summary = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    trigger = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    detection = models.TextField(blank=True)
    resolution = models.TextField(blank=True)
    went_well = models.TextField("what went well", blank=True)
    went_wrong = models.TextField("what went wrong", blank=True)
    got_lucky = models.TextField("where we got lucky", blank=True)
    timeline = models.TextField(blank=True, help_text="Copied from the incident's timeline.")
    source_url = models.URLField(max_length=500, blank=True, help_text="A public write-up this one refers to.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()
    objects = PostMortemQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = "post-mortem"
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["published", "complete"]) | Q(published_at__isnull=False),
                name="postmortem_published_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="complete") | Q(completed_at__isnull=False), name="postmortem_complete_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | (Q(declined_at__isnull=False) & ~Q(decline_reason="")),
                name="postmortem_declined_has_time_and_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["due_at", "id"], name="postmortem_due_id_idx"),
        ]

    def __str__(self) -> str:
        return f"Post-mortem of {self.incident.public_id}"

    # --- Review workflow (django-fsm-2). Services check the rules, save, log and notify.

    @transition(field=status, source=Status.DRAFT, target=Status.IN_REVIEW)
    def submit_for_review(self, *, at: datetime) -> None:
        pass

    @transition(field=status, source=Status.IN_REVIEW, target=Status.DRAFT)
    def request_changes(self, *, at: datetime) -> None:
        pass

    @transition(field=status, source=[Status.DRAFT, Status.IN_REVIEW], target=Status.PUBLISHED)
    def publish(self, *, at: datetime) -> None:
        self.published_at = at

    @transition(field=status, source=Status.PUBLISHED, target=Status.COMPLETE)
    def complete(self, *, at: datetime) -> None:
        self.completed_at = at

    @transition(field=status, source=[Status.DRAFT, Status.IN_REVIEW], target=Status.DECLINED)
    def decline(self, *, at: datetime) -> None:
        self.declined_at = at

    @transition(field=status, source=Status.DECLINED, target=Status.DRAFT)
    def reopen(self, *, at: datetime) -> None:
        self.declined_at, self.decline_reason = None, ""

    @property
    def regression_test_requirement(self) -> str:
        """The regression-test state that satisfies this post-mortem: ``verified``, or ``linked`` when the
        incident's primary service has switched off ``ci_reports_tests``."""
        service = self.incident.primary_service
        if service is not None and not service.ci_reports_tests:
            return RegressionTest.State.LINKED
        return RegressionTest.State.VERIFIED


class ActionItem(Versioned):
    """Follow-up work from a post-mortem. ``wont_do`` needs a reason."""

    class Kind(models.TextChoices):
        PREVENT = "prevent", "Prevent"
        MITIGATE = "mitigate", "Mitigate"
        DETECT = "detect", "Detect"
        PROCESS = "process", "Process"

    class Priority(models.IntegerChoices):
        P1 = 1, "P1"
        P2 = 2, "P2"
        P3 = 3, "P3"
        P4 = 4, "P4"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        WONT_DO = "wont_do", "Won't do"

    postmortem = models.ForeignKey(PostMortem, on_delete=models.CASCADE, related_name="action_items")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PREVENT)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.P2)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="action_items"
    )
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    wont_do_reason = models.TextField(blank=True)
    tracker_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()
    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "due_date", "id"]
        indexes = [models.Index(fields=["status", "due_date"], name="actionitem_status_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="wont_do") | ~Q(wont_do_reason=""), name="actionitem_wont_do_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class RegressionTest(models.Model):
    """A test that proves the incident's failure cannot come back unnoticed.

    ``test_id`` is the canonical ``::`` id of ``postmortems.testids``. States:
    ``linked`` (claimed) -> ``verified`` (seen passing in CI) -> ``failing`` /
    ``missing`` (a later run shows it failing or absent).
    """

    class State(models.TextChoices):
        LINKED = "linked", "Linked"
        VERIFIED = "verified", "Verified"
        FAILING = "failing", "Failing"
        MISSING = "missing", "Missing"

    postmortem = models.ForeignKey(PostMortem, on_delete=models.CASCADE, related_name="regression_tests")
    action_item = models.ForeignKey(
        ActionItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="regression_tests"
    )
    repository = models.ForeignKey(Repository, on_delete=models.PROTECT, related_name="regression_tests")
    test_id = models.TextField("canonical test id")
    test_key = models.CharField(
        max_length=64, editable=False, help_text="SHA-256 of test_id (postmortems.testids.test_key), set on save."
    )
    change_url = models.URLField(max_length=500, blank=True, help_text="The pull/merge request that added the test.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.LINKED)
    state_changed_at = models.DateTimeField(default=timezone.now)
    state_run = models.ForeignKey(
        "TestRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The CI run that last changed the state.",
    )
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    linked_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["postmortem", "repository", "test_key"], name="regressiontest_unique_key_per_postmortem"
            ),
        ]
        indexes = [models.Index(fields=["repository", "test_key"], name="regressiontest_repo_key_idx")]

    def __str__(self) -> str:
        return f"{self.repository}: {self.test_id}"

    def save(self, *args, **kwargs) -> None:
        self.test_key = test_key(self.test_id)
        if kwargs.get("update_fields") is not None and "test_id" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "test_key"}
        super().save(*args, **kwargs)


class RegressionTestWaiver(models.Model):
    """ "Not testable": a request that a post-mortem owe no regression test, with a reason.

    It counts once the owning team's lead (or staff) approves it
    (``postmortems.waivers``): an approved waiver stops the post-mortem's
    regression-test reminders and lifts that completion blocker; the loop
    closure figures still count only tests. At most one pending request per
    post-mortem (a database constraint), decided once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the team lead"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    postmortem = models.ForeignKey(PostMortem, on_delete=models.CASCADE, related_name="waivers")
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["postmortem"], condition=Q(status="pending"), name="waiver_one_pending_per_postmortem"
            ),
        ]

    def __str__(self) -> str:
        return f"Not testable ({self.get_status_display().lower()}): {self.reason[:60]}"


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


__all__ = [
    "ActionItem", "Heartbeat", "PostMortem", "RegressionTest", "Reminder", "ReminderDelivery", "TestResult", "TestRun",
    "TestRunFile",
]  # fmt: skip
