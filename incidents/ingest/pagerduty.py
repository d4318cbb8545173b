"""PagerDuty V3 events applied to the incident that mirrors their PagerDuty incident (FORMATS.md (c)).

Deduplicated on ``event.id`` (a unique constraint on the receipt, stored with the event's effects in one
transaction: of two concurrent deliveries of one event, one rolls back and is retried as a replay); events
arrive in any order, and a move the lifecycle refuses is recorded on the
receipt as ignored.
"""

import logging

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import slugify

from ownership.models import Service

from .. import services
from ..alert_formats.pagerduty import PagerDutyEvent
from ..models import Integration, Severity, Source, WebhookDelivery
from ..update import incident_set_severity
from .grouping import group_incident, group_storage_key
from .receipts import IngestResult, Outcome, retrying, save_receipt

logger = logging.getLogger(__name__)


# Event types whose ``data`` is the incident itself, so an incident we never saw can be created from it.
PAGERDUTY_INCIDENT_EVENTS = {
    "incident.triggered",
    "incident.acknowledged",
    "incident.unacknowledged",
    "incident.escalated",
    "incident.reassigned",
    "incident.reopened",
    "incident.delegated",
    "incident.priority_updated",
}
PAGERDUTY_NOTES = {
    "incident.annotated": "PagerDuty note",
    "incident.status_update_published": "PagerDuty status update",
}
PAGERDUTY_PRIORITIES = {
    "P1": Severity.SEV1,
    "P2": Severity.SEV2,
    "P3": Severity.SEV3,
    "P4": Severity.SEV4,
    "P5": Severity.SEV4,
}
PAGERDUTY_URGENCIES = {"high": Severity.SEV2, "low": Severity.SEV3}


def pagerduty_severity(event: PagerDutyEvent) -> int | None:
    """P1 -> SEV1 ... P4/P5 -> SEV4; without a priority, urgency high -> SEV2, low -> SEV3; else None."""
    priority = event.priority.strip().upper()
    if priority in PAGERDUTY_PRIORITIES:
        return PAGERDUTY_PRIORITIES[priority]
    return PAGERDUTY_URGENCIES.get(event.urgency.strip().lower())


def ingest_pagerduty_event(
    *, integration: Integration, event: PagerDutyEvent | None, delivery: WebhookDelivery
) -> IngestResult:
    """Apply one PagerDuty V3 event to the incident that mirrors its PagerDuty incident; save the receipt.

    Deduplicated on ``event.id`` (a unique constraint on the receipt): a replay
    is a no-op answered like the first. Events arrive in any order; a move the
    lifecycle refuses (an old acknowledge after the resolve) is recorded on the
    receipt as ignored, not raised. ``event`` None (a non-incident event) is
    acknowledged and ignored.
    """
    if event is None:
        result = IngestResult(outcome=Outcome.IGNORED, note="not an incident event")
        save_receipt(delivery, result)
        return result

    event_id = event.event_id[:100]

    def apply() -> IngestResult:
        first = WebhookDelivery.objects.filter(integration=integration, event_id=event_id).only("result").first()
        if first is not None:
            delivery.event_id = ""  # this receipt is the replay's, not the event's
            return IngestResult(
                outcome=Outcome.DUPLICATE,
                incidents=list((first.result or {}).get("incidents", [])),
                note=f"event {event.event_id} already received",
            )
        # The receipt, stored with the event id at the end of this transaction, claims the event: a concurrent
        # delivery of it collides on the unique constraint, rolls back whole and is retried, finding this one.
        delivery.event_id = event_id
        return _apply_pagerduty(integration, event)

    return retrying(apply, delivery)


def _pagerduty_service(integration: Integration, name: str) -> Service | None:
    if name:
        found = Service.objects.filter(Q(slug=slugify(name)) | Q(name__iexact=name)).select_related("team").first()
        if found:
            return found
    return integration.default_service


def _apply_pagerduty(integration: Integration, event: PagerDutyEvent) -> IngestResult:
    key = group_storage_key(event.incident_id)
    kind = event.event_type
    incident = group_incident(integration, key)
    created = False
    if incident is None:
        if kind not in PAGERDUTY_INCIDENT_EVENTS or event.status == "resolved":
            # BR-01: never create an incident already in a terminal state, and never page for one.
            return IngestResult(
                outcome=Outcome.ORPHAN, note=f"{kind} for PagerDuty incident {event.incident_id}, which we never saw"
            )
        incident = services.incident_declare(
            title=(event.title or f"PagerDuty incident {event.incident_number or event.incident_id}")[:300],
            severity=pagerduty_severity(event) or integration.default_severity,
            actor=None,
            source=Source.ALERT,
            summary=f"PagerDuty: {event.html_url}" if event.html_url else "",
            primary_service=_pagerduty_service(integration, event.service_name),
            started_at=event.occurred_at,
            detected_at=event.occurred_at,
            integration=integration,
            alert_group_key=key,
            announce=kind == "incident.triggered",  # learnt late from another event: no "declared" page
        )
        created = True
    result = IngestResult(outcome=Outcome.ACCEPTED, incidents=[incident.public_id])
    at = max(event.occurred_at, incident.detected_at)  # an event older than our record of the incident
    common = {"incident_id": incident.pk, "actor": None, "source": Source.ALERT}
    try:
        if kind == "incident.acknowledged" or (created and event.status == "acknowledged"):
            services.incident_acknowledge(**common, at=at)
        elif kind == "incident.resolved":
            services.incident_resolve(**common, at=max(at, incident.mitigated_at or at))
        elif kind == "incident.reopened":
            services.incident_reopen(**common, at=at)
        elif kind in ("incident.priority_updated", "incident.escalated"):
            severity = PAGERDUTY_PRIORITIES.get(event.priority.strip().upper())
            if severity is not None:
                incident_set_severity(incident_id=incident.pk, severity=severity, actor=None, source=Source.ALERT)
        elif kind in PAGERDUTY_NOTES:
            author = f" by {event.agent_name}" if event.agent_name else ""
            services.incident_add_note(**common, text=f"{PAGERDUTY_NOTES[kind]}{author}: {event.note}")
        elif kind == "incident.triggered" and not created:
            result.outcome, result.note = Outcome.DUPLICATE, f"PagerDuty incident {event.incident_id} is known"
        elif not created:
            result.outcome, result.note = Outcome.IGNORED, f"{kind} is not mapped"
    except ValidationError as exc:  # InvalidTransition included: e.g. an older acknowledge after the resolve
        result.outcome, result.note = Outcome.IGNORED, " ".join(exc.messages)
        logger.info(
            "PagerDuty event refused by the incident lifecycle",
            extra={"event_id": event.event_id, "incident": incident.public_id, "reason": result.note},
        )
    return result
