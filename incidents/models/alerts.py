"""Alert ingestion: integrations (one configured alert source each), alerts, and raw webhook receipts."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ownership.models import Service
from sredesk.tokens import fernet as _fernet
from sredesk.tokens import new_token, token_matches

from .lifecycle import Incident, Severity


def default_severity_map() -> dict[str, int]:
    return {"critical": 1, "page": 1, "error": 2, "high": 2, "warning": 3, "warn": 3, "info": 4, "low": 4}


class Integration(models.Model):
    """One configured alert source (an Alertmanager receiver, a Grafana contact point, a PagerDuty subscription).

    Its webhook URL is ``/hooks/<public_id>/``. Requests authenticate with a
    bearer token whose sha256 is stored (the token itself is shown once, at
    creation or rotation), or, for PagerDuty and Grafana with a signing secret,
    with the sender's HMAC signature. The signing secret is stored encrypted
    (Fernet, ``SREDESK_ENCRYPTION_KEY``) because verifying needs it in clear.
    """

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
        GRAFANA = "grafana", "Grafana alerting"
        PAGERDUTY = "pagerduty", "PagerDuty (V3 webhooks)"
        GENERIC = "generic", "Generic JSON"
        SLO = "slo", "SLO burn alerts (sredesk's own; no webhook)"

    class ResolveMode(models.TextChoices):
        RESOLVE = "resolve", "Resolve the incident"
        MITIGATE = "mitigate", "Mark mitigated; a person resolves"

    # The senders that sign their requests, so the only kinds a signing secret means anything for: the webhook checks
    # a signature for these alone (incidents.alert_formats.signatures.authenticate; PagerDuty V3 X-PagerDuty-Signature,
    # Grafana's X-Grafana-Alert-Signature). Alertmanager and the generic format sign nothing.
    SIGNED_KINDS = (Kind.PAGERDUTY, Kind.GRAFANA)
    # How an integration's alerts become incidents, as people set it: the admin's form edits these, the API shows
    # them (in this order).
    ROUTING_FIELDS = (
        "default_service",
        "service_label",
        "severity_label",
        "severity_map",
        "default_severity",
        "resolve_mode",
        "reopen_window_seconds",
    )
    # Which of its incidents earn a post-mortem draft (postmortems.decline.draft_needed): the
    # admin's form and the API's PATCH (staff) edit these.
    POSTMORTEM_FIELDS = ("postmortem_min_duration_seconds", "postmortem_requires_ack")
    # A week: an incident that lasted longer than any gate above this is not a flapping alert.
    MAX_POSTMORTEM_MIN_DURATION_SECONDS = 7 * 24 * 3600

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name="public id")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=120, unique=True)
    token_hash = models.CharField(max_length=64, editable=False, help_text="sha256 hex of the bearer token.")
    token_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    signing_secret_encrypted = models.TextField(blank=True, editable=False)
    default_service = models.ForeignKey(
        Service,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Used when no alert label names a known service.",
    )
    service_label = models.CharField(
        max_length=100, default="service", help_text="Alert label whose value is a service slug."
    )
    postmortem_min_duration_seconds = models.PositiveIntegerField(
        default=300,
        help_text="An incident this integration opened earns a post-mortem draft only if it lasted at least this "
        "long (started to resolved, seconds): a flapping alert that resolves itself gets none. 0: always.",
    )
    postmortem_requires_ack = models.BooleanField(
        default=False,
        help_text="An incident this integration opened earns a post-mortem draft only if a person acknowledged it.",
    )
    severity_label = models.CharField(max_length=100, default="severity")
    severity_map = models.JSONField(
        default=default_severity_map,
        blank=True,
        help_text='Severity label value to SEV number, e.g. {"critical": 1, "warning": 3}.',
    )
    default_severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.SEV3)
    resolve_mode = models.CharField(
        max_length=16,
        choices=ResolveMode.choices,
        default=ResolveMode.RESOLVE,
        help_text="What happens when every alert of an incident has resolved.",
    )
    reopen_window_seconds = models.PositiveIntegerField(
        default=3600,
        help_text="An alert that fires again less than this long after its incident resolved re-opens it; "
        "later it opens a new incident.",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # --- credentials

    def set_new_token(self) -> str:
        """Generate a bearer token, keep only its hash, and return it (show it once; it is not stored)."""
        token, self.token_hash = new_token("sdhook")
        self.token_rotated_at = timezone.now()
        return token

    def check_token(self, token: str) -> bool:
        """Constant-time comparison of the token's hash with the stored one."""
        return token_matches(token, self.token_hash)

    @property
    def signing_secret(self) -> str:
        """The signing secret in clear ("" when none). Raises cryptography's InvalidToken on a wrong key."""
        if not self.signing_secret_encrypted:
            return ""
        return _fernet().decrypt(self.signing_secret_encrypted.encode()).decode()

    @signing_secret.setter
    def signing_secret(self, value: str) -> None:
        self.signing_secret_encrypted = _fernet().encrypt(value.encode()).decode() if value else ""

    @property
    def has_signing_secret(self) -> bool:
        return bool(self.signing_secret_encrypted)

    @property
    def signs_requests(self) -> bool:
        """Whether this kind of sender signs its requests (``SIGNED_KINDS``), so a signing secret applies to it."""
        return self.kind in self.SIGNED_KINDS

    def clean(self) -> None:
        """The signing-secret rule and the post-mortem gate's bound, for every door (admin form,
        ``create_integration``, the services, the API).

        A signing secret on a kind that does not sign its requests would be
        stored and then ignored by the webhook, which for that kind checks the
        bearer token only: it would look like protection and be none. So it is
        refused (``ValidationError`` on ``signing_secret``), also when the kind
        of an integration that has one is changed.
        """
        super().clean()
        if (self.postmortem_min_duration_seconds or 0) > self.MAX_POSTMORTEM_MIN_DURATION_SECONDS:
            raise ValidationError(
                {
                    "postmortem_min_duration_seconds": f"At most {self.MAX_POSTMORTEM_MIN_DURATION_SECONDS} seconds "
                    "(7 days)."
                }
            )
        if self.has_signing_secret and not self.signs_requests:
            kinds = " and ".join(str(self.Kind(kind).label) for kind in self.SIGNED_KINDS)
            raise ValidationError(
                {
                    "signing_secret": f"A {self.get_kind_display()} integration takes no signing secret: only "
                    f"{kinds} sign their requests. Remove the secret; the bearer token authenticates."
                }
            )

    # --- routing

    @property
    def webhook_path(self) -> str:
        from django.urls import reverse

        return reverse("alert-webhook", args=[self.public_id])

    @property
    def webhook_url(self) -> str:
        return settings.SREDESK_BASE_URL + self.webhook_path

    def severity_for(self, value: str | None) -> int:
        """The SEV number for a severity label value (case-insensitive), else ``default_severity``."""
        if value:
            mapping = {str(k).strip().lower(): v for k, v in (self.severity_map or {}).items()}
            mapped = mapping.get(value.strip().lower())
            if isinstance(mapped, str) and mapped.upper().startswith("SEV"):
                mapped = mapped[3:]
            try:
                number = int(mapped) if mapped is not None else None
            except (TypeError, ValueError):
                number = None
            if number in Severity.values:
                return number
        return self.default_severity


class Alert(models.Model):
    """One alert identity: (integration, fingerprint, starts_at); an alert that fires again gets a new row.

    ``fingerprint`` is the sender's, except when another alert with different
    labels already holds (fingerprint, starts_at) — hand-written payloads reuse
    fingerprints — then it is our own hash of the labels. Repeats of the same
    delivery only bump ``last_seen_at`` and ``times_seen``. A resolved alert we
    never saw firing is kept with no incident (an orphan).
    """

    class Status(models.TextChoices):
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    # Neither foreign key has an index of its own: the identity and (incident, status) indexes lead with them,
    # and every alert webhook writes these rows (fewer indexes to maintain per insert and update).
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="alerts", db_index=False)
    fingerprint = models.CharField(max_length=64)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    name = models.CharField(max_length=300, help_text="The summary annotation, else the alertname label.")
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    generator_url = models.TextField(blank=True)
    group_key = models.CharField(max_length=600, blank=True)
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts", db_index=False
    )
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    times_seen = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "fingerprint", "starts_at"], name="alert_unique_identity"),
        ]
        indexes = [
            models.Index(fields=["incident", "status"], name="alert_incident_status_idx"),
            models.Index(fields=["starts_at", "id"], name="alert_starts_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def is_orphan(self) -> bool:
        return self.incident_id is None


class WebhookDelivery(models.Model):
    """One webhook request as received: the raw body bytes, a few headers, and what came of it.

    Kept for audit and so a fixed parser can re-read a payload; deleted after
    ``SREDESK_WEBHOOK_RETENTION_DAYS``. ``event_id`` is PagerDuty's
    ``event.id``, unique per integration, so a redelivered event is a no-op.
    """

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        DUPLICATE = "duplicate", "Duplicate (nothing new)"
        ORPHAN = "orphan", "Orphan (nothing to attach it to)"
        TEST = "test", "Test notification"
        IGNORED = "ignored", "Ignored (event not mapped or refused)"
        REJECTED = "rejected", "Rejected (bad payload)"
        ERROR = "error", "Error (server fault)"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="deliveries")
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    body = models.BinaryField(help_text="The request body exactly as received.")
    headers = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="Counts and incident ids of the response.")
    event_id = models.CharField(max_length=100, blank=True, help_text="PagerDuty event.id (the idempotency key).")

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "event_id"], condition=~Q(event_id=""), name="webhook_delivery_unique_event"
            ),
        ]
        indexes = [models.Index(fields=["outcome", "received_at"], name="webhook_delivery_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.integration}: {self.outcome}"
