"""Service level objectives: targets over windows, their SLI data, their computed state and burn alerts.

Terms as DESIGN.md gives them: the **budget** is (1 − target) of the window;
the **burn rate** is the observed error ratio ÷ (1 − target); **coverage** is
the part of the window that has data. Missing data is never counted as good
(FIELD-CASES BR-36). The arithmetic lives in ``slos.arithmetic``, the windows
in ``slos.windows``; this module holds the rows.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.timezone import now as utc_now
from django.utils.translation import ngettext
from simple_history.models import HistoricalRecords

from ownership.models import Service, Team, validate_timezone

# Bucket lengths an events SLI may use: each divides a day, so buckets line up with UTC days.
BUCKET_SECONDS = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
# At most this many buckets in one window: a 30-day window takes 1-minute buckets or longer.
MAX_BUCKETS_PER_WINDOW = 50_000
MAX_WINDOW_DAYS = 90
MAX_QUERY_CHARS = 4000
WINDOW_PLACEHOLDER = "$window"


class SLO(models.Model):
    """One service level objective of a service: a target over a window for an SLI.

    ``target`` is a fraction (0.999 is 99.9 %). The window is rolling
    ``window_days`` days of 24 hours, or the calendar month in ``timezone``.
    The SLI is one of three kinds:

    - ``events_pushed``: good and total counts per bucket of ``bucket_seconds``,
      sent to ``POST /api/v1/slos/{id}/samples/``;
    - ``events_prometheus``: ``good_query`` and ``total_query``, PromQL whose
      ``$window`` is replaced by the bucket length (``[5m]``), evaluated by a
      worker over Prometheus' HTTP API (``SREDESK_PROMETHEUS_URL``) into the same buckets;
    - ``incident_time``: the impact windows (``started_at`` to ``mitigated_at``,
      else ``resolved_at``, else now) of the service's incidents of severity
      ``min_severity`` or worse, counted from ``measured_since``.
    """

    class WindowKind(models.TextChoices):
        ROLLING = "rolling", "Rolling days"
        CALENDAR_MONTH = "calendar_month", "Calendar month"

    class SLIKind(models.TextChoices):
        EVENTS_PUSHED = "events_pushed", "Events pushed to sredesk"
        EVENTS_PROMETHEUS = "events_prometheus", "Events pulled from Prometheus"
        INCIDENT_TIME = "incident_time", "Time from incidents"

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="slos")
    slug = models.SlugField(max_length=63, help_text="Unique within the service; the OpenSLO metadata.name.")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    target = models.DecimalField(
        max_digits=7,
        decimal_places=5,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("0.99999"))],
        help_text="A fraction: 0.999 is 99.9 %.",
    )
    window_kind = models.CharField(max_length=16, choices=WindowKind.choices, default=WindowKind.ROLLING)
    window_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_DAYS)],
        help_text="Length of a rolling window in days of 24 hours.",
    )
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone], help_text="Zone of a calendar-month window."
    )
    sli_kind = models.CharField(max_length=24, choices=SLIKind.choices)
    bucket_seconds = models.PositiveIntegerField(
        default=300, choices=[(n, f"{n} s") for n in BUCKET_SECONDS], help_text="Length of one events bucket."
    )
    good_query = models.TextField(blank=True, help_text="PromQL giving the good events in $window.")
    total_query = models.TextField(blank=True, help_text="PromQL giving all events in $window.")
    min_severity = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text="Time SLI: incidents of this severity or worse (2: SEV1 and SEV2) count as bad time.",
    )
    measured_since = models.DateTimeField(
        default=utc_now, help_text="Time SLI: incidents count from this instant; earlier time has no data."
    )
    min_coverage = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.5"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Below this coverage of the elapsed window the status is 'insufficient data'.",
    )
    alert_min_bad_events = models.PositiveIntegerField(
        default=10, help_text="Burn alerts fire only with at least this many bad events in the rule's long window."
    )
    absent_after_seconds = models.PositiveIntegerField(
        default=1800,
        validators=[MinValueValidator(60)],
        help_text="Events SLIs: the 'SLI absent' alert fires when no bucket has arrived for this long.",
    )
    paused = models.BooleanField(default=False, help_text="Paused: no state, no burn alerts.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["service__name", "name", "id"]
        verbose_name = "SLO"
        constraints = [
            models.UniqueConstraint(fields=["service", "slug"], name="slo_unique_slug_per_service"),
            models.CheckConstraint(condition=Q(target__gt=0, target__lt=1), name="slo_target_between_0_and_1"),
        ]

    def __str__(self) -> str:
        return f"{self.service.slug}/{self.slug}"

    def clean(self) -> None:
        """Checks across fields, raised as ValidationError by field (every door calls ``full_clean``).

        A Prometheus SLI needs both queries, each with ``$window`` (the bucket
        length goes there) and without NUL or lone surrogates; other SLIs take
        none. The window may hold at most ``MAX_BUCKETS_PER_WINDOW`` buckets.
        """
        from sredesk.inputs import text_problem

        errors = {}
        if self.sli_kind == self.SLIKind.EVENTS_PROMETHEUS:
            for name in ("good_query", "total_query"):
                query = getattr(self, name) or ""
                problem = text_problem(query, MAX_QUERY_CHARS)
                if not query.strip():
                    problem = "A Prometheus SLI needs this PromQL expression."
                elif problem is None and WINDOW_PLACEHOLDER not in query:
                    problem = f"Write {WINDOW_PLACEHOLDER} where the bucket length goes, e.g. increase(x[$window])."
                if problem:
                    errors[name] = problem
        else:
            for name in ("good_query", "total_query"):
                if getattr(self, name):
                    errors[name] = "Only a Prometheus SLI takes PromQL."
        longest = 31 * 86400 + 3600 if self.window_kind == self.WindowKind.CALENDAR_MONTH else self.window_days * 86400
        if self.is_events and self.bucket_seconds and longest / self.bucket_seconds > MAX_BUCKETS_PER_WINDOW:
            shortest = next((n for n in BUCKET_SECONDS if longest / n <= MAX_BUCKETS_PER_WINDOW), BUCKET_SECONDS[-1])
            errors["bucket_seconds"] = (
                f"A window this long holds at most {MAX_BUCKETS_PER_WINDOW:,} buckets: use {shortest} s or longer."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def is_events(self) -> bool:
        """Whether the SLI counts events (pushed or pulled) rather than time."""
        return self.sli_kind != self.SLIKind.INCIDENT_TIME

    @property
    def target_percent(self) -> str:
        """The target as people write it: ``99.9 %``."""
        return f"{(self.target * 100).normalize():f} %"

    @property
    def window_label(self) -> str:
        """The window as a noun phrase: ``30-day rolling window`` or ``calendar month (Europe/Berlin)``."""
        if self.window_kind == self.WindowKind.CALENDAR_MONTH:
            return f"calendar month ({self.timezone})"
        return f"{self.window_days}-day rolling window"

    @property
    def window_cell(self) -> str:
        """The window under a column headed "Window", without the word again: ``30 days, rolling`` (``1 day,
        rolling``) or ``calendar month (Europe/Berlin)``."""
        if self.window_kind == self.WindowKind.CALENDAR_MONTH:
            return self.window_label
        return f"{self.window_days} {ngettext('day', 'days', self.window_days)}, rolling"


class Sample(models.Model):
    """Good and total events of one SLO in one bucket ``[bucket_start, bucket_start + bucket_seconds)``.

    One row per bucket: a resent bucket replaces the stored one, never adds
    to it. A bucket with ``total = 0`` is covered (the SLI answered: no
    traffic); a bucket without a row is missing, and missing is never good.
    """

    slo = models.ForeignKey(SLO, on_delete=models.CASCADE, related_name="samples")
    bucket_start = models.DateTimeField()
    good = models.FloatField()
    total = models.FloatField()
    received_at = models.DateTimeField(default=utc_now)

    class Meta:
        ordering = ["slo", "bucket_start"]
        constraints = [
            models.UniqueConstraint(fields=["slo", "bucket_start"], name="slo_sample_one_per_bucket"),
            models.CheckConstraint(condition=Q(good__gte=0, total__gte=models.F("good")), name="slo_sample_counts"),
        ]

    def __str__(self) -> str:
        return f"{self.slo_id} {self.bucket_start:%Y-%m-%d %H:%M} {self.good:g}/{self.total:g}"


class Status(models.TextChoices):
    """An SLO's status, worst news first after 'paused'. See ``slos.arithmetic.status_of``."""

    OK = "ok", "OK"
    AT_RISK = "at_risk", "At risk"
    EXHAUSTED = "exhausted", "Budget exhausted"
    NO_DATA = "no_data", "No data"
    NO_TRAFFIC = "no_traffic", "No traffic"
    INSUFFICIENT_DATA = "insufficient_data", "Insufficient data"
    PAUSED = "paused", "Paused"


class SLOState(models.Model):
    """An SLO's figures as the last evaluation computed them (``slos.evaluate``), one row per SLO.

    Events SLIs count events, the time SLI counts seconds: ``good``/``total``
    and the budget are in that unit (``unit``). ``attainment`` and the budget
    are None when the data cannot say (no data, no traffic). ``burn_rates``
    maps a window length in seconds (as a string) to the burn rate over the
    last that many seconds, null where that window has no data.
    """

    slo = models.OneToOneField(SLO, on_delete=models.CASCADE, primary_key=True, related_name="state")
    computed_at = models.DateTimeField()
    status = models.CharField(max_length=24, choices=Status.choices)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    elapsed_seconds = models.FloatField(help_text="The part of the window that has passed.")
    covered_seconds = models.FloatField(help_text="The part of it that has data.")
    coverage = models.FloatField()
    good = models.FloatField()
    total = models.FloatField()
    attainment = models.FloatField(null=True, blank=True)
    budget_total = models.FloatField(null=True, blank=True)
    budget_left = models.FloatField(null=True, blank=True)
    budget_left_fraction = models.FloatField(null=True, blank=True)
    burn_rates = models.JSONField(default=dict, blank=True)
    last_data_at = models.DateTimeField(null=True, blank=True, help_text="End of the latest bucket with data.")
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = "SLO state"

    def __str__(self) -> str:
        return f"{self.slo_id}: {self.status}"

    @property
    def bad(self) -> float:
        return self.total - self.good


class BurnAlert(models.Model):
    """The state of one alert rule of one SLO (a burn-rate rule, or ``absent``) as last sent to ingestion.

    Only changes are sent: a rule that starts firing sends a firing alert
    with ``starts_at``, one that stops sends its resolution. The alert's
    identity is stable per SLO and rule (``slos.alerts``).
    """

    slo = models.ForeignKey(SLO, on_delete=models.CASCADE, related_name="burn_alerts")
    rule = models.CharField(max_length=32)
    firing = models.BooleanField(default=False)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(default=utc_now)

    class Meta:
        ordering = ["slo", "rule"]
        constraints = [models.UniqueConstraint(fields=["slo", "rule"], name="slo_burn_alert_one_per_rule")]

    def __str__(self) -> str:
        return f"{self.slo_id} {self.rule}: {'firing' if self.firing else 'ok'}"


class BudgetPolicy(models.Model):
    """A team's error-budget policy: what changes while one of its services' budgets is spent.

    It applies to a service while any of its SLOs has ``budget_left_fraction``
    at or below ``threshold`` (0: exhausted). Then the post-mortems of its
    incidents are reminded ``reminder_steps_sooner`` cadence steps ahead, and
    a new post-mortem is due after ``due_factor`` of the usual days. A team
    without a row has the default policy (the field defaults).
    """

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="budget_policy")
    enabled = models.BooleanField(default=True)
    threshold = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Budget left (fraction) at or below which the policy bites; 0 means exhausted.",
    )
    reminder_steps_sooner = models.PositiveSmallIntegerField(
        default=1, validators=[MaxValueValidator(5)], help_text="Reminder cadence steps to escalate ahead."
    )
    due_factor = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.5"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("1"))],
        help_text="A new post-mortem is due after this fraction of the usual time.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "error-budget policy"
        verbose_name_plural = "error-budget policies"

    def __str__(self) -> str:
        return f"Error-budget policy of {self.team}"


def bucket_floor(at: dt.datetime, seconds: int) -> dt.datetime:
    """The start of the ``seconds``-long bucket (aligned on the Unix epoch) that contains ``at``, aware UTC."""
    stamp = int(at.timestamp())
    return dt.datetime.fromtimestamp(stamp - stamp % seconds, tz=dt.UTC)
