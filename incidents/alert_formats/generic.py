"""sredesk's own generic JSON alert body, for scripts, cron jobs and tools without their own integration.

Format (``parse_generic``)::

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
"""

from .common import (
    MAX_FINGERPRINT_LENGTH,
    ROOT,
    AlertBatch,
    AlertEvent,
    PayloadError,
    alert_list,
    alert_status,
    derive_group_key,
    fingerprint_for,
    label_set,
    optional_str,
    parse_time,
    shared_labels,
    string_map,
)


def _generic_alert(raw: dict, prefix: str, default_status: str | None) -> AlertEvent:
    """One alert of the generic format (module docstring); ``prefix`` is "" for a bare alert."""

    def path(key: str) -> str:
        return f"{prefix}.{key}" if prefix else key

    status = alert_status(raw.get("status"), path("status")) or default_status
    if status is None:
        raise PayloadError(path("status"), "missing: say 'firing' or 'resolved'")
    dedup_key = raw.get("dedup_key")
    if dedup_key is not None and (
        not isinstance(dedup_key, str) or not dedup_key.strip() or len(dedup_key) > MAX_FINGERPRINT_LENGTH
    ):
        raise PayloadError(path("dedup_key"), f"expected a non-empty string of at most {MAX_FINGERPRINT_LENGTH} chars")
    labels = label_set(raw.get("labels"), path("labels"), required=dedup_key is None)
    if not labels and dedup_key is None:
        raise PayloadError(path("labels"), "empty: give the alert labels or a dedup_key to identify it")
    annotations = string_map(raw.get("annotations"), path("annotations"))
    for key, annotation in (("title", "summary"), ("description", "description")):
        text = optional_str(raw, key, path(key))
        if text and annotation not in annotations:
            annotations[annotation] = text
    return AlertEvent(
        fingerprint=dedup_key.strip() if dedup_key is not None else fingerprint_for(labels),
        status=status,
        starts_at=parse_time(raw.get("starts_at"), path("starts_at")),
        ends_at=parse_time(raw.get("ends_at"), path("ends_at")),
        labels=labels,
        annotations=annotations,
        generator_url=optional_str(raw, "url", path("url")),
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
    default_status = alert_status(payload.get("status"), "status")
    if "alerts" in payload:
        alerts = [
            _generic_alert(raw, f"alerts[{index}]", default_status) for index, raw in enumerate(alert_list(payload))
        ]
    else:
        alerts = [_generic_alert(payload, "", default_status)]
    shared = shared_labels([alert.labels for alert in alerts])
    group_key = optional_str(payload, "group_key", "group_key").strip() or derive_group_key({}, shared, alerts)
    return AlertBatch(group_key=group_key, alerts=alerts, common_labels=shared)
