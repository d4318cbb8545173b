"""Incidents, their severities and lifecycle, their append-only timelines and the side effects their moves owe."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import ngettext
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from incidents.querysets import DURATIONS, IncidentQuerySet, needs_acknowledgement
from ownership.models import Service, Team
from sredesk.inputs import InputError, is_ascii_int, parse_id
from sredesk.versions import Versioned


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


PUBLIC_ID_PREFIX = "INC-"
"""An incident's public id is this prefix and its number (``public_id_for``); SQL that lists them takes it too."""


def public_id_for(pk: int) -> str:
    """The id people say and type for incident ``pk``: ``INC-42``."""
    return f"{PUBLIC_ID_PREFIX}{pk}"


def parse_public_id(value: str, *, field: str = "incident", bare: bool = False) -> int:
    """The incident number that public id ``value`` names: ``"INC-42"`` is 42. The one reader of ``INC-<n>``.

    The prefix in any case (``inc-42``), leading zeros allowed (``INC-007`` is 7),
    surrounding ASCII spaces, tabs and line breaks ignored (`` INC-7``); the number is ASCII digits
    (``INC-٣`` is no id: ``int()`` would read Arabic-Indic digits) from 1 up to
    PostgreSQL's ``bigint`` (``sredesk.inputs.parse_id``). With ``bare=True`` a
    number alone is an id too (``"42"``: the API's URLs, where ids are numbers
    anyway). Every door reads ids with it: the API's
    ``search`` and ``incident`` filters and URLs, the admin's search, a CI
    report's ``incident`` property.

    Raises ``sredesk.inputs.InputError`` naming ``field`` when ``value`` is not
    in that form (``"Give an incident's public id, INC-<number>."``) or its
    number is 0 or too large (code ``min_value`` / ``max_value``). Whether that
    is an error or "no incident" is the caller's (a search reads it as text).
    """
    text = value.strip(" \t\r\n") if isinstance(value, str) else ""
    number = text[len(PUBLIC_ID_PREFIX) :] if text[: len(PUBLIC_ID_PREFIX)].upper() == PUBLIC_ID_PREFIX else None
    if number is None and bare:
        number = text
    if number is None or not is_ascii_int(number):
        form = f"a number or {PUBLIC_ID_PREFIX}<number>" if bare else f"{PUBLIC_ID_PREFIX}<number>"
        raise InputError(field, f"Give an incident's public id, {form}.")
    return parse_id(number, field=field)


class Incident(Versioned):
    """Something broke. Public id ``INC-<pk>``.

    Timestamps are aware UTC. The database enforces
    started_at <= detected_at <= each of acknowledged_at, mitigated_at and
    resolved_at, and acknowledged_at <= resolved_at and mitigated_at <=
    resolved_at (mitigated and acknowledged are not ordered: impact can stop
    before anyone acknowledges); a status implies its timestamp (a resolved
    incident has ``resolved_at``). Every writer places a time with
    ``incidents.times.lifecycle_time``, which keeps that order.
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
    # Alert grouping: the integration that opened the incident and the sender's group key
    # (Alertmanager/Grafana groupKey, PagerDuty incident id). Blank for incidents declared by hand.
    integration = models.ForeignKey(
        "Integration", on_delete=models.SET_NULL, null=True, blank=True, related_name="incidents"
    )
    alert_group_key = models.CharField(max_length=600, blank=True, editable=False)
    history = HistoricalRecords()
    objects = IncidentQuerySet.as_manager()

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
                condition=Q(acknowledged_at__isnull=True)
                | Q(resolved_at__isnull=True)
                | Q(resolved_at__gte=F("acknowledged_at")),
                name="incident_acknowledged_before_resolved",
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
            # One open incident per alert group: two deliveries of the same new alert racing on
            # PostgreSQL cannot both declare one (the loser gets IntegrityError and retries).
            models.UniqueConstraint(
                fields=["integration", "alert_group_key"],
                condition=~Q(status="resolved") & ~Q(alert_group_key=""),
                name="incident_one_open_per_alert_group",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "severity"]),
            models.Index(fields=["integration", "alert_group_key"], name="incident_alert_group_idx"),
            # The API's default order and cursor (-detected_at, -id) and its time-range filters.
            models.Index(fields=["detected_at", "id"], name="incident_detected_id_idx"),
            models.Index(fields=["started_at"], name="incident_started_idx"),
            models.Index(fields=["resolved_at"], name="incident_resolved_idx"),
            models.Index(fields=["updated_at"], name="incident_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.title}"

    @property
    def public_id(self) -> str:
        """The id people say and type, e.g. ``INC-42`` (``public_id_for``)."""
        return public_id_for(self.pk)

    @property
    def needs_acknowledgement(self) -> bool:
        """Whether it still waits for someone to acknowledge it: ``IncidentQuerySet.needing_acknowledgement``'s
        rule for this one incident (its Slack card offers Acknowledge only then)."""
        return needs_acknowledgement(self.status)

    # --- Transitions (django-fsm-2). Pure state changes: the services lock, place the time, save and append
    # the timeline entry (incidents.services).

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
    def time_to_detect_seconds(self) -> float | None:
        """detected_at - started_at: for an alert-made incident, how long after its startsAt sredesk received it."""
        return self._seconds(self.started_at, self.detected_at)

    @property
    def mtta_seconds(self) -> float | None:
        """Time to acknowledge: acknowledged_at - detected_at (an alert's detection is its receipt, never backdated)."""
        return self._duration("time_to_acknowledge")

    @property
    def time_to_mitigate_seconds(self) -> float | None:
        """mitigated_at - started_at."""
        return self._duration("time_to_mitigate")

    @property
    def mttr_seconds(self) -> float | None:
        """Time to resolve: resolved_at - started_at."""
        return self._duration("time_to_resolve")

    def _duration(self, name: str) -> float | None:
        """Duration ``name`` of ``incidents.querysets.DURATIONS`` for this row."""
        start, end = DURATIONS[name]
        return self._seconds(getattr(self, start), getattr(self, end))


class TimelineEvent(models.Model):
    """One append-only entry on an incident's timeline: who did what, when, from where.

    ``announcement``/``announced_at`` are the one bookkeeping exception: a
    worker stamps ``announced_at`` (a queryset update) once it has sent the
    announcement the entry asked for; the entry itself never changes.
    """

    class Kind(models.TextChoices):
        STATUS_CHANGE = "status_change", "Status change"
        NOTE = "note", "Note"
        ALERT = "alert", "Alert"
        NOTIFICATION = "notification", "Notification sent"
        ROLE_CHANGE = "role_change", "Role change"
        SEVERITY_CHANGE = "severity_change", "Severity change"
        POSTMORTEM = "postmortem", "Post-mortem"
        EDIT = "edit", "Edit"

    # No index of its own: the (incident, at) index serves every lookup by incident (one index less per entry).
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline", db_index=False)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.SYSTEM)
    message = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    announcement = models.CharField(
        max_length=100, blank=True, help_text="Headline announced to the team and the paged person, if any."
    )
    announced_at = models.DateTimeField(null=True, blank=True, help_text="When a worker sent the announcement.")

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["incident", "at"]),
            models.Index(
                fields=["id"],
                condition=Q(announced_at__isnull=True) & ~Q(announcement=""),
                name="timeline_unannounced_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}: {self.message[:60]}"

    def save(self, *args, **kwargs) -> None:
        """Insert only: the timeline is an audit trail, so an existing entry never changes."""
        if self.pk is not None and not self._state.adding:
            raise ValueError("Timeline events are append-only.")
        super().save(*args, **kwargs)

    @property
    def byline(self) -> str:
        """What kind of entry, who made it and through which door, as every copy of a timeline shows it.

        "Role change · Noah Williams via Web UI"; with no person, the door alone ("Status change · System"),
        left out when it only repeats the kind ("Alert"). The incident page and the post-mortem's copy
        (``postmortems.services.timeline_markdown``) both show this, after the entry's time.
        """
        kind, source = self.get_kind_display(), self.get_source_display()
        if self.actor is not None:
            return f"{kind} · {self.actor} via {source}"
        return kind if source == kind else f"{kind} · {source}"


class SideEffect(models.Model):
    """An optional side effect an incident change owes (``incidents.effects``), pending until a worker has done it.

    Written in the transaction of the change that owes it, so it is never
    lost; done after commit by the ``incidents.side_effect`` task, and retried
    by the ``incidents.side_effects_recover`` sweep from ``next_attempt_at``
    (back-off after each failure) until it succeeds. One row per incident and
    kind. While pending, its attempts and last error show on the incident
    page, in the admin and in ``/metrics``. Announcements are the other
    after-commit effect; they are pending on their timeline entry
    (``TimelineEvent.announced_at``) instead, since the alert webhook writes them.
    """

    class Kind(models.TextChoices):
        POSTMORTEM_DRAFT = "postmortem_draft", "Post-mortem draft"
        INCIDENT_CHANNEL = "incident_channel", "Slack incident channel"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="side_effects", db_index=False)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now, help_text="When the change that owes it committed.")
    next_attempt_at = models.DateTimeField(default=timezone.now, help_text="When the sweep may queue it again.")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["incident", "kind"], name="side_effect_one_per_incident_kind")]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(done_at__isnull=True), name="side_effect_pending_idx")
        ]

    def __str__(self) -> str:
        attempts = ngettext("attempt", "attempts", self.attempts)
        state = "done" if self.done_at else f"pending, {self.attempts} {attempts}"
        return f"{self.get_kind_display()} of {public_id_for(self.incident_id)} ({state})"

    @property
    def pending(self) -> bool:
        return self.done_at is None
