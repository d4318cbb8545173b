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
from collections import defaultdict
from datetime import datetime

from django.db.models import F
from django.utils import timezone

from sredesk import sql

from .. import alert_labels
from ..alert_formats.common import AlertBatch
from ..models import Alert, Incident, Integration, Source, TimelineEvent, WebhookDelivery
from ..timeline import timeline_append, timeline_entry
from . import grouping, matching
from .matching import Kind
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


def _alert_row(integration: Integration, match: matching.Match, group_key: str, now: datetime, incident_id) -> dict:
    """A new alert's row (every column the table requires), for ``sredesk.sql.insert``."""
    event, start = match.event, match.starts_at
    return {
        "integration_id": integration.pk,
        "fingerprint": match.fingerprint,
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
            f"Alert {'fired' if fired else 'resolved'}: "
            + alert_labels.alert_title(name, labels, distinguishing[incident_id]),
            source=Source.ALERT,
            at=at,
            data={"alert_id": alert_id, "fingerprint": fingerprint},
        )
        for incident_id, alert_id, fingerprint, name, labels, at, fired in changes
    ]


def _apply_batch(integration: Integration, batch: AlertBatch, delivery: WebhookDelivery) -> IngestResult:
    """Apply the delivery's matches (``matching.match_batch``): bumps, new alerts, resolutions, settled incidents."""
    now = timezone.now()
    group_key = grouping.group_storage_key(batch.group_key)
    matches = matching.match_batch(integration, batch, now, delivery)
    kinds = defaultdict(list)
    for match in matches:
        kinds[match.kind].append(match)
    result = IngestResult(
        outcome=Outcome.DUPLICATE,
        repeated=len(kinds[Kind.REPEAT]) + len(kinds[Kind.SKIP]),
        stale=len(kinds[Kind.STALE]),
    )
    incident_ids = {match.incident_id for match in matches if match.incident_id}
    # Incidents with an alert of this delivery still firing have not settled: no need to ask the database.
    firing_incidents = {match.incident_id for match in matches if match.firing and match.incident_id}

    bump = [match.alert_id for match in kinds[Kind.REPEAT] + kinds[Kind.STALE] if not match.written]
    if bump:
        Alert.objects.filter(pk__in=bump).update(last_seen_at=now, times_seen=F("times_seen") + 1)

    changes: list[tuple[int, int, str, str, dict, datetime, bool]] = []  # for _alert_timeline_rows
    incident: Incident | None = None
    if kinds[Kind.NEW]:
        # The services of alerts already in an incident are among its affected services: no need to add them.
        attached = {
            (match.incident_id, grouping.label_value(match.event, integration.service_label, batch))
            for match in matches
            if match.firing and match.incident_id
        }
        incident = grouping.incident_for_new_alerts(
            integration, batch, group_key, kinds[Kind.NEW], attached, received_at=delivery.received_at
        )
    if kinds[Kind.ORPHAN] and incident is None:
        # BR-04: a resolved alert we never saw firing joins its group's open incident; with none it stays an
        # orphan (BR-01): it never opens an incident, and nobody is paged for it.
        candidate = grouping.group_incident(integration, group_key)
        if candidate is not None and candidate.status != Incident.Status.RESOLVED:
            incident = candidate
    incident_id = incident.pk if incident is not None else None
    if incident_id:
        incident_ids.add(incident_id)
    new = kinds[Kind.NEW] + kinds[Kind.ORPHAN]
    rows = [_alert_row(integration, match, group_key, now, incident_id) for match in new]
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
            firing_incidents.add(row["incident_id"])
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
    for match in _resolutions(kinds[Kind.RESOLVE], now, result):
        if match.incident_id:
            settle.add(match.incident_id)
            # The stored alert's labels: the slot statement matched the event on them, the planner loaded them.
            labels = match.alert.labels if match.alert is not None else match.event.labels
            changes.append(
                (match.incident_id, match.alert_id, match.fingerprint, match.name, labels, match.ends_at, False)
            )

    if changes:
        timeline_append(*_alert_timeline_rows(changes))
    settle -= firing_incidents
    if settle and not batch.truncated:
        for settled in sorted(settle):
            grouping.settle(integration, settled)
    elif settle:
        logger.info(
            "Truncated alert list: not inferring that the group resolved",
            extra={"integration_id": integration.pk, "truncated": batch.truncated},
        )

    result.incidents = public_ids(incident_ids)
    if result.new or result.resolved:
        result.outcome = Outcome.ACCEPTED
    elif result.orphan:
        result.outcome = Outcome.ORPHAN
    return result


def _resolutions(resolving: list[matching.Match], now: datetime, result: IngestResult) -> list[matching.Match]:
    """The resolutions that took effect (counted in ``result``): those the slot statement wrote, and the planner's,
    written here under the row lock; one a concurrent delivery resolved first is a repeat."""
    done = [match for match in resolving if match.written]
    planned = [match for match in resolving if not match.written]
    if planned:
        # Re-check under the row lock: a concurrent delivery may have resolved some of them already.
        still_firing = set(
            Alert.objects.select_for_update()
            .filter(pk__in=[match.alert_id for match in planned], status=FIRING)
            .values_list("pk", flat=True)
        )
        changed, raced = [], []
        for match in planned:
            if match.alert_id not in still_firing:
                raced.append(match.alert_id)
                continue
            row = match.alert
            row.status, row.ends_at = RESOLVED, match.ends_at
            row.annotations = match.event.annotations
            row.last_seen_at = now
            row.times_seen += 1
            changed.append(row)
            done.append(match)
        if changed:
            Alert.objects.bulk_update(changed, ["status", "ends_at", "annotations", "last_seen_at", "times_seen"])
        if raced:
            result.repeated += len(raced)
            Alert.objects.filter(pk__in=raced).update(last_seen_at=now, times_seen=F("times_seen") + 1)
    result.resolved += len(done)
    return done
