"""Incidents, their append-only timelines, and the alert integrations that open them.

``lifecycle``: severities, sources, incidents, timeline entries, side effects.
``alerts``: integrations, alerts, webhook receipts.
``cards``: an incident's live Slack message per conversation.
"""

from .alerts import Alert, Integration, WebhookDelivery, default_severity_map
from .cards import IncidentCard
from .lifecycle import (
    PUBLIC_ID_PREFIX,
    Incident,
    Severity,
    SideEffect,
    Source,
    TimelineEvent,
    parse_public_id,
    public_id_for,
)

__all__ = [
    "PUBLIC_ID_PREFIX",
    "Alert",
    "Incident",
    "IncidentCard",
    "Integration",
    "Severity",
    "SideEffect",
    "Source",
    "TimelineEvent",
    "WebhookDelivery",
    "default_severity_map",
    "parse_public_id",
    "public_id_for",
]
