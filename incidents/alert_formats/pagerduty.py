"""PagerDuty V3 webhook events (FORMATS.md (c)): ``{"event": {...}}``, incident events only.

Source: PagerDuty's V3 webhook docs and go-pagerduty ``webhookv3``.
"""

from dataclasses import dataclass
from datetime import datetime

from .common import ROOT, PayloadError, as_text, optional_str, parse_time, show


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


PAGERDUTY_NOTE_TYPES = {"incident_note": "content", "incident_status_update": "message"}


def _reference_name(value: object) -> str:
    """A PagerDuty reference's display name (references carry ``summary``, full objects ``name``)."""
    if not isinstance(value, dict):
        return ""
    return as_text(value.get("summary") or value.get("name") or "")


def parse_pagerduty(payload: object) -> PagerDutyEvent | None:
    """A PagerDuty V3 webhook body (FORMATS.md (c)) as a ``PagerDutyEvent``; ``None`` if not about an incident.

    Shape: ``{"event": {"id", "event_type", "resource_type", "occurred_at", "agent", "client",
    "data"}}``; source: PagerDuty's V3 webhook docs and go-pagerduty ``webhookv3``. Events whose
    ``resource_type`` is not ``incident`` or whose ``event_type`` does not start with
    ``incident.`` (``service.*``, ``pagey.ping``) return ``None``: acknowledge and ignore them.

    ``data`` is the incident when ``data.type`` is ``incident`` (or absent). Otherwise (notes,
    status updates, responder requests, conference bridges, workflows) the incident is the
    reference ``data.incident`` (``id``, ``summary`` -> ``title``, ``html_url``), and for
    ``incident_note`` / ``incident_status_update`` the ``note`` is ``content`` / ``message``
    (``trimmed: true`` means PagerDuty shortened it; the text is kept as sent).
    ``priority``: ``data.priority.summary`` ("P1") or "" for null; ``agent`` may be null
    (-> ``agent_name`` ""); ``assignees`` is not read (it is ``[]`` after resolve).

    Raises ``PayloadError`` naming the field for a body that is not an object, a missing
    ``event``/``event.id``/``event.event_type``/``event.data``/incident id, or an
    ``event.occurred_at`` that is missing or not an RFC 3339 time.
    """
    if not isinstance(payload, dict):
        raise PayloadError(ROOT, f"expected a JSON object, got {type(payload).__name__}")
    event = payload.get("event")
    if not isinstance(event, dict):
        raise PayloadError("event", "missing" if event is None else "expected an object")
    event_type = optional_str(event, "event_type", "event.event_type")
    if not event_type:
        raise PayloadError("event.event_type", "missing")
    resource_type = optional_str(event, "resource_type", "event.resource_type")
    if resource_type not in ("", "incident") or not event_type.startswith("incident."):
        return None
    event_id = optional_str(event, "id", "event.id")
    if not event_id:
        raise PayloadError("event.id", "missing")
    occurred_at = parse_time(event.get("occurred_at"), "event.occurred_at")
    if occurred_at is None:
        raise PayloadError("event.occurred_at", "missing or unset")
    data = event.get("data")
    if not isinstance(data, dict):
        raise PayloadError("event.data", "missing" if data is None else "expected an object")

    data_type = optional_str(data, "type", "event.data.type")
    note = ""
    if data_type in ("", "incident"):
        incident, prefix = data, "event.data"
    else:
        incident, prefix = data.get("incident"), "event.data.incident"
        if not isinstance(incident, dict):
            raise PayloadError(prefix, f"missing: a {data_type} event must reference its incident")
        note_key = PAGERDUTY_NOTE_TYPES.get(data_type)
        if note_key:
            note = optional_str(data, note_key, f"event.data.{note_key}")
    incident_id = optional_str(incident, "id", f"{prefix}.id")
    if not incident_id:
        raise PayloadError(f"{prefix}.id", "missing")
    number = incident.get("number")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        raise PayloadError(f"{prefix}.number", f"expected an integer, got {show(number)}")
    return PagerDutyEvent(
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        incident_id=incident_id,
        incident_number=number,
        title=optional_str(incident, "title", f"{prefix}.title") or _reference_name(incident),
        status=optional_str(incident, "status", f"{prefix}.status"),
        urgency=optional_str(incident, "urgency", f"{prefix}.urgency"),
        priority=_reference_name(incident.get("priority")),
        html_url=optional_str(incident, "html_url", f"{prefix}.html_url"),
        service_name=_reference_name(incident.get("service")),
        note=note,
        agent_name=_reference_name(event.get("agent")),
    )
