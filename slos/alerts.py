"""Burn alerts enter sredesk through its own alert ingestion, as alerts of the integration of kind ``slo``.

So a burn alert groups, dedups and resolves like any alert
(``incidents.ingest``): its fingerprint is stable per SLO and rule
(``slo-<id>-<rule>``), its group key per SLO (``slo:<id>``: all rules of one
SLO make one incident), and its ``service`` label routes the incident to the
SLO's service. Severity labels are ``page`` (the fast and slow page rules),
``ticket`` and ``warning`` (the SLI is absent); the integration's severity
map turns them into SEV numbers (``SEVERITY_MAP`` when sredesk creates it).
Each delivery keeps a receipt like a webhook's, its body the JSON of what was
sent.
"""

import datetime as dt
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse

from incidents.alert_formats.common import FIRING, RESOLVED, AlertBatch, AlertEvent
from incidents.ingest.alerts import ingest_alert_batch
from incidents.integrations import integration_create
from incidents.models import Integration, WebhookDelivery
from sredesk.templatetags.sredesk_ui import percent

from .models import SLO, BurnAlert
from .windows import BURN_RULES, Window, window_name

INTEGRATION_NAME = "SLO burn alerts"
SEVERITY_MAP = {"page": 2, "ticket": 3, "warning": 4}
PAGE_RULES = tuple(rule.name for rule in BURN_RULES if rule.severity == "page")
ABSENT = "absent"
USER_AGENT = "sredesk-slo-evaluator"


def slo_integration() -> Integration:
    """The integration burn alerts arrive through: the oldest enabled one of kind ``slo``, created when none exists.

    Created with ``SEVERITY_MAP``; people may then change its severity map,
    resolve mode and re-open window in the admin like any integration's.
    """
    found = Integration.objects.filter(kind=Integration.Kind.SLO, enabled=True).order_by("pk").first()
    if found is not None:
        return found
    try:  # its token is never used: the slo kind takes no webhook deliveries
        integration, _ = integration_create(
            integration=Integration(kind=Integration.Kind.SLO, name=INTEGRATION_NAME, severity_map=SEVERITY_MAP)
        )
    except (IntegrityError, ValidationError):  # a concurrent evaluation created it first (the name is unique)
        found = Integration.objects.filter(name=INTEGRATION_NAME).first()
        if found is None:
            raise
        return found
    return integration


def fingerprint(slo: SLO, rule: str) -> str:
    """The alert's stable identity per SLO and rule (at most 64 characters: ids and rule names are short)."""
    return f"slo-{slo.pk}-{rule}"


def group_key(slo: SLO) -> str:
    return f"slo:{slo.pk}"


def _describe(slo: SLO, rule: str, window: Window) -> tuple[str, str, str]:
    """(severity label, summary, description) of one rule's alert."""
    if rule == ABSENT:
        return (
            "warning",
            f"SLI absent: {slo.name} ({slo.service.name})",
            f"No SLI data has arrived for {slo.name} for {slo.absent_after_seconds // 60} minutes or more. Missing "
            "data is not counted as good: until it returns the SLO cannot tell its budget.",
        )
    burn = next(r for r in BURN_RULES if r.name == rule)
    threshold = burn.threshold(window.seconds)
    return (
        burn.severity,
        f"{slo.name} ({slo.service.name}) burns its error budget {threshold:.3g}x too fast",
        f"Burn rate at or above {threshold:.3g} over the last {window_name(burn.long_seconds)} and the last "
        f"{window_name(burn.short_seconds)}: at this rate {percent(burn.budget_fraction, 0)} of the budget of the "
        f"{slo.window_label} burns within {window_name(burn.long_seconds)} (SLO {slo.target_percent}).",
    )


def _event(slo: SLO, alert: BurnAlert, window: Window) -> AlertEvent:
    severity, summary, description = _describe(slo, alert.rule, window)
    return AlertEvent(
        fingerprint=fingerprint(slo, alert.rule),
        status=FIRING if alert.firing else RESOLVED,
        starts_at=alert.starts_at,
        ends_at=None if alert.firing else alert.ends_at,
        labels={
            "alertname": "SLODataAbsent" if alert.rule == ABSENT else "SLOBurnRate",
            "service": slo.service.slug,
            "slo": slo.slug,
            "rule": alert.rule,
            "severity": severity,
        },
        annotations={"summary": summary, "description": description},
        generator_url=settings.SREDESK_BASE_URL + reverse("slos:slo", args=[slo.pk]),
    )


def send_changes(slo: SLO, changes: dict[str, bool], window: Window, now: dt.datetime) -> int:
    """Record and ingest this SLO's alert changes (rule -> firing now?); returns how many were sent.

    Call inside a transaction: the rule rows are locked, re-read and only the
    changes still pending are recorded and handed to ingestion, so two
    evaluations at once send each change once; if ingestion raises, nothing
    is recorded and the next evaluation sends it again.
    """
    for rule in changes:
        BurnAlert.objects.get_or_create(slo=slo, rule=rule)
    rows = {a.rule: a for a in BurnAlert.objects.select_for_update().filter(slo=slo, rule__in=list(changes))}
    sent = []
    for rule, firing in changes.items():
        alert = rows[rule]
        if alert.firing == firing:
            continue  # another evaluation recorded it first
        alert.firing, alert.changed_at = firing, now
        if firing:
            alert.starts_at, alert.ends_at = now, None
        else:
            alert.ends_at = now
        alert.save(update_fields=["firing", "starts_at", "ends_at", "changed_at"])
        sent.append(alert)
    if not sent:
        return 0
    integration = slo_integration()
    batch = AlertBatch(group_key=group_key(slo), alerts=[_event(slo, alert, window) for alert in sent])
    body = json.dumps(
        {"group_key": batch.group_key, "alerts": [_as_json(event) for event in batch.alerts]}, sort_keys=True
    ).encode()
    delivery = WebhookDelivery(integration=integration, body=body, headers={"User-Agent": USER_AGENT})
    ingest_alert_batch(integration=integration, batch=batch, delivery=delivery)
    return len(sent)


def _as_json(event: AlertEvent) -> dict:
    return {
        "fingerprint": event.fingerprint,
        "status": event.status,
        "starts_at": event.starts_at.isoformat() if event.starts_at else None,
        "ends_at": event.ends_at.isoformat() if event.ends_at else None,
        "labels": event.labels,
        "annotations": event.annotations,
        "url": event.generator_url,
    }
