"""Incidents, their append-only timelines, and the alert integrations that open them.

``lifecycle``: severities, sources, incidents, timeline entries, side effects.
``alerts``: integrations, alerts, webhook receipts.
"""

from .alerts import Alert, Integration, WebhookDelivery, default_severity_map
from .lifecycle import Incident, Severity, SideEffect, Source, TimelineEvent

__all__ = [
    "Alert",
    "Incident",
    "Integration",
    "Severity",
    "SideEffect",
    "Source",
    "TimelineEvent",
    "WebhookDelivery",
    "default_severity_map",
]
