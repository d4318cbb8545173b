"""Grafana alerting's webhook body (FORMATS.md (b)): unified alerting (Grafana >= 8) and legacy dashboard alerts.

Source: grafana/alerting ``receivers/webhook/v1/webhook.go``; legacy: Grafana < 8
``pkg/services/alerting``.
"""

from .alertmanager import alertmanager_shape
from .common import (
    FIRING,
    RESOLVED,
    ROOT,
    AlertBatch,
    AlertEvent,
    PayloadError,
    as_text,
    fingerprint_for,
    label_set,
    optional_str,
    show,
)

GRAFANA_VERSION = "1"
GRAFANA_LEGACY_GROUP_KEY_PREFIX = "grafana-legacy-rule:"
GRAFANA_TEST_LABELS = {"alertname": "TestAlert", "instance": "Grafana"}
# Per-alert links Grafana adds beside the Alertmanager fields, kept among the alert's annotations (the incident
# page links the http(s) ones: incidents.alert_panel).
GRAFANA_ALERT_LINKS = ("dashboardURL", "panelURL", "silenceURL")
# Legacy (pre-v8) "Test" button body: ruleId 0 and this message (pkg/services/alerting/test_notification.go).
GRAFANA_LEGACY_TEST_MESSAGE = "someone is testing the alert notification within grafana"


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
    raise PayloadError("state", f"expected 'alerting', 'no_data' or 'ok', got {show(value)}")


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
        parts.append(f"{as_text(match.get('metric'))}={as_text(match.get('value'))}")
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
        raise PayloadError("ruleId", f"expected a number, got {show(rule_id)}")
    rule_id_text = "" if rule_id is None else str(rule_id).strip()
    rule_name = optional_str(payload, "ruleName", "ruleName")
    if not rule_id_text and not rule_name:
        raise PayloadError("ruleId", "missing, and so is ruleName: the alert cannot be identified")
    identity = {"grafana_rule_id": rule_id_text} if rule_id_text else {"grafana_rule_name": rule_name}
    labels = {
        **label_set(payload.get("tags"), "tags"),
        "alertname": rule_name or f"Grafana rule {rule_id_text}",
        **identity,
    }
    message = optional_str(payload, "message", "message")
    annotations = {
        "title": optional_str(payload, "title", "title"),
        "description": message,
        "eval_matches": _eval_matches(payload.get("evalMatches")),
        "image_url": optional_str(payload, "imageUrl", "imageUrl"),
    }
    alert = AlertEvent(
        fingerprint=fingerprint_for(identity),
        status=status,
        starts_at=None,
        ends_at=None,
        labels=labels,
        annotations={name: text for name, text in annotations.items() if text},
        generator_url=optional_str(payload, "ruleUrl", "ruleUrl"),
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
    ``imageURL``; parsed exactly like ``parse_alertmanager``; the non-empty ``dashboardURL``,
    ``panelURL`` and ``silenceURL`` are kept as annotations of those names, the other extras
    are ignored. The test notification (every alert labelled alertname=TestAlert,
    instance=Grafana; its ``groupKey`` embeds a Go time string and it says
    ``truncatedAlerts: 1``) comes back with ``is_test=True``.

    Legacy dashboard alerts (Grafana < 8, no ``alerts`` key; ``ruleId``, ``ruleName``, ``state``,
    ``evalMatches``, ...) come back as one alert, see ``_grafana_legacy``; a ``state`` of
    ``paused``/``pending``/unknown raises ``PayloadError("state", ...)``.
    """
    if not isinstance(payload, dict):
        raise PayloadError(ROOT, f"expected a JSON object, got {type(payload).__name__}")
    if "alerts" not in payload and any(key in payload for key in ("ruleId", "ruleName", "evalMatches")):
        return _grafana_legacy(payload)
    batch = alertmanager_shape(payload, "grafana", GRAFANA_VERSION)
    for raw, alert in zip(payload["alerts"], batch.alerts, strict=True):
        for name in GRAFANA_ALERT_LINKS:
            if isinstance(raw.get(name), str) and raw[name].strip():
                alert.annotations.setdefault(name, raw[name].strip())
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
