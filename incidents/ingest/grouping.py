"""Which incident new alerts belong to, and when an incident's alerts have all ended.

Alerts of one sender group key form one incident (at most one open: a partial
unique constraint), routed to the service named by the integration's service
label (else its default service). A new firing alert joins the group's open
incident, re-opens its last one within the integration's re-open window, or
declares a new one; every move goes through the lifecycle services (source
ALERT), which announce after commit.
"""

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import connection

from ownership.models import Service
from sredesk import sql

from .. import services
from ..alert_formats.common import AlertBatch, AlertEvent
from ..models import Alert, Incident, Integration, Source
from ..update import incident_set_severity

if TYPE_CHECKING:
    from .matching import Match

# Group keys are opaque and usually short; a longer one is stored as its hash (same identity, bounded index).
MAX_GROUP_KEY_LENGTH = 500


def group_storage_key(group_key: str) -> str:
    """The group key as stored: itself, or ``sha256:<hex>`` of it when it is longer than the column allows."""
    if len(group_key) <= MAX_GROUP_KEY_LENGTH:
        return group_key
    return "sha256:" + hashlib.sha256(group_key.encode()).hexdigest()


def label_value(event: AlertEvent, name: str, batch: AlertBatch) -> str:
    """The value of label ``name`` for ``event``: its own, else the delivery's common labels', else ""."""
    return event.labels.get(name) or batch.common_labels.get(name) or ""


def routes(integration: Integration, batch: AlertBatch, events: list[AlertEvent]) -> list[Service | None]:
    """The routing rule, the one place it is written: each event's service.

    The value of the integration's service label (``label_value``) names a
    Service by slug; when it names none (or there is no such label), the
    integration's default service, which may be None. One query for the slugs.
    """
    slugs = [label_value(event, integration.service_label, batch) for event in events]
    known = {s.slug: s for s in Service.objects.filter(slug__in={s for s in slugs if s}).select_related("team")}
    if any(slug not in known for slug in slugs):
        known.update({slug: integration.default_service for slug in slugs if slug not in known})
    return [known[slug] for slug in slugs]


OPEN_FIRST = "ORDER BY CASE WHEN status = 'resolved' THEN 1 ELSE 0 END, resolved_at DESC, id DESC LIMIT 1"


def group_incident(integration: Integration, group_key: str) -> Incident | None:
    """The group's open incident if any (at most one: a constraint), else its most recently resolved one."""
    found = sql.select(
        Incident,
        "integration_id = %s AND alert_group_key = %s",
        [integration.pk, group_key],
        fields=("id", "status", "severity", "detected_at", "mitigated_at", "resolved_at"),
        tail=OPEN_FIRST,
    )
    return found[0] if found else None


def incident_for_new_alerts(
    integration: Integration,
    batch: AlertBatch,
    group_key: str,
    firing: list["Match"],
    attached: set[tuple[int | None, str]],
    received_at: datetime,
) -> Incident:
    """The incident new firing alerts (``matching.Match`` of kind NEW) join: the group's open one, its last one
    re-opened, or a new one.

    ``attached``: (incident id, service label value) of the batch's alerts already in an incident.
    A new incident's ``started_at`` is the earliest ``startsAt`` (when impact
    began, by the sender's clock) and its ``detected_at`` is ``received_at``,
    when sredesk received the delivery (aware UTC): an alert delivered late
    (sredesk or the sender down, a backlog, a replay) is not backdated, so
    time to acknowledge (MTTA, from ``detected_at``) counts only the time
    people could have known. ``lifecycle_time`` keeps started ≤ detected.
    """
    events = [match.event for match in firing]
    first_start = min(match.starts_at for match in firing)
    severity = min(integration.severity_for(label_value(event, integration.severity_label, batch)) for event in events)
    incident = group_incident(integration, group_key)
    if incident is not None and incident.status != Incident.Status.RESOLVED:
        if incident.status == Incident.Status.MITIGATED:  # impact is back: a new alert fired
            incident = services.incident_reopen(
                incident_id=incident.pk, actor=None, source=Source.ALERT, at=max(first_start, incident.mitigated_at)
            )
        return _join(integration, batch, incident, events, severity, attached)
    window = timedelta(seconds=integration.reopen_window_seconds)
    if incident is not None and first_start - incident.resolved_at < window:
        incident = services.incident_reopen(
            incident_id=incident.pk, actor=None, source=Source.ALERT, at=max(first_start, incident.resolved_at)
        )
        return _join(integration, batch, incident, events, severity, attached)
    services_of = routes(integration, batch, events)
    first = events[0]
    incident = services.incident_declare(
        title=first.name[:300],
        severity=severity,
        actor=None,
        source=Source.ALERT,
        summary=first.annotations.get("description", ""),
        primary_service=services_of[0],
        services=[s for s in services_of if s is not None],
        started_at=first_start,
        detected_at=received_at,
        # The partial unique constraint bites here when a concurrent delivery declared the group's incident first.
        integration=integration,
        alert_group_key=group_key,
    )
    return incident


def _join(
    integration: Integration,
    batch: AlertBatch,
    incident: Incident,
    events: list[AlertEvent],
    severity: int,
    attached: set[tuple[int | None, str]],
) -> Incident:
    """New alerts join an open incident: their services (``routes``) become affected services; a worse severity
    escalates it.

    A service label already carried by one of the incident's alerts in this batch was attached when that alert
    joined, so only the others are routed and written (one INSERT that skips the pairs already there).
    """
    unattached = [
        event for event in events if (incident.pk, label_value(event, integration.service_label, batch)) not in attached
    ]
    if unattached:
        through = Incident.services.through
        service_ids = {service.pk for service in routes(integration, batch, unattached) if service is not None}
        through.objects.bulk_create(
            [through(incident_id=incident.pk, service_id=pk) for pk in sorted(service_ids)], ignore_conflicts=True
        )
    if severity < incident.severity:
        incident = incident_set_severity(incident_id=incident.pk, severity=severity, actor=None, source=Source.ALERT)
    return incident


# Whether an incident's alerts have all resolved, and when the last one ended: one round trip.
SETTLE_STATE = (
    "SELECT status, detected_at, mitigated_at, "
    "(SELECT COUNT(*) FROM incidents_alert WHERE incident_id = %s AND status = 'firing'), "
    "(SELECT MAX(ends_at) FROM incidents_alert WHERE incident_id = %s) "
    "FROM incidents_incident WHERE id = %s"
)


def settle(integration: Integration, incident_id: int) -> None:
    """Resolve (or mitigate) an incident whose alerts have all resolved, at the last alert's end."""
    with connection.cursor() as cursor:
        cursor.execute(SETTLE_STATE, [incident_id] * 3)
        status, detected_at, mitigated_at, firing, last_end = cursor.fetchone()
    if firing or last_end is None or status == Incident.Status.RESOLVED:
        return
    detected_at = sql.to_python(Incident, "detected_at", detected_at)
    mitigated_at = sql.to_python(Incident, "mitigated_at", mitigated_at)
    at = max(sql.to_python(Alert, "ends_at", last_end), detected_at)
    if integration.resolve_mode == Integration.ResolveMode.MITIGATE:
        if status != Incident.Status.MITIGATED:
            services.incident_mitigate(incident_id=incident_id, actor=None, source=Source.ALERT, at=at)
        return
    # A person may have recorded a mitigation after the alerts ended: resolution cannot precede it.
    services.incident_resolve(incident_id=incident_id, actor=None, source=Source.ALERT, at=max(at, mitigated_at or at))
