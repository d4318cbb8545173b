"""CI runs of a repository, their uploaded JUnit files and the results in them (``postmortems.ci`` writes them)."""

from django.db import models
from django.utils import timezone

from ownership.models import Repository

from .testids import test_key


class TestRun(models.Model):
    """One CI run of a repository: its JUnit files and the results in them.

    Identified by (repository, run key): the uploader's build id, or the
    commit when it gives none, so several uploads (Surefire and Gradle write
    one file per class) add to one run. Only a ``complete`` run can show a
    regression test ``missing``. Whether a run counts is decided by its
    branch (``Repository.counts_branch``).
    """

    __test__ = False  # not a pytest test class

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="test_runs")
    run_key = models.CharField(max_length=200, help_text="The CI's build id, or the commit.")
    branch = models.CharField(max_length=200)
    commit = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=500, blank=True, help_text="The CI job's page.")
    complete = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["repository", "run_key"], name="testrun_unique_key")]
        indexes = [
            models.Index(fields=["repository", "branch", "created_at"]),
            models.Index(fields=["created_at", "id"], name="testrun_created_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.repository} {self.branch}@{self.commit[:12] or self.run_key}"


class TestRunFile(models.Model):
    """One uploaded JUnit file of a run; the same bytes uploaded twice are kept once."""

    __test__ = False  # not a pytest test class

    test_run = models.ForeignKey(TestRun, on_delete=models.CASCADE, related_name="files")
    filename = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveIntegerField()
    producer = models.CharField(max_length=32, blank=True)
    tests = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["test_run", "sha256"], name="testrunfile_unique_content")]

    def __str__(self) -> str:
        return self.filename or self.sha256[:12]


class TestResult(models.Model):
    """The outcome of one test (canonical id) in one run; repeated attempts are folded into one row."""

    __test__ = False  # not a pytest test class

    class Outcome(models.TextChoices):
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"
        ERROR = "error", "Error"
        SKIPPED = "skipped", "Skipped"
        XFAIL = "xfail", "Expected failure"

    test_run = models.ForeignKey(TestRun, on_delete=models.CASCADE, related_name="results")
    test_id = models.TextField()
    test_key = models.CharField(max_length=64, help_text="SHA-256 of test_id (postmortems.testids.test_key).")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    flaky = models.BooleanField(default=False, help_text="Attempts disagreed: not a pass.")
    attempts = models.PositiveIntegerField(default=1)
    duration_seconds = models.FloatField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["test_run", "test_key"], name="testresult_unique_key_per_run")]
        indexes = [models.Index(fields=["test_key"], name="testresult_key_idx")]

    def __str__(self) -> str:
        return f"{self.test_id}: {self.outcome}"

    def save(self, *args, **kwargs) -> None:
        self.test_key = test_key(self.test_id)  # CI uploads write rows in bulk with their key (postmortems.ci)
        super().save(*args, **kwargs)

    @property
    def passed(self) -> bool:
        return self.outcome == self.Outcome.PASSED and not self.flaky
