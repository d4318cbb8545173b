"""Regression tests linked to post-mortems, and "not testable" waivers.

Foreign keys to ``PostMortem`` and ``ActionItem`` are by name: ``writeups`` imports this module.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from ownership.models import Repository

from ..testids import test_key


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

    postmortem = models.ForeignKey("PostMortem", on_delete=models.CASCADE, related_name="regression_tests")
    action_item = models.ForeignKey(
        "ActionItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="regression_tests"
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

    postmortem = models.ForeignKey("PostMortem", on_delete=models.CASCADE, related_name="waivers")
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
