"""Parsers for inbound alert payloads: raw JSON in, normalised alert events out.

Pure functions (no database), one per sender. Each returns an ``AlertBatch``
(or ``PagerDutyEvent``) or raises ``PayloadError`` naming the offending field.
Sources and quirks: ../shared/FORMATS.md sections (a) Alertmanager webhook v4,
(b) Grafana alerting webhook, (c) PagerDuty V3 webhooks.

INTERFACE CONTRACT (shared by the parser and the ingestion code; keep stable).
"""

from dataclasses import dataclass, field
from datetime import datetime


class PayloadError(ValueError):
    """A payload we cannot use. ``field`` is a dotted path such as ``alerts[2].startsAt``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class AlertEvent:
    """One alert as the sender reported it in one delivery.

    ``fingerprint``: the sender's (Alertmanager/Grafana 16 hex digits) or, when
    absent, our own: the first 16 hex digits of sha256 over the sorted labels.
    ``status``: "firing" or "resolved" (taken from the group when the alert
    has none). Times are aware UTC; ``None`` means unset (Go's zero time
    ``0001-01-01T00:00:00Z``, epoch 0, empty string).
    """

    fingerprint: str
    status: str
    starts_at: datetime | None
    ends_at: datetime | None
    labels: dict[str, str]
    annotations: dict[str, str]
    generator_url: str = ""

    @property
    def name(self) -> str:
        """A human title: the summary annotation, else the alertname label, else the fingerprint."""
        return self.annotations.get("summary") or self.labels.get("alertname") or self.fingerprint


@dataclass(frozen=True)
class AlertBatch:
    """One webhook delivery from Alertmanager, Grafana or the generic format.

    ``group_key``: the sender's group key (opaque; never parsed), or one we
    derive for senders without one. ``truncated``: alerts the sender dropped
    (``truncatedAlerts``); when above 0 the batch is incomplete and must not
    be taken to mean "all resolved". ``is_test``: Grafana's test notification
    (labels alertname=TestAlert, instance=Grafana), which opens no incident.
    """

    group_key: str
    alerts: list[AlertEvent]
    truncated: int = 0
    is_test: bool = False
    receiver: str = ""
    external_url: str = ""
    common_labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PagerDutyEvent:
    """One PagerDuty V3 webhook event (``{"event": {...}}``), incident events only.

    ``event_id`` is the idempotency key. ``incident_id``/``incident_number``
    are PagerDuty's. For ``incident.annotated`` and
    ``incident.status_update_published`` ``note`` holds the text and the
    incident fields come from ``data.incident`` (a reference).
    ``priority`` is like "P1" or "" and ``urgency`` "high"/"low"/"".
    """

    event_id: str
    event_type: str
    occurred_at: datetime
    incident_id: str
    incident_number: int | None = None
    title: str = ""
    status: str = ""
    urgency: str = ""
    priority: str = ""
    html_url: str = ""
    service_name: str = ""
    note: str = ""
    agent_name: str = ""
