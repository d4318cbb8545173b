"""Post-mortems and their action items."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from incidents.models import Incident
from sredesk.versions import Versioned

from ..querysets import ActionItemQuerySet, PostMortemQuerySet
from .regression import RegressionTest


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
