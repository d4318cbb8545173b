"""Parsers for inbound alert payloads: raw JSON in, normalised alert events out.

Pure functions (no database), one per sender. Each returns an ``AlertBatch``
(or ``PagerDutyEvent``) or raises ``PayloadError`` naming the offending field.
Sources and quirks: ../shared/FORMATS.md sections (a) Alertmanager webhook v4,
(b) Grafana alerting webhook, (c) PagerDuty V3 webhooks.

INTERFACE CONTRACT (shared by the parser and the ingestion code; keep stable).

The callers decode the JSON (and keep the raw bytes for signatures and
re-parsing); these functions take the decoded ``dict``:

- ``parse_alertmanager``: Alertmanager webhook, ``version`` "4".
- ``parse_grafana``: Grafana unified alerting (``version`` "1", Alertmanager
  shape plus extras) and legacy pre-v8 dashboard alerts (no ``alerts`` key).
- ``parse_generic``: sredesk's own generic JSON, below.
- ``parse_pagerduty``: PagerDuty V3 ``{"event": {...}}``; ``None`` for
  non-incident events, which the caller acknowledges and ignores.
- ``verify_pagerduty_signature`` / ``verify_grafana_signature``: HMAC-SHA256
  over the raw request bytes, compared in constant time.

Generic JSON format (``parse_generic``), for scripts, cron jobs and tools
without their own integration::

    {
      "group_key": "checkout-latency",        optional; alerts with the same key form one incident
      "status": "firing",                     optional; default for alerts without their own status
      "alerts": [
        {
          "status": "firing",                 "firing" or "resolved" (here or at the top level)
          "dedup_key": "checkout-p99",        optional; the alert's identity (1-64 characters)
          "labels": {"service": "checkout", "alertname": "HighLatency"},
                                              required unless dedup_key is given; values become strings
          "title": "p99 latency above 2 s",   optional; becomes the "summary" annotation
          "description": "...",               optional; becomes the "description" annotation
          "annotations": {"runbook_url": "https://..."},   optional, free text
          "url": "https://grafana.example/d/abc",          optional link to the source (generator_url)
          "starts_at": "2024-05-01T10:00:00Z",  optional RFC 3339 with an offset; unset -> the
                                                ingestion uses the arrival time
          "ends_at": "2024-05-01T10:30:00Z"     optional RFC 3339; only meaningful when resolved
        }
      ]
    }

A single alert may also be posted on its own, without the ``alerts``
wrapper: ``{"status": "firing", "labels": {...}, "title": "...", "group_key": "..."}``.
The fingerprint is ``dedup_key`` when given, else ``fingerprint_for(labels)``:
never status, annotations, title or times (FIELD-CASES BR-05). Without
``group_key`` the group key is derived from the labels all alerts share
(``derived:{alertname="HighLatency", service="checkout"}``, see
``derive_group_key``). Unknown keys are ignored.

Times everywhere are aware UTC ``datetime`` or ``None`` for unset (Go's zero
time, any year-1 time, epoch 0, "" and null); times without an offset are
refused (FIELD-CASES BR-02, BR-22).
"""

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache


class PayloadError(ValueError):
    """A payload we cannot use. ``field`` is a dotted path such as ``alerts[2].startsAt``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class AlertEvent:
    """One alert as the sender reported it in one delivery.

    ``fingerprint``: the sender's (Alertmanager/Grafana 16 hex digits) or, when
    absent, our own: the first 16 hex digits of sha256 over the sorted labels.
    ``status``: "firing" or "resolved" (taken from the group when the alert
    has none). Times are aware UTC; ``None`` means unset (Go's zero time
    ``0001-01-01T00:00:00Z``, epoch 0, empty string).
    """

    fingerprint: str
    status: str
    starts_at: datetime | None
    ends_at: datetime | None
    labels: dict[str, str]
    annotations: dict[str, str]
    generator_url: str = ""

    @property
    def name(self) -> str:
        """A human title: the summary annotation, else the alertname label, else the fingerprint."""
        return self.annotations.get("summary") or self.labels.get("alertname") or self.fingerprint


@dataclass(frozen=True)
class AlertBatch:
    """One webhook delivery from Alertmanager, Grafana or the generic format.

    ``group_key``: the sender's group key (opaque; never parsed), or one we
    derive for senders without one. ``truncated``: alerts the sender dropped
    (``truncatedAlerts``); when above 0 the batch is incomplete and must not
    be taken to mean "all resolved". ``is_test``: Grafana's test notification
    (labels alertname=TestAlert, instance=Grafana), which opens no incident.
    """

    group_key: str
    alerts: list[AlertEvent]
    truncated: int = 0
    is_test: bool = False
    receiver: str = ""
    external_url: str = ""
    common_labels: dict[str, str] = field(default_factory=dict)


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


# --------------------------------------------------------------------------
# Parsers (pure: no database, no settings). Everything below is built on the
# contract above and may grow; the dataclasses above stay as they are.
# --------------------------------------------------------------------------

logger = logging.getLogger(__name__)

FIRING = "firing"
RESOLVED = "resolved"
ALERT_STATUSES = (FIRING, RESOLVED)

ROOT = "$"  # ``PayloadError.field`` when the body itself is wrong (not a JSON object)
ALERTMANAGER_VERSION = "4"
GRAFANA_VERSION = "1"
DERIVED_GROUP_KEY_PREFIX = "derived:"
GRAFANA_LEGACY_GROUP_KEY_PREFIX = "grafana-legacy-rule:"
GRAFANA_TEST_LABELS = {"alertname": "TestAlert", "instance": "Grafana"}
# Legacy (pre-v8) "Test" button body: ruleId 0 and this message (pkg/services/alerting/test_notification.go).
GRAFANA_LEGACY_TEST_MESSAGE = "someone is testing the alert notification within grafana"
# grafana/alerting http/hmac.go defaultHeaderName (configurable per contact point). FORMATS.md (b)
# calls it X-Grafana-Alerting-Signature; the code says X-Grafana-Alert-Signature.
GRAFANA_SIGNATURE_HEADER = "X-Grafana-Alert-Signature"
PAGERDUTY_SIGNATURE_HEADER = "X-PagerDuty-Signature"
PAGERDUTY_NOTE_TYPES = {"incident_note": "content", "incident_status_update": "message"}
# Sender fingerprints are 16 hex digits; hand-made payloads and generic dedup keys may be longer,
# but never longer than this (the storage column is sized for it).
MAX_FINGERPRINT_LENGTH = 64

# RFC 3339 date-time (section 5.6), plus a space for "T" (allowed by its note) and an offset
# without a colon. Group 8 is the offset; a time without one is naive and refused.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"([Zz]|[+-]\d{2}:?\d{2})?"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _show(value: object, limit: int = 80) -> str:
    """``repr`` of a rejected value, shortened so error messages and logs stay one line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_time(value: object, field: str) -> datetime | None:
    """An external timestamp as an aware UTC ``datetime``, or ``None`` when the sender means "unset".

    ``value``: an RFC 3339 string such as ``2018-03-07T06:33:21.873077559-05:00`` (Alertmanager,
    Grafana: Go's ``time.Time`` JSON, up to nanoseconds) or ``2021-06-04T13:55:30.394Z``
    (PagerDuty, milliseconds). Fractions beyond microseconds are cut (not rounded) to 6 digits;
    ``Z`` and numeric offsets are converted to UTC, so ``10:00:00+02:00`` is ``08:00:00Z``.

    Unset, returned as ``None`` (FIELD-CASES BR-02): ``None``, ``""``, Go's zero time
    ``0001-01-01T00:00:00Z`` and any other year-0/1 time (the zero time in another zone),
    and epoch 0 (``1970-01-01T00:00:00Z``, or the number 0).

    Raises ``PayloadError(field, ...)`` for anything else that is not such a time, including a
    time without an offset: naive times are refused rather than guessed (BR-22).
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(field, f"expected an RFC 3339 time string, got {_show(value)}")
    if not isinstance(value, str):
        if value == 0:
            return None
        raise PayloadError(field, f"expected an RFC 3339 time string, got the number {_show(value)}")
    try:
        return _parse_rfc3339(value)
    except ValueError as exc:
        raise PayloadError(field, str(exc)) from exc


@lru_cache(maxsize=4096)
def _parse_rfc3339(value: str) -> datetime | None:
    """``parse_time`` for a string; raises ValueError with the message. Cached: a firing alert's
    ``startsAt`` (and Go's zero ``endsAt``) come back in every notification of its group."""
    match = _RFC3339.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {_show(value)}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if offset is None:
        raise ValueError(f"time has no UTC offset (naive times are refused): {_show(value)}")
    if int(year) <= 1:
        return None  # Go's zero time, possibly rendered in another zone; never a real event
    try:
        if offset in ("Z", "z"):
            tz = UTC
        else:
            sign = -1 if offset[0] == "-" else 1
            hours, minutes = int(offset[1:3]), int(offset[-2:])
            if hours > 23 or minutes > 59:
                raise ValueError(f"offset {offset} out of range")
            tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        microsecond = int((fraction or "0")[:6].ljust(6, "0"))
        parsed = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), microsecond, tzinfo=tz
        ).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a valid time: {_show(value)} ({exc})") from exc
    if parsed == _EPOCH:
        return None
    return parsed


def _text(value: object) -> str:
    """A label/annotation value as a string: JSON scalars as JSON writes them, objects as compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _string_map(value: object, field: str, *, required: bool = False) -> dict[str, str]:
    """A JSON object of labels or annotations as ``{str: str}``; missing/null is ``{}`` unless required."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        what = "missing" if value is None else f"expected an object, got {type(value).__name__}"
        raise PayloadError(field, what)
    if all(type(item) is str for item in value.values()):  # the usual case; JSON object keys are strings
        return dict(value)
    return {str(key): _text(item) for key, item in value.items()}


def _optional_str(payload: Mapping, key: str, field: str) -> str:
    """A string field that may be missing or null (-> ""); numbers are accepted as their text."""
    value = payload.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise PayloadError(field, f"expected a string, got {_show(value)}")


_FNV64_OFFSET = 14695981039346656037
_FNV64_PRIME = 1099511628211
_SEPARATOR = 0xFF  # Prometheus model.SeparatorByte


def fingerprint_for(labels: Mapping[str, object]) -> str:
    """Alertmanager's fingerprint for a label set: 16 lowercase hex digits.

    The same algorithm as Prometheus ``model.LabelSet.Fingerprint``: FNV-1a 64
    over the label names in sorted order, each name and value followed by the
    separator byte 0xFF. So an alert that arrives once with the sender's
    fingerprint and once without it (old or hand-written payloads) keeps one
    identity. It depends on the label set only, never on dict order,
    annotations, status or timestamps (FIELD-CASES BR-05).
    """
    digest = _FNV64_OFFSET
    for name in sorted(str(n) for n in labels):
        value = _text(labels[name]) if name in labels else ""
        for part in (name, value):
            for byte in part.encode("utf-8"):
                digest = ((digest ^ byte) * _FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF
            digest = ((digest ^ _SEPARATOR) * _FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{digest:016x}"


def _label_string(labels: Mapping[str, str]) -> str:
    """Labels in Alertmanager's ``LabelSet.String()`` shape: ``{alertname="X", service="y"}``, sorted."""
    inner = ", ".join(f"{name}={json.dumps(labels[name], ensure_ascii=False)}" for name in sorted(labels))
    return "{" + inner + "}"


def _shared_labels(label_sets: list[dict[str, str]]) -> dict[str, str]:
    """The labels (name and value) present in every set; ``{}`` for no sets."""
    if not label_sets:
        return {}
    first, *rest = label_sets
    return {name: value for name, value in first.items() if all(other.get(name) == value for other in rest)}


def derive_group_key(
    group_labels: Mapping[str, str], common_labels: Mapping[str, str], alerts: list[AlertEvent]
) -> str:
    """A group key for a sender that sent none: ``derived:`` + a sorted label set.

    The label set is the first non-empty of: the group labels, the common labels, the labels
    every alert shares (what Alertmanager would have put in ``commonLabels``). With none of
    these it is ``derived:{}``: one group for the whole integration, which is what
    Alertmanager does with an empty ``group_by``. The same labels give the same key whichever
    of the three they came from.
    """
    labels = group_labels or common_labels or _shared_labels([alert.labels for alert in alerts])
    return DERIVED_GROUP_KEY_PREFIX + _label_string(labels)


def _status(value: object, field: str) -> str | None:
    """``firing``/``resolved`` (case-insensitive), ``None`` when missing; anything else is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().lower() in ALERT_STATUSES:
        return value.strip().lower()
    raise PayloadError(field, f"expected 'firing' or 'resolved', got {_show(value)}")


def _fingerprint(value: object, field: str, labels: dict[str, str]) -> str:
    """The sender's fingerprint (a non-empty string of at most 64 characters), else ours from the labels."""
    if value is None or value == "":
        if not labels:
            raise PayloadError(field, "missing, and the alert has no labels to compute one from")
        return fingerprint_for(labels)
    if not isinstance(value, str) or len(value) > MAX_FINGERPRINT_LENGTH:
        raise PayloadError(field, f"expected a string of at most {MAX_FINGERPRINT_LENGTH} characters")
    return value


def _alert_list(payload: Mapping, key: str = "alerts") -> list[dict]:
    """``payload[key]`` checked to be a list of JSON objects."""
    alerts = payload.get(key)
    if not isinstance(alerts, list):
        what = "missing" if alerts is None else f"expected a list, got {type(alerts).__name__}"
        raise PayloadError(key, what)
    for index, alert in enumerate(alerts):
        if not isinstance(alert, dict):
            raise PayloadError(f"{key}[{index}]", f"expected an object, got {type(alert).__name__}")
    return alerts


def _truncated(value: object) -> int:
    """``truncatedAlerts``: a count >= 0 (missing/null -> 0)."""
    if value is None:
        return 0
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise PayloadError("truncatedAlerts", f"expected a count >= 0, got {_show(value)}")


def _alertmanager_alert(raw: dict, prefix: str, group_status: str | None) -> AlertEvent:
    """One entry of ``alerts[]`` in the Alertmanager/Grafana shape."""
    labels = _string_map(raw.get("labels"), f"{prefix}.labels", required=True)
    status = _status(raw.get("status"), f"{prefix}.status") or group_status
    if status is None:
        raise PayloadError(f"{prefix}.status", "missing, and the payload has no group status to fall back on")
    if raw.get("startsAt") is None:
        raise PayloadError(f"{prefix}.startsAt", "missing")
    starts_at = parse_time(raw["startsAt"], f"{prefix}.startsAt")
    if starts_at is None:
        raise PayloadError(f"{prefix}.startsAt", f"unset ({_show(raw['startsAt'])}); an alert must have started")
    return AlertEvent(
        fingerprint=_fingerprint(raw.get("fingerprint"), f"{prefix}.fingerprint", labels),
        status=status,
        starts_at=starts_at,
        ends_at=parse_time(raw.get("endsAt"), f"{prefix}.endsAt"),
        labels=labels,
        annotations=_string_map(raw.get("annotations"), f"{prefix}.annotations"),
        generator_url=_optional_str(raw, "generatorURL", f"{prefix}.generatorURL"),
    )


def _alertmanager_shape(payload: object, sender: str, expected_version: str) -> AlertBatch:
    """The body Alertmanager's webhook notifier sends (Grafana's unified alerting sends the same, plus extras)."""
    if not isinstance(payload, dict):
        raise PayloadError(ROOT, f"expected a JSON object, got {type(payload).__name__}")
    version = payload.get("version")
    if version != expected_version:
        # Not refused: old senders say "3", OnCall's Grafana example says "4", the body is the same.
        logger.info(
            "%s webhook version %r (expected %r); parsing it as the default body",
            sender,
            version,
            expected_version,
            extra={"sender": sender, "payload_version": version},
        )
    alerts_raw = _alert_list(payload)
    group_status = _status(payload.get("status"), "status")
    alerts = [_alertmanager_alert(raw, f"alerts[{index}]", group_status) for index, raw in enumerate(alerts_raw)]
    group_labels = _string_map(payload.get("groupLabels"), "groupLabels")
    common_labels = _string_map(payload.get("commonLabels"), "commonLabels")
    group_key = _optional_str(payload, "groupKey", "groupKey") or derive_group_key(group_labels, common_labels, alerts)
    return AlertBatch(
        group_key=group_key,
        alerts=alerts,
        truncated=_truncated(payload.get("truncatedAlerts")),
        receiver=_optional_str(payload, "receiver", "receiver"),
        external_url=_optional_str(payload, "externalURL", "externalURL"),
        common_labels=common_labels or _shared_labels([alert.labels for alert in alerts]),
    )


def parse_alertmanager(payload: object) -> AlertBatch:
    """An Alertmanager webhook body (FORMATS.md (a)) as one ``AlertBatch``.

    Shape: ``{"version": "4", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
    "commonLabels", "commonAnnotations", "externalURL", "alerts": [{"status", "labels",
    "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"}]}``; source: Alertmanager
    ``notify/webhook/webhook.go``. Other versions (old "3") are logged and parsed the same way;
    unknown keys (``numFiring``, ``notification_reason``, ...) are ignored.

    Each alert keeps its own ``status`` (a firing group carries resolved alerts, BR-04); only an
    alert without one takes the group ``status``. ``fingerprint`` missing -> ``fingerprint_for``
    (labels). ``startsAt`` is required and set; ``endsAt`` zero -> ``None`` (BR-02). For a firing
    alert a set ``endsAt`` is only Alertmanager's estimate: decide state by ``status``.
    ``groupKey`` is kept opaque; when missing it is derived (``derive_group_key``).
    ``truncatedAlerts`` -> ``truncated``: above 0 the list is incomplete. ``common_labels`` is
    ``commonLabels``, or the labels all alerts share when the sender left it out.

    Raises ``PayloadError`` naming the field: body not an object (``$``), ``alerts`` not a list
    of objects, an alert without ``labels`` (an object), a missing/unset/bad ``startsAt`` or bad
    ``endsAt``, a status other than firing/resolved, a non-count ``truncatedAlerts``.
    """
    return _alertmanager_shape(payload, "alertmanager", ALERTMANAGER_VERSION)


def _is_grafana_test(alerts: list[AlertEvent]) -> bool:
    """Grafana's "Test" button alert: every alert has alertname=TestAlert and instance=Grafana."""
    return bool(alerts) and all(
        all(alert.labels.get(name) == value for name, value in GRAFANA_TEST_LABELS.items()) for alert in alerts
    )


def _legacy_state(value: object) -> str:
    """Legacy dashboard alert ``state`` as an alert status.

    ``alerting`` and ``no_data`` -> firing (Grafana sends ``no_data`` only when the rule is set to
    notify on it, i.e. the absence of data is the problem); ``ok`` -> resolved. ``paused`` and
    ``pending`` are never notified by Grafana (``ShouldNotify`` skips them), so they and anything
    else are refused.
    """
    state = value.strip().lower() if isinstance(value, str) else value
    if state in ("alerting", "no_data"):
        return FIRING
    if state == "ok":
        return RESOLVED
    raise PayloadError("state", f"expected 'alerting', 'no_data' or 'ok', got {_show(value)}")


def _eval_matches(value: object) -> str:
    """Legacy ``evalMatches`` ``[{"metric", "value", "tags"}]`` as ``"High value=100, Higher Value=200"``."""
    if value is None:
        return ""
    if not isinstance(value, list):
        raise PayloadError("evalMatches", f"expected a list, got {type(value).__name__}")
    parts = []
    for index, match in enumerate(value):
        if not isinstance(match, dict):
            raise PayloadError(f"evalMatches[{index}]", f"expected an object, got {type(match).__name__}")
        parts.append(f"{_text(match.get('metric'))}={_text(match.get('value'))}")
    return ", ".join(parts)


def _grafana_legacy(payload: dict) -> AlertBatch:
    """A legacy (Grafana < 8) dashboard alert as a batch of one alert.

    Identity is the rule: fingerprint ``fingerprint_for({"grafana_rule_id": ruleId})`` (or the
    rule name when there is no id), group key ``grafana-legacy-rule:<ruleId>``. Labels are the
    rule's ``tags`` plus ``alertname`` (``ruleName``) and ``grafana_rule_id``. The body has no
    times, so ``starts_at``/``ends_at`` are ``None``: the ingestion uses the arrival time.
    The legacy "Test" button body (ruleId 0 and Grafana's test message) is ``is_test``.
    """
    status = _legacy_state(payload.get("state"))
    rule_id = payload.get("ruleId")
    if isinstance(rule_id, bool) or not isinstance(rule_id, int | str | None):
        raise PayloadError("ruleId", f"expected a number, got {_show(rule_id)}")
    rule_id_text = "" if rule_id is None else str(rule_id).strip()
    rule_name = _optional_str(payload, "ruleName", "ruleName")
    if not rule_id_text and not rule_name:
        raise PayloadError("ruleId", "missing, and so is ruleName: the alert cannot be identified")
    identity = {"grafana_rule_id": rule_id_text} if rule_id_text else {"grafana_rule_name": rule_name}
    labels = {
        **_string_map(payload.get("tags"), "tags"),
        "alertname": rule_name or f"Grafana rule {rule_id_text}",
        **identity,
    }
    message = _optional_str(payload, "message", "message")
    annotations = {
        "title": _optional_str(payload, "title", "title"),
        "description": message,
        "eval_matches": _eval_matches(payload.get("evalMatches")),
        "image_url": _optional_str(payload, "imageUrl", "imageUrl"),
    }
    alert = AlertEvent(
        fingerprint=fingerprint_for(identity),
        status=status,
        starts_at=None,
        ends_at=None,
        labels=labels,
        annotations={name: text for name, text in annotations.items() if text},
        generator_url=_optional_str(payload, "ruleUrl", "ruleUrl"),
    )
    group = rule_id_text or f"name:{rule_name}"
    return AlertBatch(
        group_key=f"{GRAFANA_LEGACY_GROUP_KEY_PREFIX}{group}",
        alerts=[alert],
        is_test=rule_id_text in ("", "0") and message.strip().lower().startswith(GRAFANA_LEGACY_TEST_MESSAGE),
        common_labels=dict(labels),
    )


def parse_grafana(payload: object) -> AlertBatch:
    """A Grafana alerting webhook body (FORMATS.md (b)) as one ``AlertBatch``.

    Unified alerting (Grafana >= 8; source grafana/alerting ``receivers/webhook/v1/webhook.go``):
    the Alertmanager body with ``version`` "1" plus ``orgId``, ``title``, ``state``, ``message``
    and per-alert ``silenceURL``, ``dashboardURL``, ``panelURL``, ``values``, ``valueString``,
    ``imageURL``; parsed exactly like ``parse_alertmanager`` (the extras are ignored). The test
    notification (every alert labelled alertname=TestAlert, instance=Grafana; its ``groupKey``
    embeds a Go time string and it says ``truncatedAlerts: 1``) comes back with ``is_test=True``.

    Legacy dashboard alerts (Grafana < 8, no ``alerts`` key; ``ruleId``, ``ruleName``, ``state``,
    ``evalMatches``, ...) come back as one alert, see ``_grafana_legacy``; a ``state`` of
    ``paused``/``pending``/unknown raises ``PayloadError("state", ...)``.
    """
    if not isinstance(payload, dict):
        raise PayloadError(ROOT, f"expected a JSON object, got {type(payload).__name__}")
    if "alerts" not in payload and any(key in payload for key in ("ruleId", "ruleName", "evalMatches")):
        return _grafana_legacy(payload)
    batch = _alertmanager_shape(payload, "grafana", GRAFANA_VERSION)
    if _is_grafana_test(batch.alerts):
        return AlertBatch(
            group_key=batch.group_key,
            alerts=batch.alerts,
            truncated=batch.truncated,
            is_test=True,
            receiver=batch.receiver,
            external_url=batch.external_url,
            common_labels=batch.common_labels,
        )
    return batch


def _generic_alert(raw: dict, prefix: str, default_status: str | None) -> AlertEvent:
    """One alert of the generic format (module docstring); ``prefix`` is "" for a bare alert."""

    def path(key: str) -> str:
        return f"{prefix}.{key}" if prefix else key

    status = _status(raw.get("status"), path("status")) or default_status
    if status is None:
        raise PayloadError(path("status"), "missing: say 'firing' or 'resolved'")
    dedup_key = raw.get("dedup_key")
    if dedup_key is not None and (
        not isinstance(dedup_key, str) or not dedup_key.strip() or len(dedup_key) > MAX_FINGERPRINT_LENGTH
    ):
        raise PayloadError(path("dedup_key"), f"expected a non-empty string of at most {MAX_FINGERPRINT_LENGTH} chars")
    labels = _string_map(raw.get("labels"), path("labels"), required=dedup_key is None)
    if not labels and dedup_key is None:
        raise PayloadError(path("labels"), "empty: give the alert labels or a dedup_key to identify it")
    annotations = _string_map(raw.get("annotations"), path("annotations"))
    for key, annotation in (("title", "summary"), ("description", "description")):
        text = _optional_str(raw, key, path(key))
        if text and annotation not in annotations:
            annotations[annotation] = text
    return AlertEvent(
        fingerprint=dedup_key.strip() if dedup_key is not None else fingerprint_for(labels),
        status=status,
        starts_at=parse_time(raw.get("starts_at"), path("starts_at")),
        ends_at=parse_time(raw.get("ends_at"), path("ends_at")),
        labels=labels,
        annotations=annotations,
        generator_url=_optional_str(raw, "url", path("url")),
    )


def parse_generic(payload: object) -> AlertBatch:
    """sredesk's generic JSON alert body (format in the module docstring) as one ``AlertBatch``.

    ``{"group_key"?, "status"?, "alerts": [alert, ...]}`` or one bare alert object. Each alert:
    ``status`` (or the top-level one), ``labels`` and/or ``dedup_key``, optional ``title``,
    ``description``, ``annotations``, ``url``, ``starts_at``, ``ends_at`` (RFC 3339 with an
    offset; unset -> ``None``). Fingerprint: ``dedup_key``, else ``fingerprint_for(labels)``.
    Group key: ``group_key``, else ``derive_group_key`` over the alerts' shared labels.

    Raises ``PayloadError`` naming the field (``alerts[0].labels``, or ``labels`` for a bare alert).
    """
    if not isinstance(payload, dict):
        raise PayloadError(ROOT, f"expected a JSON object, got {type(payload).__name__}")
    default_status = _status(payload.get("status"), "status")
    if "alerts" in payload:
        alerts = [
            _generic_alert(raw, f"alerts[{index}]", default_status) for index, raw in enumerate(_alert_list(payload))
        ]
    else:
        alerts = [_generic_alert(payload, "", default_status)]
    shared = _shared_labels([alert.labels for alert in alerts])
    group_key = _optional_str(payload, "group_key", "group_key").strip() or derive_group_key({}, shared, alerts)
    return AlertBatch(group_key=group_key, alerts=alerts, common_labels=shared)


def _reference_name(value: object) -> str:
    """A PagerDuty reference's display name (references carry ``summary``, full objects ``name``)."""
    if not isinstance(value, dict):
        return ""
    return _text(value.get("summary") or value.get("name") or "")


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
    event_type = _optional_str(event, "event_type", "event.event_type")
    if not event_type:
        raise PayloadError("event.event_type", "missing")
    resource_type = _optional_str(event, "resource_type", "event.resource_type")
    if resource_type not in ("", "incident") or not event_type.startswith("incident."):
        return None
    event_id = _optional_str(event, "id", "event.id")
    if not event_id:
        raise PayloadError("event.id", "missing")
    occurred_at = parse_time(event.get("occurred_at"), "event.occurred_at")
    if occurred_at is None:
        raise PayloadError("event.occurred_at", "missing or unset")
    data = event.get("data")
    if not isinstance(data, dict):
        raise PayloadError("event.data", "missing" if data is None else "expected an object")

    data_type = _optional_str(data, "type", "event.data.type")
    note = ""
    if data_type in ("", "incident"):
        incident, prefix = data, "event.data"
    else:
        incident, prefix = data.get("incident"), "event.data.incident"
        if not isinstance(incident, dict):
            raise PayloadError(prefix, f"missing: a {data_type} event must reference its incident")
        note_key = PAGERDUTY_NOTE_TYPES.get(data_type)
        if note_key:
            note = _optional_str(data, note_key, f"event.data.{note_key}")
    incident_id = _optional_str(incident, "id", f"{prefix}.id")
    if not incident_id:
        raise PayloadError(f"{prefix}.id", "missing")
    number = incident.get("number")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        raise PayloadError(f"{prefix}.number", f"expected an integer, got {_show(number)}")
    return PagerDutyEvent(
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        incident_id=incident_id,
        incident_number=number,
        title=_optional_str(incident, "title", f"{prefix}.title") or _reference_name(incident),
        status=_optional_str(incident, "status", f"{prefix}.status"),
        urgency=_optional_str(incident, "urgency", f"{prefix}.urgency"),
        priority=_reference_name(incident.get("priority")),
        html_url=_optional_str(incident, "html_url", f"{prefix}.html_url"),
        service_name=_reference_name(incident.get("service")),
        note=note,
        agent_name=_reference_name(event.get("agent")),
    )


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _raw_bytes(raw_body: object) -> bytes:
    """The request body as received; a ``str`` is refused because re-encoding breaks signatures (BR-11)."""
    if isinstance(raw_body, bytes | bytearray | memoryview):
        return bytes(raw_body)
    raise TypeError("verify the raw request bytes (request.body), not a decoded or re-encoded body")


def verify_pagerduty_signature(raw_body: bytes, header: str | None, secrets: list[str]) -> bool:
    """Whether ``X-PagerDuty-Signature`` is valid for the raw body under any of ``secrets``.

    ``header``: ``v1=<hex HMAC-SHA256(secret, raw body)>``, several comma-separated during a
    secret rotation; entries of other versions are skipped. Valid if any ``v1`` value matches
    any (non-empty) secret; each comparison is constant-time (``hmac.compare_digest``). An
    empty/missing header or no secrets -> ``False``. The header carries no timestamp: replay
    protection is the caller's dedup on ``event.id``.
    """
    body = _raw_bytes(raw_body)
    signatures = []
    for part in (header or "").split(","):
        version, _, value = part.strip().partition("=")
        if version.strip().lower() == "v1" and value.strip():
            signatures.append(value.strip().lower().encode("ascii", "replace"))
    expected = [_hmac_hex(secret, body).encode("ascii") for secret in secrets if secret]
    return any(hmac.compare_digest(want, got) for want in expected for got in signatures)


def verify_grafana_signature(raw_body: bytes, header: str | None, secret: str, timestamp: str | None = None) -> bool:
    """Whether Grafana's HMAC header (default ``X-Grafana-Alert-Signature``) is valid for the raw body.

    ``header``: hex HMAC-SHA256 with ``secret`` over the body, or over ``"<timestamp>:" + body``
    when the contact point sends a timestamp header (unix seconds; pass its value as
    ``timestamp``). Source: grafana/alerting ``http/hmac.go``. ``timestamp=None`` means no
    timestamp header is configured; an empty string (configured but absent) fails. Freshness of
    the timestamp is the caller's check. Constant-time comparison.
    """
    body = _raw_bytes(raw_body)
    if not secret or not header or timestamp == "":
        return False
    message = body if timestamp is None else timestamp.strip().encode("ascii", "replace") + b":" + body
    expected = _hmac_hex(secret, message).encode("ascii")
    return hmac.compare_digest(expected, header.strip().lower().encode("ascii", "replace"))
