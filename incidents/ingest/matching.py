"""Matching a delivery's alerts to the stored ones: one ``Match`` per event, from one of two paths.

``match_batch`` is the entry point. The one-statement slot UPDATE
(``update_firing_slots``) answers every event about the exact slot of an alert
that is firing (the common case of an Alertmanager notification) and writes
it at once; the planner (``plan``) sorts the rest (repeats, stale firings,
resolutions, new alerts, orphans) against the stored alerts they may refer to
(FIELD-CASES BR-01/04/05/07). Both produce ``Match`` records, the one shape the
apply step (``incidents.ingest.alerts``) consumes.
"""

import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.conf import settings
from django.db import connection

from sredesk import sql

from ..alert_formats.common import AlertBatch, AlertEvent, canonical_labels, fingerprint_for
from ..models import PUBLIC_ID_PREFIX, Alert, Integration, WebhookDelivery
from .receipts import RECEIPT_FIELDS, IngestResult, Outcome, public_ids

logger = logging.getLogger(__name__)

FIRING = Alert.Status.FIRING
RESOLVED = Alert.Status.RESOLVED


class Kind(StrEnum):
    """What an event of a delivery turned out to be."""

    NEW = "new"  # an alert not seen before, firing: stored, joins or opens its group's incident
    ORPHAN = "orphan"  # resolved, never seen firing (BR-01): stored; joins the group's open incident if any
    RESOLVE = "resolve"  # the resolution of a stored firing alert
    REPEAT = "repeat"  # a stored alert in the state it is in (at-least-once delivery, BR-07): bumped
    STALE = "stale"  # a firing that started no later than a stored resolution of it (BR-01): bumped only
    SKIP = "skip"  # the same alert twice in one delivery: counted as a repeat, nothing written


@dataclass
class Match:
    """One event of a delivery matched against the stored alerts: the one shape both paths hand to the apply step.

    ``fingerprint``/``starts_at``: the alert's identity as stored, or as it
    will be (NEW, ORPHAN: the sender's fingerprint, or ours when another alert
    holds the sender's slot). ``alert``: the stored row the planner loaded
    (REPEAT, STALE, RESOLVE), None otherwise. ``alert_id``, ``incident_id``,
    ``name``: the stored alert's. ``ends_at``: a resolution's end (never
    before ``starts_at``). ``written``: the slot statement already wrote this
    event (its bump or its resolution), so the apply step only records it.
    ``firing``: the stored alert is firing after this event (a REPEAT of a
    firing alert), so its incident has not settled.
    """

    kind: Kind
    event: AlertEvent
    fingerprint: str
    starts_at: datetime | None
    alert: Alert | None = None
    alert_id: int | None = None
    incident_id: int | None = None
    name: str = ""
    ends_at: datetime | None = None
    written: bool = False
    firing: bool = False


def match_batch(integration: Integration, batch: AlertBatch, now: datetime, delivery: WebhookDelivery) -> list[Match]:
    """One ``Match`` per event of ``batch`` (events given twice: one per occurrence, the second a SKIP or REPEAT).

    The slot statement first (``update_firing_slots``; when every event is
    firing, ``delivery``'s receipt rides along), then the planner for the
    events it did not answer.
    """
    events = slot_events(batch.alerts)
    whole = len(events) == len(batch.alerts) and all(event.status == FIRING for event in events)
    matches = update_firing_slots(integration, events, now, receipt=delivery if whole else None)
    taken = {match.fingerprint for match in matches}
    keyed = [(event, fingerprint_for(event.labels)) for event in batch.alerts if event.fingerprint not in taken]
    index = Index(load_candidates(integration, keyed) if keyed else [])
    return matches + plan(keyed, index, now)


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
# The async-commit trick (SREDESK_ASYNC_COMMIT_REPEATS, see settings): the transaction that stores a plain
# repeat's receipt commits without waiting for its WAL flush. It is ``SET LOCAL synchronous_commit = off``
# written as an expression (set_config(..., is_local => true)) inside the receipt's INSERT, so it runs only when
# that row is written; ``left(..., 0)`` turns it into the '' appended to the receipt's (empty) error column.
ASYNC_COMMIT = "left(set_config('synchronous_commit', 'off', true), 0)"


def async_commit_allowed() -> bool:
    """Whether a plain repeat may commit without waiting for the WAL flush (the async-commit trick).

    ``SREDESK_ASYNC_COMMIT_REPEATS`` on, and the delivery's own transaction is
    the outermost: SET LOCAL lasts until the outermost commit, and a caller's
    enclosing transaction may hold writes that must be durable.
    """
    return settings.SREDESK_ASYNC_COMMIT_REPEATS and len(connection.atomic_blocks) == 1


# PostgreSQL, for a delivery whose every alert is firing: the UPDATE above and, when it found every one of
# them firing in its slot (a plain repeat of the whole delivery, the most common notification), the
# delivery's receipt, in ONE statement (data-modifying CTEs). The receipt's result is the answer's
# (IngestResult.as_dict), its "incidents" listed from the updated rows as public_ids lists them (the prefix is
# a parameter, PUBLIC_ID_PREFIX). Keyed by whether the statement carries the async-commit trick.
RECEIPT_VALUES = {
    "result": (
        "%s::jsonb || jsonb_build_object('incidents', (SELECT COALESCE(jsonb_agg(%s::text || i ORDER BY i), '[]') "
        "FROM (SELECT DISTINCT incident_id AS i FROM u WHERE incident_id IS NOT NULL) AS d))"
    ),
    "error": f"%s || {ASYNC_COMMIT}",
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


def slot_events(events: list[AlertEvent]) -> list[AlertEvent]:
    """The events the one-statement path may take: with a start time and a fingerprint used once in the batch."""
    uses = Counter(event.fingerprint for event in events)
    return [event for event in events if event.starts_at is not None and uses[event.fingerprint] == 1]


def update_firing_slots(
    integration: Integration, events: list[AlertEvent], now: datetime, receipt: WebhookDelivery | None = None
) -> list[Match]:
    """ONE ``UPDATE ... FROM <the events> RETURNING`` for events about a stored alert that is still firing.

    An event matches when the integration's alert at its exact (fingerprint,
    startsAt) is firing and has the same labels: a repeat (firing) bumps
    ``last_seen_at``/``times_seen``; a resolution also sets status, ``ends_at``
    (never before ``starts_at``) and the annotations. The ``status = 'firing'``
    condition is re-checked under the row lock, so of two concurrent
    resolutions one wins and the other finds nothing here. Events it does not
    answer (``taken``) go through the general path (``plan``), which knows every
    other case (BR-01/04/05/07). This is the common case of an Alertmanager
    notification (the whole group, most alerts unchanged), and the reason it
    is written in SQL: one statement for the payload instead of a read and
    writes per kind. Works on PostgreSQL and SQLite (3.35+: UPDATE FROM, RETURNING).

    ``receipt`` (unsaved; give it only when ``events`` are all the delivery's
    alerts and all firing): on PostgreSQL, when every event turns out to be a
    plain repeat, the same statement stores it with outcome ``duplicate``
    (``SLOT_REPEAT_RECEIPT``) and sets its pk; ``receipts.save_receipt`` then has
    nothing left to write. Otherwise it stays unsaved.
    """
    if not events:
        return []

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
            sql_text = SLOT_REPEAT_RECEIPT[async_commit_allowed()]
            values = sql.adapted_values(WebhookDelivery, row)
            at = RECEIPT_FIELDS.index("result")
            values[at : at + 1] = [values[at], PUBLIC_ID_PREFIX]  # the receipt's incidents, INC-<n>
            params += [*values, len(events)]
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
    by_fingerprint = {event.fingerprint: event for event in events}  # slot events use a fingerprint once
    with connection.cursor() as cursor:
        cursor.execute(sql_text, params)
        rows = cursor.fetchall()
    matches = []
    for pk, fingerprint, incident_id, name, status, *_ in rows:
        event = by_fingerprint[fingerprint]
        firing = status == FIRING
        matches.append(
            Match(
                Kind.REPEAT if firing else Kind.RESOLVE,
                event,
                fingerprint,
                event.starts_at,
                alert_id=pk,
                incident_id=incident_id,
                name=name,
                ends_at=None if firing else end(event),
                written=True,
                firing=firing,
            )
        )
    if combined and rows and rows[0][5] is not None:
        answer["incidents"] = public_ids(match.incident_id for match in matches)
        receipt.outcome, receipt.error, receipt.result = Outcome.DUPLICATE, "", answer
        receipt.pk, receipt._state.adding = rows[0][5], False
    return matches


class Index:
    """The stored alerts that can match a batch, indexed by slot and by fingerprint."""

    def __init__(self, rows: list[Alert]) -> None:
        self.by_slot: dict[tuple[str, datetime], Alert] = {}
        self.by_fingerprint: dict[str, list[Alert]] = {}
        for row in rows:
            self.by_slot[(row.fingerprint, row.starts_at)] = row
            self.by_fingerprint.setdefault(row.fingerprint, []).append(row)

    def match(self, event: AlertEvent, own_fingerprint: str) -> Alert | None:
        """The stored alert this event reports on, or None for an alert we have not seen.

        Labels are compared in canonical form (``alert_formats.common.canonical_labels``): an event's are, and a
        row stored before that rule may still carry an empty-valued label, which must not make it another alert.
        """
        fingerprints = dict.fromkeys((event.fingerprint, own_fingerprint))
        start = event.starts_at
        if start is not None:
            for fingerprint in fingerprints:
                row = self.by_slot.get((fingerprint, start))
                if row is not None and canonical_labels(row.labels) == event.labels:
                    return row
        same = [
            row
            for fingerprint in fingerprints
            for row in self.by_fingerprint.get(fingerprint, ())
            if canonical_labels(row.labels) == event.labels
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


def load_candidates(integration: Integration, keyed: list[tuple[AlertEvent, str]]) -> list[Alert]:
    """One query: the stored alerts any event of the batch may refer to (bounded, not the alerts' whole history)."""
    adapt = connection.ops.adapt_datetimefield_value
    fingerprints = sorted({event.fingerprint for event, _ in keyed} | {own for _, own in keyed})
    starts = sorted({event.starts_at for event, _ in keyed if event.starts_at is not None})
    timeless = sorted({fp for event, own in keyed if event.starts_at is None for fp in (event.fingerprint, own)})
    where = CANDIDATES.format(fingerprints=_marks(fingerprints), starts=_marks(starts), timeless=_marks(timeless))
    params = [integration.pk, *fingerprints, *map(adapt, starts), adapt(starts[0]) if starts else None, *timeless]
    return sql.select(Alert, where, params, fields=CANDIDATE_FIELDS)


def plan(keyed: list[tuple[AlertEvent, str]], index: Index, now: datetime) -> list[Match]:
    """One ``Match`` per event: repeat, stale, resolution of a stored alert, new firing or new resolved alert.

    ``keyed``: each event with our own fingerprint of its labels (tried after
    the sender's). Nothing is written here.
    """
    matches: list[Match] = []
    taken = set(index.by_slot)
    new_labels: dict[tuple[str, datetime], dict[str, str]] = {}
    resolving: set[int] = set()
    for event, own in keyed:
        row = index.match(event, own)
        if row is not None:
            if row.pk in resolving:  # the same alert twice in one payload
                kind = Kind.SKIP
            elif row.status == FIRING and event.status == RESOLVED:
                resolving.add(row.pk)
                kind = Kind.RESOLVE
            elif row.status == RESOLVED and event.status == FIRING:
                kind = Kind.STALE
            else:
                kind = Kind.REPEAT
            matches.append(
                Match(
                    kind,
                    event,
                    row.fingerprint,
                    row.starts_at,
                    alert=row,
                    alert_id=row.pk,
                    incident_id=row.incident_id,
                    name=row.name,
                    ends_at=max(event.ends_at or now, row.starts_at) if kind == Kind.RESOLVE else None,
                    firing=kind == Kind.REPEAT and row.status == FIRING,
                )
            )
            continue
        start = event.starts_at or (event.ends_at if event.status == RESOLVED else None) or now
        if any(new_labels.get((fp, start)) == event.labels for fp in (event.fingerprint, own)):
            matches.append(Match(Kind.SKIP, event, event.fingerprint, start))  # the same new alert twice
            continue
        fingerprint = next((fp for fp in (event.fingerprint, own) if (fp, start) not in taken), None)
        if fingerprint is None:
            logger.warning("Alert skipped: both fingerprints taken", extra={"fingerprint": event.fingerprint})
            matches.append(Match(Kind.SKIP, event, event.fingerprint, start))
            continue
        taken.add((fingerprint, start))
        new_labels[(fingerprint, start)] = event.labels
        matches.append(Match(Kind.NEW if event.status == FIRING else Kind.ORPHAN, event, fingerprint, start))
    return matches
