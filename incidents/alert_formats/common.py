"""What every sender's parser shares: the parsed shapes, errors, times, label sets and fingerprints.

Pure (no database, no settings). The parsers build on it, one module per
sender: ``alertmanager`` (Alertmanager webhook v4), ``grafana`` (Grafana
alerting, and legacy dashboard alerts), ``generic`` (sredesk's own JSON) and
``pagerduty`` (PagerDuty V3); ``signatures`` holds the HMAC checks and the
webhook's authentication policy. Sources and quirks: ../shared/FORMATS.md
sections (a) Alertmanager webhook v4, (b) Grafana alerting webhook, (c)
PagerDuty V3 webhooks.

INTERFACE CONTRACT (shared by the parsers and the ingestion code; keep stable).
The callers decode the JSON (and keep the raw bytes for signatures and
re-parsing); the parsers take the decoded ``dict`` and return an
``AlertBatch`` (or a ``pagerduty.PagerDutyEvent``), or raise ``PayloadError``
naming the offending field.

Times everywhere are aware UTC ``datetime`` or ``None`` for unset (Go's zero
time, any year-1 time, epoch 0, "" and null); times without an offset are
refused (FIELD-CASES BR-02, BR-22).
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from sredesk.inputs import escape_text


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


FIRING = "firing"
RESOLVED = "resolved"
ALERT_STATUSES = (FIRING, RESOLVED)
ROOT = "$"  # ``PayloadError.field`` when the body itself is wrong (not a JSON object)
DERIVED_GROUP_KEY_PREFIX = "derived:"
# Sender fingerprints are 16 hex digits; hand-made payloads and generic dedup keys may be longer,
# but never longer than this (the storage column is sized for it).
MAX_FINGERPRINT_LENGTH = 64
# RFC 3339 date-time (section 5.6), plus a space for "T" (allowed by its note) and an offset
# without a colon. Group 8 is the offset; a time without one is naive and refused.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"([Zz]|[+-]\d{2}:?\d{2})?",
    re.ASCII,  # ASCII digits only: \d would take any Unicode digit ("２０２４"), which no sender writes
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# A JSON body can carry NUL or a surrogate only as a \u escape (raw NUL is not JSON, raw surrogates are not UTF-8).
_MAY_HOLD_UNSTORABLE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def storable_payload(payload: object, body: bytes) -> object:
    r"""The decoded webhook ``payload`` with every string, keys included, storable (``sredesk.inputs.escape_text``).

    ``body`` is the raw bytes ``payload`` was decoded from: only a body with a
    ``\u0000`` or ``\ud8xx``-``\udfxx`` escape can hold NUL or a lone
    surrogate, which PostgreSQL cannot store; any other body is returned as
    is, unwalked (the hot path, bench/ingest). Otherwise a new payload whose
    strings are escaped reversibly: NUL -> the text ``\u0000``.

    Escaped, never refused, field by field, because the sender loses a refused
    delivery: Alertmanager drops a group answered 4xx and resends the whole
    group after a 5xx, so one bad value would block or lose every alert of it
    (issue 12). The raw bytes stay on the receipt.

    * labels (names and values) and annotations: kept escaped; identity,
      routing and the page work on the escaped text, and the escape is
      deterministic, so a resent group is recognised as the same alerts;
    * ``fingerprint``, ``groupKey``, generic ``dedup_key`` and ``group_key``,
      PagerDuty ids: identities, escaped the same way (deterministic, so
      stable); the fingerprint/dedup key must still fit 64 characters
      (``MAX_FINGERPRINT_LENGTH``, else 400 naming it) and a long group key is
      stored as its hash (``incidents.ingest.grouping.group_storage_key``);
    * ``generatorURL``, PagerDuty titles, notes and links: kept escaped (a link
      is rendered only when it is http(s), ``sredesk_ui.http_url``);
    * ``status``, ``startsAt``/``endsAt`` and other values with a fixed form:
      escaped text is not that form, so the parser refuses it with 400 naming
      the field, as any other wrong value.
    """
    if _MAY_HOLD_UNSTORABLE.search(body) is None:
        return payload
    return _escape_strings(payload)


def _escape_strings(value: object) -> object:
    """``value`` with ``escape_text`` applied to every string; JSON nests at most 64 deep (``load_json``)."""
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, dict):
        return {escape_text(key): _escape_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_escape_strings(item) for item in value]
    return value


def show(value: object, limit: int = 80) -> str:
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
        raise PayloadError(field, f"expected an RFC 3339 time string, got {show(value)}")
    if not isinstance(value, str):
        if value == 0:
            return None
        raise PayloadError(field, f"expected an RFC 3339 time string, got the number {show(value)}")
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
        raise ValueError(f"not an RFC 3339 time: {show(value)}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if offset is None:
        raise ValueError(f"time has no UTC offset (naive times are refused): {show(value)}")
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
        raise ValueError(f"not a valid time: {show(value)} ({exc})") from exc
    if parsed == _EPOCH:
        return None
    return parsed


def as_text(value: object) -> str:
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


def canonical_labels(labels: Mapping[str, object]) -> dict[str, str]:
    """A sender's label set in the one form every hash, key and comparison of alert identity uses.

    Shape: ``{name: value}`` of strings in, a new ``{str: str}`` out; idempotent.
    Every identity derived from labels goes through here first: the computed
    fingerprint (``fingerprint_for``), the derived group key (``derive_group_key``),
    the shared/common labels, the service and severity label lookups
    (``incidents.ingest.grouping.label_value``), and the comparison of an event's
    labels with a stored alert's (``incidents.ingest.matching.Index``). The
    parsers apply it to every label set they read (``label_set``), so the
    labels stored on an alert are canonical too.

    Applied, per the senders' own semantics:

    * **An empty value is an absent label.** Prometheus: "A label with an empty
      label value is considered equivalent to a label that does not exist"
      (Prometheus docs, Data model), so an alert from Prometheus never carries
      one and Alertmanager's fingerprint never covers one. Grafana alerting
      keeps its alerts as Prometheus label sets (the same model), and
      sredesk's generic format follows the same rule; a JSON ``null`` value
      counts as empty. So
      ``{"alertname": "X", "env": ""}`` and ``{"alertname": "X"}`` are one alert
      (FIELD-CASES BR-05's kind: identity from a volatile detail).
    * **Values are text**: JSON numbers and booleans as JSON writes them
      (``as_text``), as Alertmanager's labels are strings.
    * **Order never matters**: a mapping has none, and every hash and key sorts
      by label name.

    Deliberately not applied (each would merge alerts the sender keeps apart):

    * **Case** of label names and values: Prometheus and Grafana label names
      and values are case-sensitive (``Service`` is not ``service``).
    * **Whitespace**: ``" a"`` and ``"a"`` are different Prometheus values;
      nothing is trimmed (only a value of exactly ``""`` is absent).
    * **Unicode normalisation**: Prometheus compares label values byte for byte.
    * **Labels a receiver or the sender adds** (Grafana's ``__alert_rule_uid__``,
      ``grafana_folder``, Alertmanager's external labels, OnCall's extras): they
      are part of the label set the sender hashes too, so they stay part of ours.
    * **Annotations**, status and times: never part of an identity (BR-05).
    * **PagerDuty** has no label set: its identities are PagerDuty's incident id
      and ``event.id``, kept opaque; the sender's own fingerprint, group key
      and generic ``dedup_key`` are opaque too (the last only stripped of
      surrounding spaces by the generic parser).
    """
    if all(type(value) is str and value for value in labels.values()):  # the usual case: nothing to drop
        return {str(name): value for name, value in labels.items()}
    return {str(name): text for name, value in labels.items() if (text := as_text(value)) != ""}


def label_set(value: object, field: str, *, required: bool = False) -> dict[str, str]:
    """A JSON object of labels, checked like ``string_map`` and made canonical (``canonical_labels``)."""
    return canonical_labels(string_map(value, field, required=required))


def string_map(value: object, field: str, *, required: bool = False) -> dict[str, str]:
    """A JSON object of labels or annotations as ``{str: str}``; missing/null is ``{}`` unless required."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        what = "missing" if value is None else f"expected an object, got {type(value).__name__}"
        raise PayloadError(field, what)
    if all(type(item) is str for item in value.values()):  # the usual case; JSON object keys are strings
        return dict(value)
    return {str(key): as_text(item) for key, item in value.items()}


def optional_str(payload: Mapping, key: str, field: str) -> str:
    """A string field that may be missing or null (-> ""); numbers are accepted as their text."""
    value = payload.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise PayloadError(field, f"expected a string, got {show(value)}")


_FNV64_OFFSET = 14695981039346656037
_FNV64_PRIME = 1099511628211
_SEPARATOR = 0xFF  # Prometheus model.SeparatorByte


def fingerprint_for(labels: Mapping[str, object]) -> str:
    """Alertmanager's fingerprint for a label set: 16 lowercase hex digits.

    The same algorithm as Prometheus ``model.LabelSet.Fingerprint``: FNV-1a 64
    over the label names in sorted order, each name and value followed by the
    separator byte 0xFF. So an alert that arrives once with the sender's
    fingerprint and once without it (old or hand-written payloads) keeps one
    identity. It depends on the canonical label set only (``canonical_labels``:
    an empty value is an absent label), never on dict order, annotations,
    status or timestamps (FIELD-CASES BR-05).
    """
    digest = _FNV64_OFFSET
    canonical = canonical_labels(labels)
    for name in sorted(canonical):
        for part in (name, canonical[name]):
            for byte in part.encode("utf-8"):
                digest = ((digest ^ byte) * _FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF
            digest = ((digest ^ _SEPARATOR) * _FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{digest:016x}"


def _label_string(labels: Mapping[str, str]) -> str:
    """Labels in Alertmanager's ``LabelSet.String()`` shape: ``{alertname="X", service="y"}``, sorted."""
    inner = ", ".join(f"{name}={json.dumps(labels[name], ensure_ascii=False)}" for name in sorted(labels))
    return "{" + inner + "}"


def shared_labels(label_sets: list[dict[str, str]]) -> dict[str, str]:
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
    Alertmanager does with an empty ``group_by``. The same canonical labels (``canonical_labels``)
    give the same key whichever of the three they came from.
    """
    labels = (
        canonical_labels(group_labels)
        or canonical_labels(common_labels)
        or shared_labels([canonical_labels(alert.labels) for alert in alerts])
    )
    return DERIVED_GROUP_KEY_PREFIX + _label_string(labels)


def alert_status(value: object, field: str) -> str | None:
    """``firing``/``resolved`` (case-insensitive), ``None`` when missing; anything else is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().lower() in ALERT_STATUSES:
        return value.strip().lower()
    raise PayloadError(field, f"expected 'firing' or 'resolved', got {show(value)}")


def sender_fingerprint(value: object, field: str, labels: dict[str, str]) -> str:
    """The sender's fingerprint (a non-empty string of at most 64 characters), else ours from the labels."""
    if value is None or value == "":
        if not labels:
            raise PayloadError(field, "missing, and the alert has no labels to compute one from")
        return fingerprint_for(labels)
    if not isinstance(value, str) or len(value) > MAX_FINGERPRINT_LENGTH:
        raise PayloadError(field, f"expected a string of at most {MAX_FINGERPRINT_LENGTH} characters")
    return value


def alert_list(payload: Mapping, key: str = "alerts") -> list[dict]:
    """``payload[key]`` checked to be a list of JSON objects."""
    alerts = payload.get(key)
    if not isinstance(alerts, list):
        what = "missing" if alerts is None else f"expected a list, got {type(alerts).__name__}"
        raise PayloadError(key, what)
    for index, alert in enumerate(alerts):
        if not isinstance(alert, dict):
            raise PayloadError(f"{key}[{index}]", f"expected an object, got {type(alert).__name__}")
    return alerts
