"""Alert ingestion: parsed Alertmanager, Grafana and generic payloads in, alerts and incident changes out.

The webhook view (``incidents.webhooks``) authenticates, keeps the raw bytes and
parses them with ``incidents.alert_formats``; ``ingest_alert_batch`` applies one
parsed Alertmanager, Grafana or generic delivery in ONE transaction, together
with its receipt row (``receipts``), so a delivery is either applied whole or
not at all. ``matching`` sorts the events against the stored alerts,
``grouping`` finds their incident; PagerDuty events are ``pagerduty``'s. Every incident state change
goes through the lifecycle services (``incidents.services``, source ALERT),
which announce after commit.

Identity and grouping (FORMATS.md (a), FIELD-CASES BR-01/04/05/07):

- An alert is (integration, fingerprint, starts_at), a unique constraint. When
  another alert with different labels already holds the sender's
  (fingerprint, startsAt) (hand-written payloads reuse fingerprints), the
  alert is stored under our own label fingerprint instead.
- All alerts of one sender group key belong to the group's one open incident
  (a partial unique constraint on Incident): a new firing alert attaches to it,
  re-opens the group's last incident if it resolved less than the
  integration's re-open window before the alert started, else declares a new one.
  A new incident starts at the alerts' earliest ``startsAt`` and is detected
  at the delivery's ``received_at`` (issue 15 item 4: never backdated).
- Each alert follows its own status, never the envelope's. A repeat bumps
  ``last_seen_at``/``times_seen`` only. When every alert of an incident has
  resolved (and the sender did not truncate the list) the incident resolves
  (or is mitigated, per the integration) at the last alert's ``endsAt``.
- A resolved alert never seen firing is kept as an orphan (no incident, no
  page); a firing that arrives later with ``startsAt`` at or before a stored
  resolution of the same alert is stale and changes nothing.

Race safety: two deliveries creating the same alert or the same group
incident collide on those unique constraints on PostgreSQL; the loser's whole
transaction rolls back (its on-commit announcements with it) and is retried
once, when it finds the winner's rows and becomes a repeat.
"""

import logging
from datetime import datetime

from django.db.models import F
from django.utils import timezone

from sredesk import sql

from .. import alert_labels
from ..alert_formats.common import AlertBatch, AlertEvent, fingerprint_for
from ..models import Alert, Incident, Integration, Source, TimelineEvent, WebhookDelivery
from ..timeline import timeline_append, timeline_entry
from . import grouping, matching
from .receipts import IngestResult, Outcome, public_ids, retrying, save_receipt

logger = logging.getLogger(__name__)

FIRING = Alert.Status.FIRING
RESOLVED = Alert.Status.RESOLVED


def ingest_alert_batch(*, integration: Integration, batch: AlertBatch, delivery: WebhookDelivery) -> IngestResult:
    """Apply one parsed Alertmanager/Grafana/generic delivery and save its receipt (``delivery``, unsaved).

    Idempotent: a replayed delivery only bumps ``last_seen_at``/``times_seen``.
    A Grafana test notification stores its receipt and nothing else. Raises
    nothing for orphan or stale alerts (they are counted); an IntegrityError
    escapes only if a retry collides again.
    """
    if batch.is_test:
        result = IngestResult(outcome=Outcome.TEST, note="test notification: no incident opened")
        save_receipt(delivery, result)
        return result
    return retrying(lambda: _apply_batch(integration, batch, delivery), delivery)


def _alert_row(
    integration: Integration,
    fingerprint: str,
    start: datetime,
    event: AlertEvent,
    group_key: str,
    now: datetime,
    incident_id: int | None,
) -> dict:
    """A new alert's row (every column the table requires), for ``sredesk.sql.insert``."""
    return {
        "integration_id": integration.pk,
        "fingerprint": fingerprint,
        "starts_at": start,
        "ends_at": max(event.ends_at or now, start) if event.status == RESOLVED else None,
        "status": event.status,
        "name": event.name[:300],
        "labels": event.labels,
        "annotations": event.annotations,
        "generator_url": event.generator_url,
        "group_key": group_key,
        "incident_id": incident_id,
        "first_seen_at": now,
        "last_seen_at": now,
        "times_seen": 1,
    }


def _alert_timeline_rows(changes: list[tuple[int, int, str, str, dict, datetime, bool]]) -> list[TimelineEvent]:
    """Timeline entries (for ``incidents.timeline.timeline_append``) for alerts that fired or resolved.

    ``changes``: (incident id, alert id, fingerprint, name, labels, at, fired). Each alert is named with the
    labels that set it apart from its incident's other alerts (``incidents.alert_labels``): one query per incident.
    """
    distinguishing = alert_labels.incident_distinguishing_labels(change[0] for change in changes)
    return [
        timeline_entry(
            incident_id,
            TimelineEvent.Kind.ALERT,
            f"alert {'fired' if fired else 'resolved'}: "
            + alert_labels.alert_title(name, labels, distinguishing[incident_id]),
            source=Source.ALERT,
            at=at,
            data={"alert_id": alert_id, "fingerprint": fingerprint},
        )
        for incident_id, alert_id, fingerprint, name, labels, at, fired in changes
    ]


def _apply_batch(integration: Integration, batch: AlertBatch, delivery: WebhookDelivery) -> IngestResult:
    now = timezone.now()
    group_key = grouping.group_storage_key(batch.group_key)
    events = matching.slot_events(batch.alerts)
    whole = len(events) == len(batch.alerts) and all(event.status == FIRING for event in events)
    slots = matching.update_firing_slots(integration, events, now, receipt=delivery if whole else None)
    rest = [event for event in batch.alerts if event.fingerprint not in slots.taken]
    keyed = [(event, fingerprint_for(event.labels)) for event in rest]
    index = matching.Index(matching.load_candidates(integration, keyed) if keyed else [])
    plan, result = matching.plan(keyed, index, now)
    result.repeated += len(slots.firing)
    plan.incident_ids.update(row[1] for row in slots.firing + slots.resolved)
    plan.firing_incidents.update(incident_id for _, incident_id, _ in slots.firing)

    if plan.bump:
        Alert.objects.filter(pk__in=plan.bump).update(last_seen_at=now, times_seen=F("times_seen") + 1)

    changes: list[tuple[int, int, str, str, dict, datetime, bool]] = []  # for _alert_timeline_rows
    incident: Incident | None = None
    if plan.new_firing:
        # The services of alerts already in an incident are among its affected services: no need to add them.
        incident_of = {fingerprint: incident_id for _, incident_id, fingerprint in slots.firing}
        attached = {
            (incident_of[event.fingerprint], grouping.label_value(event, integration.service_label, batch))
            for event in batch.alerts
            if event.fingerprint in incident_of
        }
        incident = grouping.incident_for_new_alerts(
            integration, batch, group_key, plan.new_firing, attached, received_at=delivery.received_at
        )
    if plan.orphans and incident is None:
        # BR-04: a resolved alert we never saw firing joins its group's open incident; with none it stays an
        # orphan (BR-01): it never opens an incident, and nobody is paged for it.
        candidate = grouping.group_incident(integration, group_key)
        if candidate is not None and candidate.status != Incident.Status.RESOLVED:
            incident = candidate
    incident_id = incident.pk if incident is not None else None
    if incident_id:
        plan.incident_ids.add(incident_id)
    rows = [
        _alert_row(integration, fp, start, event, group_key, now, incident_id)
        for fp, start, event in plan.new_firing + plan.orphans
    ]
    # Sorted, so concurrent deliveries take the unique index's locks in one order (no deadlock).
    rows.sort(key=lambda row: (row["fingerprint"], row["starts_at"]))
    ids = sql.insert(Alert, rows, returning="id")
    for row, pk in zip(rows, ids, strict=True):
        if row["incident_id"] is None:
            result.orphan += 1
            continue
        fired = row["status"] == FIRING
        if fired:
            result.new += 1
            plan.firing_incidents.add(row["incident_id"])
        else:
            result.resolved += 1
        at = row["starts_at"] if fired else row["ends_at"]
        changes.append((row["incident_id"], pk, row["fingerprint"], row["name"], row["labels"], at, fired))
    if result.orphan:
        logger.info(
            "Resolved alert never seen firing kept as an orphan",
            extra={"integration_id": integration.pk, "count": result.orphan, "group_key": group_key},
        )

    settle: set[int] = set()
    result.resolved += len(slots.resolved)
    labels_of = {event.fingerprint: event.labels for event in batch.alerts}  # the slot path matched them on labels
    for pk, incident_id, fingerprint, name, ends_at in slots.resolved:
        if incident_id:
            settle.add(incident_id)
            changes.append((incident_id, pk, fingerprint, name, labels_of.get(fingerprint, {}), ends_at, False))
    if plan.resolve:
        # Re-check under the row lock: a concurrent delivery may have resolved some of them already.
        still_firing = set(
            Alert.objects.select_for_update()
            .filter(pk__in=[row.pk for row, _ in plan.resolve], status=FIRING)
            .values_list("pk", flat=True)
        )
        changed, raced = [], []
        for row, event in plan.resolve:
            if row.pk not in still_firing:
                raced.append(row.pk)
                continue
            row.status = RESOLVED
            row.ends_at = max(event.ends_at or now, row.starts_at)
            row.annotations = event.annotations
            row.last_seen_at = now
            row.times_seen += 1
            changed.append(row)
            if row.incident_id:
                settle.add(row.incident_id)
                changes.append((row.incident_id, row.pk, row.fingerprint, row.name, row.labels, row.ends_at, False))
        if changed:
            Alert.objects.bulk_update(changed, ["status", "ends_at", "annotations", "last_seen_at", "times_seen"])
        result.resolved += len(changed)
        if raced:
            result.repeated += len(raced)
            Alert.objects.filter(pk__in=raced).update(last_seen_at=now, times_seen=F("times_seen") + 1)

    if changes:
        timeline_append(*_alert_timeline_rows(changes))
    # An incident with an alert of this batch still firing has not settled: no need to ask the database.
    settle -= plan.firing_incidents
    if settle and not batch.truncated:
        for incident_id in sorted(settle):
            grouping.settle(integration, incident_id)
    elif settle:
        logger.info(
            "Truncated alert list: not inferring that the group resolved",
            extra={"integration_id": integration.pk, "truncated": batch.truncated},
        )

    result.incidents = public_ids(plan.incident_ids)
    if result.new or result.resolved:
        result.outcome = Outcome.ACCEPTED
    elif result.orphan:
        result.outcome = Outcome.ORPHAN
    return result
