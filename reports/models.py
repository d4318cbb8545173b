"""What ``/metrics``' histograms are made of, stored as things happen so a scrape reads a few rows, never a scan.

``reports.histograms.histograms_observe`` (a beat task) counts each
duration once into its ``HistogramSeries``; ``ObservedDuration`` is the
ledger that makes "once" hold with any number of workers and beats (its
unique key), and says which incidents and post-mortems are counted.
"""

from django.db import models
from django.utils import timezone


class ObservedDuration(models.Model):
    """One duration counted into a histogram: unique per (metric, subject), so it is counted once."""

    metric = models.CharField(max_length=80)
    subject_id = models.BigIntegerField(help_text="The incident's or post-mortem's id.")
    label = models.CharField(max_length=120, blank=True, help_text="The series' label value (severity, team slug).")
    seconds = models.FloatField()
    observed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["metric", "subject_id"], name="observedduration_unique_subject")]

    def __str__(self) -> str:
        return f"{self.metric}[{self.label}] #{self.subject_id}: {self.seconds:.0f} s"


class HistogramSeries(models.Model):
    """One histogram series: counts per bucket (not cumulative; ``bounds`` in ``reports.histograms``), sum, count."""

    metric = models.CharField(max_length=80)
    label = models.CharField(max_length=120, blank=True)
    buckets = models.JSONField(default=list, help_text="Observations per bucket, +Inf last (not cumulative).")
    sum_seconds = models.FloatField(default=0.0)
    count = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "histogram series"
        constraints = [models.UniqueConstraint(fields=["metric", "label"], name="histogramseries_unique_label")]

    def __str__(self) -> str:
        return f"{self.metric}[{self.label}]: {self.count}"
