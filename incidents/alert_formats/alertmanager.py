"""Prometheus Alertmanager's webhook body (``version`` "4"; FORMATS.md (a)), which Grafana's unified alerting reuses.

Source: Alertmanager ``notify/webhook/webhook.go``.
"""

import logging

from sredesk.inputs import InputError, parse_int

from .common import (
    ROOT,
    AlertBatch,
    AlertEvent,
    PayloadError,
    alert_list,
    alert_status,
    derive_group_key,
    label_set,
    optional_str,
    parse_time,
    sender_fingerprint,
    shared_labels,
    show,
    string_map,
)

logger = logging.getLogger(__name__)

ALERTMANAGER_VERSION = "4"


def _truncated(value: object) -> int:
    """``truncatedAlerts``: a count >= 0 (missing/null -> 0), a number or a string of ASCII digits.

    Strictly ASCII (``sredesk.inputs.parse_int``): ``str.isdigit()`` takes ``"¹"``, on which ``int()`` raises.
    """
    if value is None:
        return 0
    try:
        return parse_int(value, field="truncatedAlerts", min_value=0)
    except InputError:
        raise PayloadError("truncatedAlerts", f"expected a count >= 0, got {show(value)}") from None


def _alertmanager_alert(raw: dict, prefix: str, group_status: str | None) -> AlertEvent:
    """One entry of ``alerts[]`` in the Alertmanager/Grafana shape."""
    labels = label_set(raw.get("labels"), f"{prefix}.labels", required=True)
    status = alert_status(raw.get("status"), f"{prefix}.status") or group_status
    if status is None:
        raise PayloadError(f"{prefix}.status", "missing, and the payload has no group status to fall back on")
    if raw.get("startsAt") is None:
        raise PayloadError(f"{prefix}.startsAt", "missing")
    starts_at = parse_time(raw["startsAt"], f"{prefix}.startsAt")
    if starts_at is None:
        raise PayloadError(f"{prefix}.startsAt", f"unset ({show(raw['startsAt'])}); an alert must have started")
    return AlertEvent(
        fingerprint=sender_fingerprint(raw.get("fingerprint"), f"{prefix}.fingerprint", labels),
        status=status,
        starts_at=starts_at,
        ends_at=parse_time(raw.get("endsAt"), f"{prefix}.endsAt"),
        labels=labels,
        annotations=string_map(raw.get("annotations"), f"{prefix}.annotations"),
        generator_url=optional_str(raw, "generatorURL", f"{prefix}.generatorURL"),
    )


def alertmanager_shape(payload: object, sender: str, expected_version: str) -> AlertBatch:
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
    alerts_raw = alert_list(payload)
    group_status = alert_status(payload.get("status"), "status")
    alerts = [_alertmanager_alert(raw, f"alerts[{index}]", group_status) for index, raw in enumerate(alerts_raw)]
    group_labels = label_set(payload.get("groupLabels"), "groupLabels")
    common_labels = label_set(payload.get("commonLabels"), "commonLabels")
    group_key = optional_str(payload, "groupKey", "groupKey") or derive_group_key(group_labels, common_labels, alerts)
    return AlertBatch(
        group_key=group_key,
        alerts=alerts,
        truncated=_truncated(payload.get("truncatedAlerts")),
        receiver=optional_str(payload, "receiver", "receiver"),
        external_url=optional_str(payload, "externalURL", "externalURL"),
        common_labels=common_labels or shared_labels([alert.labels for alert in alerts]),
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
    return alertmanager_shape(payload, "alertmanager", ALERTMANAGER_VERSION)
