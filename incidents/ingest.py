"""Alert ingestion: parsed webhook payloads in, alerts and incident changes out.

The webhook view (``incidents.webhooks``) authenticates, keeps the raw bytes and
parses them with ``incidents.alert_formats``; the functions here apply one
parsed delivery in ONE transaction, together with its receipt row, so a
delivery is either applied whole or not at all. Every incident state change
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

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from ownership.models import Service
from sredesk import sql

from . import services
from .alert_formats import AlertBatch, AlertEvent, PagerDutyEvent, fingerprint_for
from .models import Alert, Incident, Integration, Severity, Source, TimelineEvent, WebhookDelivery

logger = logging.getLogger(__name__)

FIRING = Alert.Status.FIRING
RESOLVED = Alert.Status.RESOLVED
Outcome = WebhookDelivery.Outcome

# Group keys are opaque and usually short; a longer one is stored as its hash (same identity, bounded index).
MAX_GROUP_KEY_LENGTH = 500


@dataclass
class IngestResult:
    """What one delivery did; the webhook's JSON answer and the receipt's ``result``."""

    outcome: str
    new: int = 0
    repeated: int = 0
    resolved: int = 0
    orphan: int = 0
    stale: int = 0
    incidents: list[str] = field(default_factory=list)
    note: str = ""

    def as_dict(self) -> dict:
        data = {
            "outcome": self.outcome,
            "alerts": {
                "new": self.new,
                "repeated": self.repeated,
                "resolved": self.resolved,
                "orphan": self.orphan,
                "stale": self.stale,
            },
            "incidents": self.incidents,
        }
        if self.note:
            data["note"] = self.note
        return data


def group_storage_key(group_key: str) -> str:
    """The group key as stored: itself, or ``sha256:<hex>`` of it when it is longer than the column allows."""
    if len(group_key) <= MAX_GROUP_KEY_LENGTH:
        return group_key
    return "sha256:" + hashlib.sha256(group_key.encode()).hexdigest()


def _public_ids(incident_ids) -> list[str]:
    return [f"INC-{pk}" for pk in sorted({pk for pk in incident_ids if pk})]


RECEIPT_FIELDS = ("integration_id", "received_at", "body", "headers", "outcome", "error", "result", "event_id")


def _save_receipt(delivery: WebhookDelivery, result: IngestResult) -> None:
    """Store the receipt with its outcome: one INSERT (``sredesk.sql``), an UPDATE if it was saved with another
    outcome, nothing if it was saved with this one."""
    answer = result.as_dict()
    if delivery.pk is not None and (delivery.outcome, delivery.result) == (result.outcome, answer):
        return  # stored already, with this outcome: by the one-statement path (_update_firing_slots)
    delivery.outcome = result.outcome
    delivery.result = answer
    delivery.error = result.note if result.outcome in (Outcome.IGNORED, Outcome.ORPHAN) else ""
    if delivery.pk is not None:  # PagerDuty saves it first, to claim the event id
        delivery.save()
        return
    row = {name: getattr(delivery, name) for name in RECEIPT_FIELDS}
    [delivery.pk] = sql.insert(WebhookDelivery, [row], returning="id")
    delivery._state.adding = False


# PostgreSQL SQLSTATEs worth one more try: deadlock_detected, serialization_failure.
RETRYABLE_SQLSTATES = {"40P01", "40001"}


def _collided(exc: Exception) -> bool:
    """A concurrent delivery got there first: a unique constraint, or a deadlock PostgreSQL broke."""
    if isinstance(exc, IntegrityError):
        return True
    return isinstance(exc, OperationalError) and getattr(exc.__cause__, "sqlstate", None) in RETRYABLE_SQLSTATES


def _retrying(apply, delivery: WebhookDelivery) -> IngestResult:
    """Run ``apply()`` and save the receipt in one transaction; after a collision retry once in a fresh one.

    A collision (IntegrityError) is a concurrent delivery that created the same
    alert or the same open group incident first; by the retry its rows are
    committed, so the retry sees them and treats them as repeats. The rolled
    back attempt's on-commit announcements are discarded with it.
    """
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                result = apply()
                _save_receipt(delivery, result)
            return result
        except (IntegrityError, OperationalError) as exc:
            delivery.pk = None
            delivery._state.adding = True
            if attempt == 2 or not _collided(exc):
                raise
            logger.info(
                "Alert delivery collided with a concurrent one; retrying once",
                extra={"integration_id": delivery.integration_id, "error": str(exc)},
            )
    raise AssertionError("unreachable")


# --- The one-statement path: reports on the exact slot of an alert that is firing ----------------


@dataclass
class _SlotUpdate:
    """What the one-statement path did: rows it bumped (still firing) and rows it resolved."""

    firing: list[tuple[int, int | None, str]] = field(default_factory=list)  # (alert id, incident id, fingerprint)
    resolved: list[tuple[int, int | None, str, str, datetime]] = field(default_factory=list)  # + fingerprint, name, end
    taken: set[str] = field(default_factory=set)  # fingerprints of the events it answered


# The one-statement path's UPDATE. The events are a derived table ``v``: on PostgreSQL one JSON parameter
# (the statement is then the same for any number of alerts: prepared once, parsed once by psycopg), on
# SQLite a VALUES list. Only constant SQL is formatted in; every value is a parameter.
SLOT_SET = (
    "UPDATE incidents_alert SET last_seen_at = %s, times_seen = incidents_alert.times_seen + 1, status = v.status, "
    "ends_at = v.ends_at, annotations = COALESCE(v.annotations, incidents_alert.annotations) "
)
SLOT_ROWS_POSTGRESQL = (
    "FROM jsonb_to_recordset(%s::jsonb) "
    "AS v (fingerprint text, starts_at timestamptz, status text, ends_at timestamptz, annotations jsonb, labels jsonb)"
)
SLOT_ROWS_SQLITE = (  # SQLite names VALUES columns column1, column2...
    "FROM (SELECT column1 AS fingerprint, column2 AS starts_at, column3 AS status, column4 AS ends_at, "
    "column5 AS annotations, column6 AS labels FROM (VALUES {rows})) AS v"
)
SLOT_MATCH = (
    " WHERE incidents_alert.integration_id = %s AND incidents_alert.fingerprint = v.fingerprint "
    "AND incidents_alert.starts_at = v.starts_at AND incidents_alert.status = 'firing' "
    "AND incidents_alert.labels = v.labels "
    "RETURNING incidents_alert.id, incidents_alert.fingerprint, incidents_alert.incident_id, incidents_alert.name, "
    "incidents_alert.status"
)
# PostgreSQL, for a delivery whose every alert is firing: the UPDATE above and, when it found every one of
# them firing in its slot (a plain repeat of the whole delivery, the most common notification), the
# delivery's receipt, in ONE statement (data-modifying CTEs). The receipt's result is the answer's
# (IngestResult.as_dict), its "incidents" listed from the updated rows as _public_ids lists them.
# With SREDESK_ASYNC_COMMIT_REPEATS, storing that receipt also makes the transaction commit without waiting
# for its WAL flush (SET LOCAL synchronous_commit, evaluated only for the receipt row, so only then): see
# settings. The receipt's error column, always '' here, carries the call.
RECEIPT_VALUES = {
    "result": (
        "%s::jsonb || jsonb_build_object('incidents', (SELECT COALESCE(jsonb_agg('INC-' || i ORDER BY i), '[]') "
        "FROM (SELECT DISTINCT incident_id AS i FROM u WHERE incident_id IS NOT NULL) AS d))"
    ),
    "error": "%s || left(set_config('synchronous_commit', 'off', true), 0)",
}
SLOT_REPEAT_RECEIPT = {
    asynchronous: (
        f"WITH u AS ({SLOT_SET}{SLOT_ROWS_POSTGRESQL}{SLOT_MATCH}), "  # noqa: S608 (constants only)
        f"r AS (INSERT INTO incidents_webhookdelivery ({', '.join(RECEIPT_FIELDS)}) SELECT "
        + ", ".join(
            RECEIPT_VALUES[name] if name == "result" or (name == "error" and asynchronous) else "%s"
            for name in RECEIPT_FIELDS
        )
        + " WHERE (SELECT count(*) FROM u WHERE status = 'firing') = %s RETURNING id) "
        "SELECT u.id, u.fingerprint, u.incident_id, u.name, u.status, (SELECT id FROM r) FROM u"
    )
    for asynchronous in (False, True)
}


def _slot_events(events: list[AlertEvent]) -> list[AlertEvent]:
    """The events the one-statement path may take: with a start time and a fingerprint used once in the batch."""
    uses = Counter(event.fingerprint for event in events)
    return [event for event in events if event.starts_at is not None and uses[event.fingerprint] == 1]


def _update_firing_slots(
    integration: Integration, events: list[AlertEvent], now: datetime, receipt: WebhookDelivery | None = None
) -> _SlotUpdate:
    """ONE ``UPDATE ... FROM <the events> RETURNING`` for events about a stored alert that is still firing.

    An event matches when the integration's alert at its exact (fingerprint,
    startsAt) is firing and has the same labels: a repeat (firing) bumps
    ``last_seen_at``/``times_seen``; a resolution also sets status, ``ends_at``
    (never before ``starts_at``) and the annotations. The ``status = 'firing'``
    condition is re-checked under the row lock, so of two concurrent
    resolutions one wins and the other finds nothing here. Events it does not
    answer (``taken``) go through the general path (``_plan``), which knows every
    other case (BR-01/04/05/07). This is the common case of an Alertmanager
    notification (the whole group, most alerts unchanged), and the reason it
    is written in SQL: one statement for the payload instead of a read and
    writes per kind. Works on PostgreSQL and SQLite (3.35+: UPDATE FROM, RETURNING).

    ``receipt`` (unsaved; give it only when ``events`` are all the delivery's
    alerts and all firing): on PostgreSQL, when every event turns out to be a
    plain repeat, the same statement stores it with outcome ``duplicate``
    (``SLOT_REPEAT_RECEIPT``) and sets its pk; ``_save_receipt`` then has
    nothing left to write. Otherwise it stays unsaved.
    """
    result = _SlotUpdate()
    if not events:
        return result

    def end(event: AlertEvent) -> datetime | None:
        return max(event.ends_at or now, event.starts_at) if event.status == RESOLVED else None

    if connection.vendor == "postgresql":
        slots = [
            {
                "fingerprint": event.fingerprint,
                "starts_at": event.starts_at,
                "status": event.status,
                "ends_at": end(event),
                "annotations": event.annotations if event.status == RESOLVED else None,
                "labels": event.labels,
            }
            for event in events
        ]
        sql_text, params = SLOT_SET + SLOT_ROWS_POSTGRESQL + SLOT_MATCH, [now, sql.rows_json(slots), integration.pk]
        combined = receipt is not None
        if combined:
            answer = IngestResult(outcome=Outcome.DUPLICATE, repeated=len(events)).as_dict()
            row = {name: getattr(receipt, name) for name in RECEIPT_FIELDS}
            row.update(outcome=Outcome.DUPLICATE, error="", result=answer)
            # Asynchronous only when the delivery's own transaction is the outermost: SET LOCAL lasts until
            # the outermost commit, and a caller's enclosing transaction may hold writes that must be durable.
            asynchronous = settings.SREDESK_ASYNC_COMMIT_REPEATS and len(connection.atomic_blocks) == 1
            sql_text = SLOT_REPEAT_RECEIPT[asynchronous]
            params += [*sql.adapted_values(WebhookDelivery, row), len(events)]
    else:
        combined = False
        adapt = connection.ops.adapt_datetimefield_value
        params = [adapt(now)]
        for event in events:
            annotations = json.dumps(event.annotations) if event.status == RESOLVED else None
            params += [event.fingerprint, adapt(event.starts_at), event.status, adapt(end(event)), annotations]
            params.append(json.dumps(event.labels))
        params.append(integration.pk)
        rows_sql = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(events))
        sql_text = SLOT_SET + SLOT_ROWS_SQLITE.format(rows=rows_sql) + SLOT_MATCH
    ends = {event.fingerprint: max(event.ends_at or now, event.starts_at) for event in events}
    with connection.cursor() as cursor:
        cursor.execute(sql_text, params)
        rows = cursor.fetchall()
    for pk, fingerprint, incident_id, name, status, *_ in rows:
        result.taken.add(fingerprint)
        if status == FIRING:
            result.firing.append((pk, incident_id, fingerprint))
        else:
            result.resolved.append((pk, incident_id, fingerprint, name, ends[fingerprint]))
    if combined and rows and rows[0][5] is not None:
        answer["incidents"] = _public_ids(incident_id for _, incident_id, _ in result.firing)
        receipt.outcome, receipt.error, receipt.result = Outcome.DUPLICATE, "", answer
        receipt.pk, receipt._state.adding = rows[0][5], False
    return result


# --- Alertmanager, Grafana, generic ---------------------------------------------------


def ingest_alert_batch(*, integration: Integration, batch: AlertBatch, delivery: WebhookDelivery) -> IngestResult:
    """Apply one parsed Alertmanager/Grafana/generic delivery and save its receipt (``delivery``, unsaved).

    Idempotent: a replayed delivery only bumps ``last_seen_at``/``times_seen``.
    A Grafana test notification stores its receipt and nothing else. Raises
    nothing for orphan or stale alerts (they are counted); an IntegrityError
    escapes only if a retry collides again.
    """
    if batch.is_test:
        result = IngestResult(outcome=Outcome.TEST, note="test notification: no incident opened")
        _save_receipt(delivery, result)
        return result
    return _retrying(lambda: _apply_batch(integration, batch, delivery), delivery)


@dataclass
class _Plan:
    bump: set[int] = field(default_factory=set)  # repeats and stale firings: last_seen_at/times_seen only
    resolve: list[tuple[Alert, AlertEvent]] = field(default_factory=list)
    new_firing: list[tuple[str, datetime, AlertEvent]] = field(default_factory=list)
    orphans: list[tuple[str, datetime, AlertEvent]] = field(default_factory=list)
    incident_ids: set[int] = field(default_factory=set)
    firing_incidents: set[int] = field(default_factory=set)  # incidents with an alert of the batch still firing


class _Index:
    """The stored alerts that can match a batch, indexed by slot and by fingerprint."""

    def __init__(self, rows: list[Alert]) -> None:
        self.by_slot: dict[tuple[str, datetime], Alert] = {}
        self.by_fingerprint: dict[str, list[Alert]] = {}
        for row in rows:
            self.by_slot[(row.fingerprint, row.starts_at)] = row
            self.by_fingerprint.setdefault(row.fingerprint, []).append(row)

    def match(self, event: AlertEvent, own_fingerprint: str) -> Alert | None:
        """The stored alert this event reports on, or None for an alert we have not seen."""
        fingerprints = dict.fromkeys((event.fingerprint, own_fingerprint))
        start = event.starts_at
        if start is not None:
            for fingerprint in fingerprints:
                row = self.by_slot.get((fingerprint, start))
                if row is not None and row.labels == event.labels:
                    return row
        same = [
            row
            for fingerprint in fingerprints
            for row in self.by_fingerprint.get(fingerprint, ())
            if row.labels == event.labels
        ]
        if not same:
            return None
        firing = [row for row in same if row.status == FIRING and (start is None or row.starts_at <= start)]
        if firing and (event.status == RESOLVED or start is None):
            # BR-05: a resolution whose startsAt the sender rewrote (grafana#106065), or an alert without times.
            return max(firing, key=lambda row: row.starts_at)
        ended = [row for row in same if row.status == RESOLVED and row.ends_at is not None]
        if start is not None:
            ended = [row for row in ended if start <= row.ends_at]
        elif event.status == FIRING:
            ended = []  # a time-less alert firing again after its resolution is a new alert
        if ended:
            # BR-01: a firing that started before a stored resolution is stale; a resolution of it is a repeat.
            return max(ended, key=lambda row: row.ends_at)
        return None


# The stored alerts an event may refer to: same fingerprint (sender's or ours), and firing, or in the same
# slot, or resolved at or after the earliest start of the batch (BR-01), or any time for a time-less event.
CANDIDATES = (
    "integration_id = %s AND fingerprint IN ({fingerprints}) "
    "AND (status = 'firing' OR starts_at IN ({starts}) OR ends_at >= %s OR fingerprint IN ({timeless}))"
)
CANDIDATE_FIELDS = (
    "id",
    "fingerprint",
    "starts_at",
    "ends_at",
    "status",
    "labels",
    "name",
    "incident_id",
    "times_seen",
)


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values)) or "NULL"


def _load_candidates(integration: Integration, keyed: list[tuple[AlertEvent, str]]) -> list[Alert]:
    """One query: the stored alerts any event of the batch may refer to (bounded, not the alerts' whole history)."""
    adapt = connection.ops.adapt_datetimefield_value
    fingerprints = sorted({event.fingerprint for event, _ in keyed} | {own for _, own in keyed})
    starts = sorted({event.starts_at for event, _ in keyed if event.starts_at is not None})
    timeless = sorted({fp for event, own in keyed if event.starts_at is None for fp in (event.fingerprint, own)})
    where = CANDIDATES.format(fingerprints=_marks(fingerprints), starts=_marks(starts), timeless=_marks(timeless))
    params = [integration.pk, *fingerprints, *map(adapt, starts), adapt(starts[0]) if starts else None, *timeless]
    return sql.select(Alert, where, params, fields=CANDIDATE_FIELDS)


def _plan(keyed: list[tuple[AlertEvent, str]], index: _Index, now: datetime) -> tuple[_Plan, IngestResult]:
    """Sort each event into repeat, stale, resolution of a stored alert, new firing or new resolved alert."""
    plan, result = _Plan(), IngestResult(outcome=Outcome.DUPLICATE)
    taken = set(index.by_slot)
    new_labels: dict[tuple[str, datetime], dict[str, str]] = {}
    resolving: set[int] = set()
    for event, own in keyed:
        row = index.match(event, own)
        if row is not None:
            if row.incident_id:
                plan.incident_ids.add(row.incident_id)
            if row.pk in resolving:  # the same alert twice in one payload
                result.repeated += 1
            elif row.status == FIRING and event.status == RESOLVED:
                resolving.add(row.pk)
                plan.resolve.append((row, event))
            elif row.status == RESOLVED and event.status == FIRING:
                plan.bump.add(row.pk)
                result.stale += 1
            else:
                plan.bump.add(row.pk)
                result.repeated += 1
                if row.status == FIRING and row.incident_id:
                    plan.firing_incidents.add(row.incident_id)
            continue
        start = event.starts_at or (event.ends_at if event.status == RESOLVED else None) or now
        if any(new_labels.get((fp, start)) == event.labels for fp in (event.fingerprint, own)):
            result.repeated += 1  # the same new alert twice in one payload
            continue
        fingerprint = next((fp for fp in (event.fingerprint, own) if (fp, start) not in taken), None)
        if fingerprint is None:
            logger.warning("Alert skipped: both fingerprints taken", extra={"fingerprint": event.fingerprint})
            result.repeated += 1
            continue
        taken.add((fingerprint, start))
        new_labels[(fingerprint, start)] = event.labels
        (plan.new_firing if event.status == FIRING else plan.orphans).append((fingerprint, start, event))
    return plan, result


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


def _label(event: AlertEvent, name: str, batch: AlertBatch) -> str:
    return event.labels.get(name) or batch.common_labels.get(name) or ""


def _routes(integration: Integration, batch: AlertBatch, events: list[AlertEvent]) -> list[Service | None]:
    """Each event's service: its service label (then the common labels) as a Service slug, else the default."""
    slugs = [_label(event, integration.service_label, batch) for event in events]
    known = {s.slug: s for s in Service.objects.filter(slug__in={s for s in slugs if s}).select_related("team")}
    if any(slug not in known for slug in slugs):
        known.update({slug: integration.default_service for slug in slugs if slug not in known})
    return [known[slug] for slug in slugs]


# Each new alert's service (its label as a slug, else the integration's default) becomes an affected service.
ATTACH_SERVICES = (
    "INSERT INTO incidents_incident_services (incident_id, service_id) "
    "SELECT DISTINCT %s, COALESCE(s.id, %s) FROM (VALUES {slugs}) AS v "
    "LEFT JOIN ownership_service AS s ON s.slug = v.column1 "
    "WHERE COALESCE(s.id, %s) IS NOT NULL ON CONFLICT DO NOTHING"
)
OPEN_FIRST = "ORDER BY CASE WHEN status = 'resolved' THEN 1 ELSE 0 END, resolved_at DESC, id DESC LIMIT 1"


def _group_incident(integration: Integration, group_key: str) -> Incident | None:
    """The group's open incident if any (at most one: a constraint), else its most recently resolved one."""
    found = sql.select(
        Incident,
        "integration_id = %s AND alert_group_key = %s",
        [integration.pk, group_key],
        fields=("id", "status", "severity", "detected_at", "mitigated_at", "resolved_at"),
        tail=OPEN_FIRST,
    )
    return found[0] if found else None


def _incident_for_new_alerts(
    integration: Integration,
    batch: AlertBatch,
    group_key: str,
    firing: list[tuple[str, datetime, AlertEvent]],
    attached: set[tuple[int | None, str]],
) -> Incident:
    """The incident new firing alerts join: the group's open one, its last one re-opened, or a new one.

    ``attached``: (incident id, service label value) of the batch's alerts already in an incident.
    """
    events = [event for _, _, event in firing]
    first_start = min(start for _, start, _ in firing)
    severity = min(integration.severity_for(_label(event, integration.severity_label, batch)) for event in events)
    incident = _group_incident(integration, group_key)
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
    routes = _routes(integration, batch, events)
    first = events[0]
    incident = services.incident_declare(
        title=first.name[:300],
        severity=severity,
        actor=None,
        source=Source.ALERT,
        summary=first.annotations.get("description", ""),
        primary_service=routes[0],
        services=[s for s in routes if s is not None],
        started_at=first_start,
        detected_at=first_start,
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
    """New alerts join an open incident: their services become affected services; a worse severity escalates it.

    A service label already carried by one of the incident's alerts in this batch was attached when that alert
    joined, so only the others are written (one statement; m2m add() would read, then write).
    """
    labels = {_label(event, integration.service_label, batch) for event in events}
    slugs = sorted(slug for slug in labels if (incident.pk, slug) not in attached)
    if slugs:
        default = integration.default_service_id
        with connection.cursor() as cursor:
            sql = ATTACH_SERVICES.format(slugs=", ".join(["(%s)"] * len(slugs)))
            cursor.execute(sql, [incident.pk, default, *slugs, default])
    if severity < incident.severity:
        incident = services.incident_set_severity(
            incident_id=incident.pk, severity=severity, actor=None, source=Source.ALERT
        )
    return incident


def _alert_timeline_row(
    incident_id: int, alert_id: int, fingerprint: str, name: str, at: datetime, fired: bool
) -> dict:
    """A timeline entry (row for ``sredesk.sql.insert``) for an alert that fired or resolved."""
    return {
        "incident_id": incident_id,
        "kind": TimelineEvent.Kind.ALERT.value,
        "at": at,
        "actor_id": None,
        "source": Source.ALERT.value,
        "message": f"alert {'fired' if fired else 'resolved'}: {name}",
        "data": {"alert_id": alert_id, "fingerprint": fingerprint},
        "announcement": "",
        "announced_at": None,
    }


# Whether an incident's alerts have all resolved, and when the last one ended: one round trip.
SETTLE_STATE = (
    "SELECT status, detected_at, mitigated_at, "
    "(SELECT COUNT(*) FROM incidents_alert WHERE incident_id = %s AND status = 'firing'), "
    "(SELECT MAX(ends_at) FROM incidents_alert WHERE incident_id = %s) "
    "FROM incidents_incident WHERE id = %s"
)


def _settle(integration: Integration, incident_id: int) -> None:
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


def _apply_batch(integration: Integration, batch: AlertBatch, delivery: WebhookDelivery) -> IngestResult:
    now = timezone.now()
    group_key = group_storage_key(batch.group_key)
    events = _slot_events(batch.alerts)
    whole = len(events) == len(batch.alerts) and all(event.status == FIRING for event in events)
    slots = _update_firing_slots(integration, events, now, receipt=delivery if whole else None)
    rest = [event for event in batch.alerts if event.fingerprint not in slots.taken]
    keyed = [(event, fingerprint_for(event.labels)) for event in rest]
    index = _Index(_load_candidates(integration, keyed) if keyed else [])
    plan, result = _plan(keyed, index, now)
    result.repeated += len(slots.firing)
    plan.incident_ids.update(row[1] for row in slots.firing + slots.resolved)
    plan.firing_incidents.update(incident_id for _, incident_id, _ in slots.firing)

    if plan.bump:
        Alert.objects.filter(pk__in=plan.bump).update(last_seen_at=now, times_seen=F("times_seen") + 1)

    timeline: list[dict] = []
    incident: Incident | None = None
    if plan.new_firing:
        # The services of alerts already in an incident are among its affected services: no need to add them.
        incident_of = {fingerprint: incident_id for _, incident_id, fingerprint in slots.firing}
        attached = {
            (incident_of[event.fingerprint], _label(event, integration.service_label, batch))
            for event in batch.alerts
            if event.fingerprint in incident_of
        }
        incident = _incident_for_new_alerts(integration, batch, group_key, plan.new_firing, attached)
    if plan.orphans and incident is None:
        # BR-04: a resolved alert we never saw firing joins its group's open incident; with none it stays an
        # orphan (BR-01): it never opens an incident, and nobody is paged for it.
        candidate = _group_incident(integration, group_key)
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
        timeline.append(_alert_timeline_row(row["incident_id"], pk, row["fingerprint"], row["name"], at, fired))
    if result.orphan:
        logger.info(
            "Resolved alert never seen firing kept as an orphan",
            extra={"integration_id": integration.pk, "count": result.orphan, "group_key": group_key},
        )

    settle: set[int] = set()
    result.resolved += len(slots.resolved)
    for pk, incident_id, fingerprint, name, ends_at in slots.resolved:
        if incident_id:
            settle.add(incident_id)
            timeline.append(_alert_timeline_row(incident_id, pk, fingerprint, name, ends_at, fired=False))
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
                timeline.append(
                    _alert_timeline_row(row.incident_id, row.pk, row.fingerprint, row.name, row.ends_at, fired=False)
                )
        if changed:
            Alert.objects.bulk_update(changed, ["status", "ends_at", "annotations", "last_seen_at", "times_seen"])
        result.resolved += len(changed)
        if raced:
            result.repeated += len(raced)
            Alert.objects.filter(pk__in=raced).update(last_seen_at=now, times_seen=F("times_seen") + 1)

    sql.insert(TimelineEvent, timeline)
    # An incident with an alert of this batch still firing has not settled: no need to ask the database.
    settle -= plan.firing_incidents
    if settle and not batch.truncated:
        for incident_id in sorted(settle):
            _settle(integration, incident_id)
    elif settle:
        logger.info(
            "Truncated alert list: not inferring that the group resolved",
            extra={"integration_id": integration.pk, "truncated": batch.truncated},
        )

    result.incidents = _public_ids(plan.incident_ids)
    if result.new or result.resolved:
        result.outcome = Outcome.ACCEPTED
    elif result.orphan:
        result.outcome = Outcome.ORPHAN
    return result


# --- PagerDuty ----------------------------------------------------------------------------

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
        _save_receipt(delivery, result)
        return result

    def apply() -> IngestResult:
        delivery.event_id = event.event_id[:100]
        try:
            with transaction.atomic():
                delivery.outcome = Outcome.ACCEPTED
                delivery.save()
        except IntegrityError:
            delivery.pk, delivery._state.adding, delivery.event_id = None, True, ""
            first = WebhookDelivery.objects.filter(integration=integration, event_id=event.event_id[:100]).first()
            return IngestResult(
                outcome=Outcome.DUPLICATE,
                incidents=list((first.result if first else {}).get("incidents", [])),
                note=f"event {event.event_id} already received",
            )
        return _apply_pagerduty(integration, event)

    return _retrying(apply, delivery)


def _pagerduty_service(integration: Integration, name: str) -> Service | None:
    if name:
        found = Service.objects.filter(Q(slug=slugify(name)) | Q(name__iexact=name)).select_related("team").first()
        if found:
            return found
    return integration.default_service


def _apply_pagerduty(integration: Integration, event: PagerDutyEvent) -> IngestResult:
    key = group_storage_key(event.incident_id)
    kind = event.event_type
    incident = _group_incident(integration, key)
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
                services.incident_set_severity(
                    incident_id=incident.pk, severity=severity, actor=None, source=Source.ALERT
                )
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


# --- Retention ------------------------------------------------------------------------------


def webhook_deliveries_purge(*, now: datetime | None = None) -> int:
    """Delete webhook receipts older than ``SREDESK_WEBHOOK_RETENTION_DAYS``. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SREDESK_WEBHOOK_RETENTION_DAYS)
    deleted, _ = WebhookDelivery.objects.filter(received_at__lt=cutoff).delete()
    if deleted:
        logger.info("Old webhook receipts deleted", extra={"deleted": deleted, "before": cutoff.isoformat()})
    return deleted
