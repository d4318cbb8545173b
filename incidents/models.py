"""Incidents and their append-only timelines."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django_fsm import FSMField, transition

from ownership.models import Service, Team


class Severity(models.IntegerChoices):
    """SEV1 is a critical customer-facing outage, SEV4 a minor one. Lower is worse."""

    SEV1 = 1, "SEV1"
    SEV2 = 2, "SEV2"
    SEV3 = 3, "SEV3"
    SEV4 = 4, "SEV4"


class Source(models.TextChoices):
    """The front door an action came through, recorded on the timeline."""

    WEB = "web", "Web UI"
    API = "api", "REST API"
    SLACK = "slack", "Slack"
    ADMIN = "admin", "Admin"
    ALERT = "alert", "Alert"
    SYSTEM = "system", "System"


def _after_detection(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": F("detected_at")})


class Incident(models.Model):
    """Something broke. Public id ``INC-<pk>``.

    Timestamps are aware UTC. The database enforces
    started_at <= detected_at <= each of acknowledged_at, mitigated_at and
    resolved_at, and mitigated_at <= resolved_at; a status implies its
    timestamp (a resolved incident has ``resolved_at``).
    """

    class Status(models.TextChoices):
        TRIGGERED = "triggered", "Triggered"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        MITIGATED = "mitigated", "Mitigated"
        RESOLVED = "resolved", "Resolved"

    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.SEV3)
    status = FSMField(max_length=16, choices=Status.choices, default=Status.TRIGGERED)
    started_at = models.DateTimeField(default=timezone.now, help_text="When impact began.")
    detected_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    primary_service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="primary_incidents"
    )
    services = models.ManyToManyField(Service, blank=True, related_name="incidents", verbose_name="affected services")
    owning_team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="incidents")
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commanded_incidents",
        verbose_name="incident commander",
    )
    communications_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="communications_lead_incidents",
    )
    responders = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="responding_incidents")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(severity__gte=1, severity__lte=4), name="incident_severity_1_to_4"),
            models.CheckConstraint(
                condition=Q(detected_at__gte=F("started_at")), name="incident_started_before_detected"
            ),
            models.CheckConstraint(condition=_after_detection("acknowledged_at"), name="incident_detected_before_ack"),
            models.CheckConstraint(
                condition=_after_detection("mitigated_at"), name="incident_detected_before_mitigated"
            ),
            models.CheckConstraint(condition=_after_detection("resolved_at"), name="incident_detected_before_resolved"),
            models.CheckConstraint(
                condition=Q(mitigated_at__isnull=True)
                | Q(resolved_at__isnull=True)
                | Q(resolved_at__gte=F("mitigated_at")),
                name="incident_mitigated_before_resolved",
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved") | Q(resolved_at__isnull=False), name="incident_resolved_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="acknowledged") | Q(acknowledged_at__isnull=False), name="incident_ack_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="mitigated") | Q(mitigated_at__isnull=False), name="incident_mitigated_has_time"
            ),
        ]
        indexes = [models.Index(fields=["status", "severity"])]

    def __str__(self) -> str:
        return f"{self.public_id} {self.title}"

    @property
    def public_id(self) -> str:
        """The id people say and type, e.g. ``INC-42``."""
        return f"INC-{self.pk}"

    # --- Transitions (django-fsm-2). Pure state changes: services lock, save, log and notify.

    @transition(field=status, source=Status.TRIGGERED, target=Status.ACKNOWLEDGED)
    def acknowledge(self, *, at: datetime, by) -> None:
        """First acknowledgement wins: a re-acknowledgement after a re-open keeps the first time (MTTA)."""
        if self.acknowledged_at is None:
            self.acknowledged_at = at
            self.acknowledged_by = by

    @transition(field=status, source=[Status.TRIGGERED, Status.ACKNOWLEDGED], target=Status.MITIGATED)
    def mitigate(self, *, at: datetime) -> None:
        self.mitigated_at = at

    @transition(field=status, source=[Status.TRIGGERED, Status.ACKNOWLEDGED, Status.MITIGATED], target=Status.RESOLVED)
    def resolve(self, *, at: datetime) -> None:
        """Impact ended at resolution when nobody recorded a mitigation first."""
        self.resolved_at = at
        if self.mitigated_at is None:
            self.mitigated_at = at

    @transition(field=status, source=[Status.MITIGATED, Status.RESOLVED], target=Status.TRIGGERED)
    def reopen(self) -> None:
        """Back to triggered; the old mitigated/resolved times stay on the timeline only."""
        self.mitigated_at = None
        self.resolved_at = None

    # --- Durations in seconds (None while an end point is missing). Aware UTC, so DST cannot skew them.

    @staticmethod
    def _seconds(start: datetime | None, end: datetime | None) -> float | None:
        return (end - start).total_seconds() if start and end else None

    @property
    def mtta_seconds(self) -> float | None:
        """Time to acknowledge: acknowledged_at - detected_at."""
        return self._seconds(self.detected_at, self.acknowledged_at)

    @property
    def time_to_mitigate_seconds(self) -> float | None:
        """mitigated_at - started_at."""
        return self._seconds(self.started_at, self.mitigated_at)

    @property
    def mttr_seconds(self) -> float | None:
        """Time to resolve: resolved_at - started_at."""
        return self._seconds(self.started_at, self.resolved_at)


class TimelineEvent(models.Model):
    """One append-only entry on an incident's timeline: who did what, when, from where."""

    class Kind(models.TextChoices):
        STATUS_CHANGE = "status_change", "Status change"
        NOTE = "note", "Note"
        ALERT = "alert", "Alert"
        NOTIFICATION = "notification", "Notification sent"
        ROLE_CHANGE = "role_change", "Role change"
        SEVERITY_CHANGE = "severity_change", "Severity change"
        POSTMORTEM = "postmortem", "Post-mortem"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.SYSTEM)
    message = models.TextField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["incident", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}: {self.message[:60]}"

    def save(self, *args, **kwargs) -> None:
        """Insert only: the timeline is an audit trail, so an existing entry never changes."""
        if self.pk is not None and not self._state.adding:
            raise ValueError("Timeline events are append-only.")
        super().save(*args, **kwargs)
