"""Alert payload parsers on the real payloads in shared/realdata and on the field cases (no database).

Run with SREDESK_REALDATA_DIR pointing at shared/realdata; the files are read there, never copied.
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
from pathlib import Path

import pytest

from incidents.alert_formats.alertmanager import parse_alertmanager
from incidents.alert_formats.common import AlertBatch, PayloadError, derive_group_key, fingerprint_for, parse_time
from incidents.alert_formats.generic import parse_generic
from incidents.alert_formats.grafana import parse_grafana
from incidents.alert_formats.pagerduty import parse_pagerduty
from incidents.alert_formats.signatures import verify_grafana_signature, verify_pagerduty_signature

UTC = dt.UTC
HEX16 = re.compile(r"[0-9a-f]{16}")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def load(realdata_dir: Path, name: str) -> dict:
    return json.loads((realdata_dir / name).read_bytes())


# --------------------------------------------------------------------------
# Every real file is parsed, and every one has its own content test below.
# --------------------------------------------------------------------------

PARSERS = {"alertmanager": parse_alertmanager, "grafana": parse_grafana, "pagerduty": parse_pagerduty}

# The per-file tests below, by directory; a new file in realdata fails test_every_real_file_has_a_content_test.
COVERED = {
    "alertmanager": {
        "diskspace-two-resolved-no-grouplabels.json",
        "firing-multi-long-generatorurl.json",
        "firing-old-style-no-alert-status-tz-offset.json",
        "high-cpu-two-firing-empty-grouplabels.json",
        "k8s-cputhrottling-resolved-with-common-items.json",
        "oncall-example-two-firing-numFiring.json",
        "resolved-without-fingerprint.json",
    },
    "grafana": {
        "legacy-pre-v8-dashboard-alert.json",
        "oncall-grafana-alerting-example-three-firing.json",
        "v11-firing-values-imageURL.json",
        "v8-test-notification-resolved-truncated.json",
        "v9-mixed-firing-and-resolved.json",
    },
    "pagerduty": {
        "v3-incident.acknowledged.json",
        "v3-incident.annotated-note.json",
        "v3-incident.escalated-priority-incident_type.json",
        "v3-incident.reassigned.json",
        "v3-incident.resolved.json",
        "v3-incident.status_update_published.json",
        "v3-incident.triggered.json",
    },
}


@pytest.mark.parametrize("sender", sorted(PARSERS))
def test_every_real_file_has_a_content_test(realdata_dir, sender):
    listing = {path.name for path in (realdata_dir / sender).iterdir() if path.is_file()}
    assert listing == COVERED[sender]


def _aware_utc(value: dt.datetime | None) -> bool:
    return value is None or value.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("sender", sorted(PARSERS))
def test_every_real_file_parses_into_well_formed_events(realdata_dir, sender):
    parse = PARSERS[sender]
    files = sorted(path for path in (realdata_dir / sender).iterdir() if path.is_file())
    assert files
    for path in files:
        result = parse(json.loads(path.read_bytes()))
        if sender == "pagerduty":
            assert result is not None, path.name
            assert result.event_id and result.incident_id, path.name
            assert _aware_utc(result.occurred_at) and result.occurred_at is not None, path.name
            continue
        assert isinstance(result, AlertBatch), path.name
        assert result.group_key and result.alerts, path.name
        for alert in result.alerts:
            assert alert.status in ("firing", "resolved"), path.name
            assert alert.fingerprint and alert.labels, path.name
            assert _aware_utc(alert.starts_at) and _aware_utc(alert.ends_at), path.name
            assert all(isinstance(v, str) for v in [*alert.labels.values(), *alert.annotations.values()])
            if alert.status == "firing":
                assert alert.ends_at is None, f"{path.name}: zero endsAt must be unset"


# --------------------------------------------------------------------------
# Alertmanager real files
# --------------------------------------------------------------------------


def test_am_diskspace_two_resolved_reused_fingerprint_no_group_key(realdata_dir):
    batch = parse_alertmanager(load(realdata_dir, "alertmanager/diskspace-two-resolved-no-grouplabels.json"))

    assert [a.status for a in batch.alerts] == ["resolved", "resolved"]
    # The fixture reuses one fingerprint for two different label sets: kept as sent (ingestion falls back to labels).
    assert [a.fingerprint for a in batch.alerts] == ["dd19ae3d4e06ac55", "dd19ae3d4e06ac55"]
    assert batch.alerts[0].labels["instance"] == "cs30.evilcorp"
    assert batch.alerts[1].labels["instance"] == "cs31.evilcorp"
    # 9-, 6-, 3- and 5-digit fractions all come out as microseconds.
    assert batch.alerts[0].starts_at == utc(2017, 5, 9, 7, 1, 37, 803000)
    assert batch.alerts[0].ends_at == utc(2017, 5, 9, 7, 8, 37, 818000)
    assert batch.alerts[1].ends_at == utc(2017, 5, 9, 7, 8, 37, 818270)
    # No groupKey, groupLabels or commonLabels: the key comes from the labels both alerts share.
    shared = {"alertname": "DiskSpace", "device": "rootfs", "fstype": "rootfs", "mountpoint": "/"}
    assert batch.common_labels == shared
    assert batch.group_key == 'derived:{alertname="DiskSpace", device="rootfs", fstype="rootfs", mountpoint="/"}'
    assert batch.receiver == "test_webhook"
    assert batch.truncated == 0
    assert batch.alerts[0].name == "Disk usage alert on CS30.evilcorp"


def test_am_three_firing_long_generator_url(realdata_dir):
    payload = load(realdata_dir, "alertmanager/firing-multi-long-generatorurl.json")
    batch = parse_alertmanager(payload)

    assert batch.group_key == '{}/{namespace="whatever/promstack"}:{alertname="JustATestAlert_1"}'
    assert [a.fingerprint for a in batch.alerts] == ["ff6a7a0f5f1c1309", "554664fa753a2b45", "911c76f0240f015b"]
    assert {a.status for a in batch.alerts} == {"firing"}
    assert all(a.ends_at is None for a in batch.alerts)
    assert batch.alerts[0].starts_at == utc(2020, 10, 11, 14, 34, 11, 279383)  # .279383004 cut, not rounded
    assert batch.alerts[0].generator_url == payload["alerts"][0]["generatorURL"]
    assert len(batch.alerts[0].generator_url) > 400
    assert [a.labels["name"] for a in batch.alerts] == ["grafana", "nginx", "prometheus"]
    assert batch.alerts[1].annotations["value"] == "33.79 %"
    assert batch.alerts[0].annotations["summary"].endswith("< 40 %")  # \u003c decoded
    # commonLabels here do not match the alerts (hand-edited "name_space"): kept as sent, never keyed on.
    assert batch.common_labels["name_space"] == "wh_ate_ver/promstack"


def test_am_old_style_no_alert_status_and_tz_offset(realdata_dir):
    payload = load(realdata_dir, "alertmanager/firing-old-style-no-alert-status-tz-offset.json")
    batch = parse_alertmanager(payload)

    (alert,) = batch.alerts
    assert "status" not in payload["alerts"][0] and "fingerprint" not in payload["alerts"][0]
    assert alert.status == "firing"  # from the group
    assert alert.fingerprint == fingerprint_for(payload["alerts"][0]["labels"])
    assert HEX16.fullmatch(alert.fingerprint)
    # 06:33:21.873077559-05:00 is 11:33:21.873077 UTC.
    assert alert.starts_at == utc(2018, 3, 7, 11, 33, 21, 873077)
    assert alert.ends_at is None
    assert alert.generator_url == ""
    assert batch.group_key == '{}:{alertname="high_memory_load"}'
    assert batch.receiver == "teams_proxy"


def test_am_two_firing_empty_group_labels(realdata_dir):
    batch = parse_alertmanager(load(realdata_dir, "alertmanager/high-cpu-two-firing-empty-grouplabels.json"))

    assert batch.group_key == "{}/{}:{}"  # opaque, kept even though it names no labels
    assert [a.status for a in batch.alerts] == ["firing", "firing"]
    # Identical label sets with two different fingerprints (the fixture edited one): the sender's are kept.
    assert batch.alerts[0].labels == batch.alerts[1].labels
    assert [a.fingerprint for a in batch.alerts] == ["a1bc48475b20e73d", "c2ea85182f28cbd9"]
    assert batch.alerts[0].starts_at == utc(2020, 2, 6, 0, 17, 58, 432911)
    assert [a.annotations["description"] for a in batch.alerts] == [
        "CPU core temperature is 34.75C",
        "CPU core temperature is 17.625C",
    ]
    assert batch.common_labels == {"alertname": "High CPU Temperature", "severity": "critical"}


def test_am_k8s_resolved_with_common_items(realdata_dir):
    batch = parse_alertmanager(load(realdata_dir, "alertmanager/k8s-cputhrottling-resolved-with-common-items.json"))

    (alert,) = batch.alerts
    assert alert.status == "resolved"
    assert alert.fingerprint == "dd19ae3d4e06ac55"  # the same value as the unrelated DiskSpace fixture
    assert alert.starts_at == utc(2019, 1, 28, 20, 26, 23, 868893)
    assert alert.ends_at == utc(2019, 1, 28, 20, 27, 23, 868893)
    assert "&g0.tab=1" in alert.generator_url  # \u0026 in the JSON
    assert alert.name == "CPU throttling"
    assert batch.group_key == '{}/{alertname="CPUThrottlingHigh"}:{}'
    assert len(batch.common_labels) == 6
    assert batch.external_url == "http://ot-mon-prometheus-operator-alertmanager.monitoring:9093"


def test_am_oncall_example_extra_keys_ignored(realdata_dir):
    batch = parse_alertmanager(load(realdata_dir, "alertmanager/oncall-example-two-firing-numFiring.json"))

    assert [a.fingerprint for a in batch.alerts] == ["f404ecabc8dd5cd7", "f8f08d4e32c61a9d"]
    assert [a.labels["group"] for a in batch.alerts] == ["production", "canary"]
    assert {a.status for a in batch.alerts} == {"firing"}
    assert all(a.ends_at is None and a.generator_url == "" for a in batch.alerts)
    assert batch.alerts[0].starts_at == utc(2023, 6, 12, 8, 24, 38, 326000)
    assert batch.alerts[0].name == "InstanceDown"  # no summary annotation
    assert batch.truncated == 0
    assert batch.external_url == ""
    assert batch.receiver == "combo"


def test_am_resolved_without_fingerprint_gets_ours(realdata_dir):
    payload = load(realdata_dir, "alertmanager/resolved-without-fingerprint.json")
    batch = parse_alertmanager(payload)

    (alert,) = batch.alerts
    assert alert.status == "resolved"
    assert alert.fingerprint == fingerprint_for(payload["alerts"][0]["labels"])
    assert HEX16.fullmatch(alert.fingerprint)
    # Same labels as the first DiskSpace alert, whose fingerprint is hand-written (it sits on three label sets).
    diskspace = load(realdata_dir, "alertmanager/diskspace-two-resolved-no-grouplabels.json")
    assert diskspace["alerts"][0]["labels"] == payload["alerts"][0]["labels"]
    assert alert.fingerprint != diskspace["alerts"][0]["fingerprint"]
    assert alert.ends_at == utc(2017, 5, 9, 7, 8, 37, 818278)
    assert batch.group_key.startswith('derived:{alertname="DiskSpace"')


# --------------------------------------------------------------------------
# Grafana real files
# --------------------------------------------------------------------------


def test_grafana_legacy_dashboard_alert_is_the_test_button(realdata_dir):
    batch = parse_grafana(load(realdata_dir, "grafana/legacy-pre-v8-dashboard-alert.json"))

    (alert,) = batch.alerts
    assert batch.group_key == "grafana-legacy-rule:0"
    assert batch.is_test  # ruleId 0 + "Someone is testing the alert notification within grafana."
    assert alert.status == "firing"  # state "alerting"
    assert alert.fingerprint == fingerprint_for({"grafana_rule_id": "0"})
    assert alert.labels == {"alertname": "Test rule", "grafana_rule_id": "0"}
    assert alert.annotations["eval_matches"] == "High value=100, Higher Value=200"
    assert alert.annotations["title"] == "[Alerting] Test notification"
    assert alert.starts_at is None and alert.ends_at is None  # the body has no times
    assert alert.generator_url == "http://localhost:3000/"
    assert alert.name == "Test rule"


def test_grafana_oncall_example_says_version_4(realdata_dir, caplog):
    payload = load(realdata_dir, "grafana/oncall-grafana-alerting-example-three-firing.json")
    assert payload["version"] == "4"
    with caplog.at_level(logging.INFO, logger="incidents.alert_formats"):
        batch = parse_grafana(payload)

    assert "version '4'" in caplog.text
    assert not batch.is_test
    assert [a.fingerprint for a in batch.alerts] == ["f404ecabc8dd5cd7", "f8f08d4e32c61a9d", "39f38c0611ee7abd"]
    assert [a.labels["instance"] for a in batch.alerts] == ["localhost:8081", "localhost:8082", "localhost:8083"]
    assert all(a.status == "firing" and a.ends_at is None for a in batch.alerts)
    assert batch.group_key == '{}:{alertname="InstanceDown"}'


def test_grafana_v11_values_and_image_url_ignored(realdata_dir):
    batch = parse_grafana(load(realdata_dir, "grafana/v11-firing-values-imageURL.json"))

    (alert,) = batch.alerts
    assert not batch.is_test
    assert alert.fingerprint == "e6349a25f5ef0e9e"
    assert alert.status == "firing"
    assert alert.starts_at == utc(2024, 3, 1, 2, 9)
    assert alert.ends_at is None
    assert alert.labels == {"alertname": "Memory (copy)", "debug": "true", "grafana_folder": "device"}
    assert alert.name == "High memory usage"
    assert "/alerting/grafana/dd2f0260-3cfc-4c65-a4c4-f3f632c551f4/view" in alert.generator_url
    assert batch.group_key == '{}/{debug="true"}:{alertname="Memory (copy)", grafana_folder="device"}'
    assert batch.receiver == "Debug webhook"
    assert batch.external_url == "https://play.grafana.org/"


def test_grafana_v8_test_notification_resolved_truncated(realdata_dir):
    batch = parse_grafana(load(realdata_dir, "grafana/v8-test-notification-resolved-truncated.json"))

    assert batch.is_test
    assert batch.truncated == 1
    (alert,) = batch.alerts
    assert alert.status == "resolved"
    assert alert.fingerprint == "57c6d9296de2ad39"
    assert alert.starts_at == utc(2022, 8, 31, 5, 54, 4, 522893)
    assert alert.ends_at == utc(2022, 8, 31, 10, 30, 0, 522884)
    assert "+0000 UTC m=+42208" in batch.group_key  # a Go time string, kept opaque
    assert batch.receiver == ""


def test_grafana_v9_mixed_firing_and_resolved_keep_their_own_status(realdata_dir):
    payload = load(realdata_dir, "grafana/v9-mixed-firing-and-resolved.json")
    assert payload["status"] == "firing"
    batch = parse_grafana(payload)

    assert [(a.fingerprint, a.status) for a in batch.alerts] == [
        ("aaafafe0953f0962", "resolved"),
        ("fb31814ac93dbe7d", "resolved"),
        ("6f9cd313db421ef1", "firing"),
    ]
    assert batch.alerts[0].ends_at == utc(2022, 6, 17, 1, 8, 28, 652747)
    assert batch.alerts[2].ends_at is None
    assert batch.alerts[2].starts_at == utc(2022, 6, 17, 1, 3, 0, 782137)
    assert not batch.is_test
    assert batch.group_key == '{}/{test="true"}:{}'


# --------------------------------------------------------------------------
# PagerDuty real files
# --------------------------------------------------------------------------


def test_pd_acknowledged(realdata_dir):
    event = parse_pagerduty(load(realdata_dir, "pagerduty/v3-incident.acknowledged.json"))

    assert event.event_id == "01BZYK8N47N5JG55J1EEEHPEJI"
    assert event.event_type == "incident.acknowledged"
    assert event.occurred_at == utc(2021, 6, 4, 13, 55, 30, 394000)
    assert (event.incident_id, event.incident_number, event.status) == ("PQ1K5C8", 10, "acknowledged")
    assert event.priority == ""  # null
    assert event.urgency == "high"
    assert event.agent_name == "PIG 208"
    assert event.service_name == "pig208"
    assert event.html_url == "https://pig208.pagerduty.com/incidents/PQ1K5C8"
    assert event.note == ""


def test_pd_annotated_note_takes_the_incident_from_data_incident(realdata_dir):
    payload = load(realdata_dir, "pagerduty/v3-incident.annotated-note.json")
    event = parse_pagerduty(payload)

    assert event.event_type == "incident.annotated"
    assert event.incident_id == "Q3B15VLMF3ASBD"
    assert event.incident_id != payload["event"]["data"]["id"]  # PEMJB6G is the note's id
    assert event.note == "Running KILL on long-running queries from the reporting-service."
    assert event.title == "Critical: Checkout API High Latency"  # the reference's summary
    assert event.html_url == "https://harsh0303.pagerduty.com/incidents/Q3B15VLMF3ASBD"
    assert event.incident_number is None and event.status == ""
    assert event.occurred_at == utc(2026, 4, 1, 2, 18, 59, 674000)
    assert event.agent_name == "Harsh Santwani"


def test_pd_escalated_with_priority(realdata_dir):
    event = parse_pagerduty(load(realdata_dir, "pagerduty/v3-incident.escalated-priority-incident_type.json"))

    assert event.event_type == "incident.escalated"
    assert event.priority == "P1"
    assert (event.incident_id, event.incident_number) == ("Q3B15VLMF3ASBD", 5)
    assert event.title == "Critical: Checkout API High Latency"
    assert event.status == "triggered"
    assert event.service_name == "Default Service"


def test_pd_reassigned(realdata_dir):
    event = parse_pagerduty(load(realdata_dir, "pagerduty/v3-incident.reassigned.json"))

    assert event.event_type == "incident.reassigned"
    assert (event.incident_id, event.incident_number, event.status) == ("PIQUG8X", 3, "triggered")
    assert event.occurred_at == utc(2021, 6, 4, 10, 17, 54, 838000)


def test_pd_resolved_with_no_assignees(realdata_dir):
    payload = load(realdata_dir, "pagerduty/v3-incident.resolved.json")
    assert payload["event"]["data"]["assignees"] == []
    event = parse_pagerduty(payload)

    assert (event.incident_id, event.incident_number, event.status) == ("PCPZE64", 6, "resolved")
    assert event.priority == ""
    assert event.event_id == "01BZYH1JJY09P9LEIST8HG2PMN"


def test_pd_status_update_published(realdata_dir):
    payload = load(realdata_dir, "pagerduty/v3-incident.status_update_published.json")
    event = parse_pagerduty(payload)

    assert event.event_type == "incident.status_update_published"
    assert event.incident_id == "Q3B15VLMF3ASBD"
    assert event.incident_id != payload["event"]["data"]["id"]
    assert event.note.startswith("Investigating a P1 incident with the Checkout API in us-east-1.")
    assert event.note == payload["event"]["data"]["message"]
    assert event.title == "Critical: Checkout API High Latency"


def test_pd_triggered(realdata_dir):
    event = parse_pagerduty(load(realdata_dir, "pagerduty/v3-incident.triggered.json"))

    assert (event.incident_id, event.incident_number, event.title) == ("PFQZPSY", 9, "Test Incident 3")
    assert event.status == "triggered"
    assert event.occurred_at == utc(2021, 6, 4, 13, 35, 29, 781000)


# --------------------------------------------------------------------------
# Field cases (parsing part)
# --------------------------------------------------------------------------


def am_alert(labels: dict, status: str = "firing", **extra) -> dict:
    return {
        "status": status,
        "labels": labels,
        "annotations": {},
        "startsAt": "2024-05-01T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prom.example/g",
        **extra,
    }


def am_payload(*alerts: dict, status: str = "firing", **extra) -> dict:
    return {
        "version": "4",
        "status": status,
        "receiver": "incident-app",
        "groupKey": '{}:{alertname="X"}',
        "truncatedAlerts": 0,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am.example:9093",
        "alerts": list(alerts),
        **extra,
    }


def test_br01_resolved_first_parses_as_a_resolved_alert():
    payload = am_payload(
        am_alert(
            {"alertname": "DiskFull", "service": "svc-a"},
            status="resolved",
            endsAt="2024-05-01T10:05:00Z",
            fingerprint="aaaa000000000001",
        ),
        status="resolved",
    )
    (alert,) = parse_alertmanager(payload).alerts
    assert (alert.fingerprint, alert.status) == ("aaaa000000000001", "resolved")
    assert (alert.starts_at, alert.ends_at) == (utc(2024, 5, 1, 10), utc(2024, 5, 1, 10, 5))


def test_br02_zero_ends_at_is_unset_and_offset_converted_to_utc():
    payload = am_payload(am_alert({"alertname": "X"}, startsAt="2024-05-01T10:00:00+02:00"))
    (alert,) = parse_alertmanager(payload).alerts
    assert alert.starts_at == utc(2024, 5, 1, 8, 0)
    assert alert.ends_at is None


def test_br04_mixed_statuses_in_one_post_keep_their_own():
    payload = am_payload(
        am_alert({"alertname": "X", "service": "svc-a", "i": "1"}, fingerprint="0000000000000001"),
        am_alert(
            {"alertname": "X", "service": "svc-a", "i": "2"},
            status="resolved",
            fingerprint="0000000000000002",
            endsAt="2024-05-01T10:07:00Z",
        ),
        status="firing",
    )
    alerts = parse_alertmanager(payload).alerts
    assert [(a.fingerprint, a.status) for a in alerts] == [
        ("0000000000000001", "firing"),
        ("0000000000000002", "resolved"),
    ]
    assert alerts[0].ends_at is None
    assert alerts[1].ends_at == utc(2024, 5, 1, 10, 7)


def test_br04_group_status_only_fills_a_missing_alert_status():
    alert = am_alert({"alertname": "X"})
    del alert["status"]
    resolved = am_alert({"alertname": "Y"}, status="resolved", endsAt="2024-05-01T10:01:00Z")
    alerts = parse_alertmanager(am_payload(alert, resolved, status="firing")).alerts
    assert [a.status for a in alerts] == ["firing", "resolved"]


def test_br05_fingerprint_ignores_annotations_status_and_times():
    labels = {"alertname": "HighLatency", "service": "svc-a"}
    firing = am_alert(labels, annotations={"value": "950ms"})
    resolved = am_alert(
        dict(reversed(list(labels.items()))),
        status="resolved",
        annotations={"value": "120ms"},
        startsAt="2024-05-01T10:30:00Z",  # Grafana #106065: startsAt replaced by the resolve time
        endsAt="2024-05-01T10:30:00Z",
    )
    (a,) = parse_alertmanager(am_payload(firing)).alerts
    (b,) = parse_alertmanager(am_payload(resolved, status="resolved")).alerts
    assert a.fingerprint == b.fingerprint == fingerprint_for(labels)
    assert (a.status, b.status) == ("firing", "resolved")


def test_br05_different_label_sets_get_different_fingerprints():
    svc_a = {"alertname": "HighLatency", "service": "svc-a"}
    svc_b = {"alertname": "HighLatency", "service": "svc-b"}
    alerts = parse_alertmanager(am_payload(am_alert(svc_a), am_alert(svc_b))).alerts
    assert alerts[0].fingerprint != alerts[1].fingerprint
    assert fingerprint_for(svc_a) != fingerprint_for(svc_b)
    # Unambiguous: moving text between name and value, or between labels, changes the hash.
    assert fingerprint_for({"a": "b,c"}) != fingerprint_for({"a": "b", "c": ""})
    assert fingerprint_for({"ab": "c"}) != fingerprint_for({"a": "bc"})
    assert fingerprint_for({}) != fingerprint_for({"": "x"})


def test_fingerprint_is_stable_16_hex_and_order_independent():
    value = fingerprint_for({"b": "2", "a": "1"})
    assert value == fingerprint_for({"a": "1", "b": "2"})
    assert HEX16.fullmatch(value)
    # Alertmanager's own fingerprints for these label sets (grafana/oncall example payload).
    production = {"job": "node", "group": "production", "instance": "localhost:8081", "severity": "critical",
                  "alertname": "InstanceDown"}  # fmt: skip
    canary = {**production, "group": "canary", "instance": "localhost:8082"}
    assert (fingerprint_for(production), fingerprint_for(canary)) == ("f404ecabc8dd5cd7", "f8f08d4e32c61a9d")
    assert fingerprint_for({"n": 1}) == fingerprint_for({"n": "1"})


def test_br07_redelivered_payload_parses_identically():
    payload = am_payload(am_alert({"alertname": "X"}, fingerprint="00000000000000aa"))
    assert parse_alertmanager(payload) == parse_alertmanager(json.loads(json.dumps(payload)))


# --------------------------------------------------------------------------
# parse_time
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-02-06T00:17:58.432911368Z", utc(2020, 2, 6, 0, 17, 58, 432911)),
        ("2020-02-06T00:17:58.999999999Z", utc(2020, 2, 6, 0, 17, 58, 999999)),  # cut, never rounded up
        ("2018-03-07T06:33:21.873077559-05:00", utc(2018, 3, 7, 11, 33, 21, 873077)),
        ("2024-05-01T10:00:00+02:00", utc(2024, 5, 1, 8)),
        ("2024-05-01T10:00:00.5+05:30", utc(2024, 5, 1, 4, 30, 0, 500000)),
        ("2024-05-01t10:00:00z", utc(2024, 5, 1, 10)),
        ("2024-05-01 10:00:00Z", utc(2024, 5, 1, 10)),
        ("2024-05-01T10:00:00-00:00", utc(2024, 5, 1, 10)),
        ("2024-05-01T10:00:00+0200", utc(2024, 5, 1, 8)),
        ("2021-06-04T13:55:30.394Z", utc(2021, 6, 4, 13, 55, 30, 394000)),
    ],
)
def test_parse_time_gives_aware_utc(text, expected):
    parsed = parse_time(text, "t")
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00.000000000Z",
        "0001-01-01T01:00:00+01:00",  # the zero time shown in another zone: no OverflowError
        "0001-06-15T12:00:00Z",
        "1970-01-01T00:00:00Z",
        "1970-01-01T01:00:00+01:00",
        0,
    ],
)
def test_parse_time_unset_values_are_none(value):
    assert parse_time(value, "t") is None


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01T10:05:00",  # naive
        "2024-05-01T10:05:00.123456789",  # naive with nanoseconds
        "2024-05-01",
        "yesterday",
        "2024-13-01T10:00:00Z",
        "2024-05-01T25:00:00Z",
        "2024-05-01T10:00:00+24:00",
        "9999-12-31T23:59:59-01:00",  # overflows when converted to UTC
        "2024-05-01T10:00:00.Z",
        1714557600,
        True,
        ["2024-05-01T10:00:00Z"],
    ],
)
def test_parse_time_refuses_bad_and_naive_times(value):
    with pytest.raises(PayloadError) as excinfo:
        parse_time(value, "alerts[3].startsAt")
    assert excinfo.value.field == "alerts[3].startsAt"


def test_br22_dst_end_duration_is_computed_on_absolute_instants():
    detected = parse_time("2024-10-27T00:30:00+02:00", "detected_at")
    resolved = parse_time("2024-10-27T02:30:00+01:00", "resolved_at")
    assert (resolved - detected).total_seconds() == 10_800


# --------------------------------------------------------------------------
# Malformed Alertmanager/Grafana bodies
# --------------------------------------------------------------------------


def with_alert(**changes) -> dict:
    alert = am_alert({"alertname": "X"})
    for key, value in changes.items():
        if value is ...:
            del alert[key]
        else:
            alert[key] = value
    return am_payload(am_alert({"alertname": "OK"}), alert)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], "$"),
        ("alerts", "$"),
        (None, "$"),
        ({"version": "4", "status": "firing"}, "alerts"),
        (am_payload() | {"alerts": {"a": 1}}, "alerts"),
        (am_payload() | {"alerts": None}, "alerts"),
        (am_payload("not an alert"), "alerts[0]"),
        (with_alert(labels=...), "alerts[1].labels"),
        (with_alert(labels=["alertname", "X"]), "alerts[1].labels"),
        (with_alert(labels={}), "alerts[1].fingerprint"),  # no labels and no fingerprint: no identity
        (with_alert(annotations="text"), "alerts[1].annotations"),
        (with_alert(startsAt=...), "alerts[1].startsAt"),
        (with_alert(startsAt="not a time"), "alerts[1].startsAt"),
        (with_alert(startsAt="2024-05-01T10:00:00"), "alerts[1].startsAt"),
        (with_alert(startsAt="0001-01-01T00:00:00Z"), "alerts[1].startsAt"),
        (with_alert(endsAt="soon"), "alerts[1].endsAt"),
        (with_alert(status="pending"), "alerts[1].status"),
        (with_alert(status=1), "alerts[1].status"),
        (with_alert(fingerprint=12345), "alerts[1].fingerprint"),
        (with_alert(fingerprint="f" * 65), "alerts[1].fingerprint"),
        (with_alert(generatorURL={"u": 1}), "alerts[1].generatorURL"),
        (am_payload(am_alert({"alertname": "X"}), status="ok"), "status"),
        (am_payload(am_alert({"alertname": "X"}), truncatedAlerts=-1), "truncatedAlerts"),
        (am_payload(am_alert({"alertname": "X"}), truncatedAlerts="many"), "truncatedAlerts"),
        (am_payload(am_alert({"alertname": "X"}), groupKey=["k"]), "groupKey"),
        (am_payload(am_alert({"alertname": "X"}), commonLabels="x"), "commonLabels"),
    ],
)
@pytest.mark.parametrize("parse", [parse_alertmanager, parse_grafana])
def test_malformed_alertmanager_shape_names_the_field(parse, payload, field):
    with pytest.raises(PayloadError) as excinfo:
        parse(payload)
    assert excinfo.value.field == field
    assert str(excinfo.value).startswith(f"{field}: ")


def test_alert_without_status_in_a_group_without_status_is_refused():
    alert = am_alert({"alertname": "X"})
    del alert["status"]
    payload = am_payload(alert)
    del payload["status"]
    with pytest.raises(PayloadError) as excinfo:
        parse_alertmanager(payload)
    assert excinfo.value.field == "alerts[0].status"


def test_other_versions_are_accepted_and_logged(caplog):
    payload = am_payload(am_alert({"alertname": "X"}), version="3")
    with caplog.at_level(logging.INFO, logger="incidents.alert_formats"):
        batch = parse_alertmanager(payload)
    assert len(batch.alerts) == 1
    assert "version '3'" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="incidents.alert_formats"):
        parse_alertmanager(am_payload(am_alert({"alertname": "X"})))
    assert caplog.text == ""


def test_values_are_coerced_to_strings_and_unknown_keys_ignored():
    alert = am_alert(
        {"alertname": "X", "port": 8080, "ratio": 0.5, "up": False, "none": None},
        annotations={"value": 2473545728, "nested": {"b": 1, "a": [1, 2]}},
        silenceURL="ignored",
        values={"A": 1.5},
    )
    batch = parse_alertmanager(am_payload(alert, notification_reason="x", routeLabels={}, numFiring=1))
    (event,) = batch.alerts
    # A null label is an empty one, and an empty label is an absent one (canonical_labels).
    assert event.labels == {"alertname": "X", "port": "8080", "ratio": "0.5", "up": "false"}
    assert event.annotations == {"value": "2473545728", "nested": '{"a":[1,2],"b":1}'}


def test_missing_group_key_is_derived_from_group_then_common_labels():
    alert = am_alert({"alertname": "DiskFull", "service": "svc-a", "instance": "h1"})
    by_group = am_payload(alert, groupKey="", groupLabels={"service": "svc-a", "alertname": "DiskFull"})
    by_common = am_payload(alert, commonLabels={"alertname": "DiskFull", "service": "svc-a"})
    del by_common["groupKey"]
    expected = 'derived:{alertname="DiskFull", service="svc-a"}'
    assert parse_alertmanager(by_group).group_key == expected
    assert parse_alertmanager(by_common).group_key == expected
    assert derive_group_key({}, {}, []) == "derived:{}"


def test_truncated_count_is_carried():
    batch = parse_alertmanager(am_payload(am_alert({"alertname": "X"}), truncatedAlerts=7))
    assert batch.truncated == 7


# --------------------------------------------------------------------------
# Grafana specifics
# --------------------------------------------------------------------------


def test_grafana_test_needs_both_labels():
    only_name = am_payload(am_alert({"alertname": "TestAlert", "instance": "prod-1"}), version="1")
    assert not parse_grafana(only_name).is_test
    both = am_payload(am_alert({"alertname": "TestAlert", "instance": "Grafana"}), version="1")
    assert parse_grafana(both).is_test
    assert not parse_alertmanager(both).is_test  # only Grafana has a test button


def legacy(**changes) -> dict:
    body = {
        "ruleId": 42,
        "ruleName": "API latency",
        "ruleUrl": "http://grafana.example/d/abc?panelId=2",
        "state": "alerting",
        "title": "[Alerting] API latency",
        "message": "p99 above 2s",
        "evalMatches": [{"metric": "p99", "value": 2.5, "tags": {"host": "a"}}],
        "tags": {"service": "checkout"},
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(("state", "status"), [("alerting", "firing"), ("no_data", "firing"), ("ok", "resolved")])
def test_grafana_legacy_states(state, status):
    batch = parse_grafana(legacy(state=state))
    (alert,) = batch.alerts
    assert alert.status == status
    assert batch.group_key == "grafana-legacy-rule:42"
    assert not batch.is_test
    assert alert.labels == {"service": "checkout", "alertname": "API latency", "grafana_rule_id": "42"}
    assert alert.annotations["eval_matches"] == "p99=2.5"
    # One identity per rule whatever the state, title or values.
    assert alert.fingerprint == parse_grafana(legacy(state="ok", title="[OK] API latency")).alerts[0].fingerprint


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (legacy(state="paused"), "state"),
        (legacy(state="pending"), "state"),
        (legacy(state=None), "state"),
        (legacy(ruleId=None, ruleName=""), "ruleId"),
        (legacy(evalMatches="x"), "evalMatches"),
        (legacy(evalMatches=[1]), "evalMatches[0]"),
        ({"orgId": 1, "title": "neither shape"}, "alerts"),
    ],
)
def test_grafana_legacy_refusals(body, field):
    with pytest.raises(PayloadError) as excinfo:
        parse_grafana(body)
    assert excinfo.value.field == field


def test_grafana_legacy_without_rule_id_uses_the_name():
    batch = parse_grafana(legacy(ruleId=None))
    assert batch.group_key == "grafana-legacy-rule:name:API latency"
    assert batch.alerts[0].fingerprint == fingerprint_for({"grafana_rule_name": "API latency"})


# --------------------------------------------------------------------------
# Generic format
# --------------------------------------------------------------------------


def test_generic_wrapped_alerts():
    batch = parse_generic(
        {
            "group_key": "checkout-latency",
            "alerts": [
                {
                    "status": "firing",
                    "dedup_key": "checkout-p99",
                    "title": "p99 latency above 2 s",
                    "labels": {"service": "checkout"},
                    "starts_at": "2024-05-01T10:00:00+02:00",
                    "url": "https://grafana.example/d/abc",
                },
                {
                    "status": "resolved",
                    "labels": {"service": "checkout", "alertname": "Errors"},
                    "annotations": {"summary": "kept", "runbook_url": "https://runbooks/x"},
                    "title": "not used: summary given",
                    "starts_at": "2024-05-01T07:00:00Z",
                    "ends_at": "2024-05-01T08:30:00Z",
                },
            ],
        }
    )
    first, second = batch.alerts
    assert batch.group_key == "checkout-latency"
    assert (first.fingerprint, first.status, first.name) == ("checkout-p99", "firing", "p99 latency above 2 s")
    assert first.starts_at == utc(2024, 5, 1, 8) and first.ends_at is None
    assert first.generator_url == "https://grafana.example/d/abc"
    assert second.fingerprint == fingerprint_for({"service": "checkout", "alertname": "Errors"})
    assert second.annotations == {"summary": "kept", "runbook_url": "https://runbooks/x"}
    assert second.ends_at == utc(2024, 5, 1, 8, 30)
    assert batch.common_labels == {"service": "checkout"}
    assert batch.truncated == 0 and not batch.is_test


def test_generic_bare_alert_and_derived_group_key():
    batch = parse_generic({"status": "firing", "labels": {"alertname": "HighLatency", "service": "svc-b"}})
    (alert,) = batch.alerts
    assert alert.status == "firing"
    assert alert.starts_at is None  # the ingestion uses the arrival time
    assert alert.fingerprint == fingerprint_for({"alertname": "HighLatency", "service": "svc-b"})
    assert batch.group_key == 'derived:{alertname="HighLatency", service="svc-b"}'


def test_generic_top_level_status_is_the_default():
    batch = parse_generic({"status": "resolved", "alerts": [{"labels": {"a": "1"}}, {"labels": {"a": "2"}}]})
    assert [a.status for a in batch.alerts] == ["resolved", "resolved"]
    assert batch.group_key == "derived:{}"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([{"status": "firing"}], "$"),
        ({"labels": {"a": "1"}}, "status"),
        ({"status": "firing"}, "labels"),
        ({"status": "firing", "labels": {}}, "labels"),
        ({"status": "open", "labels": {"a": "1"}}, "status"),
        ({"status": "firing", "labels": {"a": "1"}, "starts_at": "2024-05-01T10:00:00"}, "starts_at"),
        ({"alerts": [{"labels": {"a": "1"}}]}, "alerts[0].status"),
        ({"alerts": [{"status": "firing", "labels": {"a": "1"}, "ends_at": "later"}]}, "alerts[0].ends_at"),
        ({"alerts": [{"status": "firing", "dedup_key": ""}]}, "alerts[0].dedup_key"),
        ({"alerts": [{"status": "firing", "dedup_key": "k" * 65}]}, "alerts[0].dedup_key"),
        ({"alerts": "one"}, "alerts"),
        ({"group_key": ["k"], "status": "firing", "labels": {"a": "1"}}, "group_key"),
    ],
)
def test_generic_refusals_name_the_field(payload, field):
    with pytest.raises(PayloadError) as excinfo:
        parse_generic(payload)
    assert excinfo.value.field == field


def test_generic_dedup_key_alone_identifies_the_alert():
    (alert,) = parse_generic({"status": "firing", "dedup_key": "backup-nightly"}).alerts
    assert alert.fingerprint == "backup-nightly"
    assert alert.labels == {}


# --------------------------------------------------------------------------
# PagerDuty specifics
# --------------------------------------------------------------------------


def pd_event(**changes) -> dict:
    event = {
        "id": "01EVENT",
        "event_type": "incident.triggered",
        "resource_type": "incident",
        "occurred_at": "2024-05-01T10:00:00.123Z",
        "agent": None,
        "client": None,
        "data": {"id": "PINC1", "type": "incident", "number": 1, "title": "Down", "priority": None},
    }
    event.update(changes)
    return {"event": event}


def test_pd_null_agent_and_null_priority():
    event = parse_pagerduty(pd_event())
    assert event.agent_name == "" and event.priority == ""
    assert event.occurred_at == utc(2024, 5, 1, 10, 0, 0, 123000)


@pytest.mark.parametrize(
    "payload",
    [
        pd_event(event_type="service.updated", resource_type="service", data={"id": "PSVC", "type": "service"}),
        pd_event(event_type="pagey.ping", resource_type="pagey", data=None),
    ],
)
def test_pd_non_incident_events_are_ignored(payload):
    assert parse_pagerduty(payload) is None


def test_pd_other_reference_events_take_the_incident_reference():
    data = {
        "id": "PRESP",
        "type": "incident_responder_request",
        "incident": {"id": "PINC9", "type": "incident_reference", "summary": "DB down", "html_url": "u"},
    }
    event = parse_pagerduty(pd_event(event_type="incident.responder.added", data=data))
    assert (event.incident_id, event.title, event.note) == ("PINC9", "DB down", "")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], "$"),
        ({}, "event"),
        ({"event": "x"}, "event"),
        (pd_event(event_type=None), "event.event_type"),
        (pd_event(id=""), "event.id"),
        (pd_event(occurred_at=None), "event.occurred_at"),
        (pd_event(occurred_at="0001-01-01T00:00:00Z"), "event.occurred_at"),
        (pd_event(occurred_at="2024-05-01T10:00:00"), "event.occurred_at"),
        (pd_event(data=None), "event.data"),
        (pd_event(data={"type": "incident", "title": "no id"}), "event.data.id"),
        (pd_event(data={"id": "P1", "type": "incident", "number": "7"}), "event.data.number"),
        (
            pd_event(event_type="incident.annotated", data={"type": "incident_note", "content": "x"}),
            "event.data.incident",
        ),
        (
            pd_event(event_type="incident.annotated", data={"type": "incident_note", "incident": {"summary": "s"}}),
            "event.data.incident.id",
        ),
    ],
)
def test_pd_refusals_name_the_field(payload, field):
    with pytest.raises(PayloadError) as excinfo:
        parse_pagerduty(payload)
    assert excinfo.value.field == field


# --------------------------------------------------------------------------
# Signatures
# --------------------------------------------------------------------------


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@pytest.fixture
def pd_body(realdata_dir) -> bytes:
    return (realdata_dir / "pagerduty" / "v3-incident.triggered.json").read_bytes()


def test_pagerduty_signature_on_real_body(pd_body):
    header = "v1=" + sign("subscription-secret", pd_body)
    assert verify_pagerduty_signature(pd_body, header, ["subscription-secret"])
    assert not verify_pagerduty_signature(pd_body, header, ["another-secret"])
    assert verify_pagerduty_signature(pd_body, header, ["old-secret", "subscription-secret"])


def test_pagerduty_signature_rotation_any_value_may_match(pd_body):
    header = f"v1={sign('old-secret', pd_body)},v1={sign('new-secret', pd_body)}"
    assert verify_pagerduty_signature(pd_body, header, ["new-secret"])
    assert verify_pagerduty_signature(pd_body, header.replace(",", ", "), ["new-secret"])
    assert not verify_pagerduty_signature(pd_body, header, ["third-secret"])


def test_pagerduty_signature_fails_on_one_changed_byte(pd_body):
    header = "v1=" + sign("s3cret", pd_body)
    tampered = bytearray(pd_body)
    tampered[len(tampered) // 2] ^= 0x01
    assert not verify_pagerduty_signature(bytes(tampered), header, ["s3cret"])
    # Re-encoding the parsed body is not the raw body either (BR-11).
    reencoded = json.dumps(json.loads(pd_body)).encode()
    assert not verify_pagerduty_signature(reencoded, header, ["s3cret"])


@pytest.mark.parametrize("header", ["", None, "v1=", "v0=abc", "garbage", "v1=zzzz", "v1=é"])
def test_pagerduty_signature_bad_headers(pd_body, header):
    assert not verify_pagerduty_signature(pd_body, header, ["s3cret"])


def test_pagerduty_signature_needs_a_secret_and_raw_bytes(pd_body):
    header = "v1=" + sign("", pd_body)
    assert not verify_pagerduty_signature(pd_body, header, [])
    assert not verify_pagerduty_signature(pd_body, header, [""])
    with pytest.raises(TypeError):
        verify_pagerduty_signature(pd_body.decode(), header, ["s3cret"])


def test_grafana_signature_without_timestamp(realdata_dir):
    body = (realdata_dir / "grafana" / "v11-firing-values-imageURL.json").read_bytes()
    header = sign("grafana-secret", body)
    assert verify_grafana_signature(body, header, "grafana-secret")
    assert verify_grafana_signature(body, header.upper(), "grafana-secret")
    assert not verify_grafana_signature(body + b" ", header, "grafana-secret")
    assert not verify_grafana_signature(body, header, "other-secret")
    assert not verify_grafana_signature(body, header, "")
    assert not verify_grafana_signature(body, "", "grafana-secret")
    # A body signed with a timestamp does not verify as one signed without.
    assert not verify_grafana_signature(body, sign("grafana-secret", b"1714557600:" + body), "grafana-secret")


def test_grafana_signature_with_timestamp(realdata_dir):
    body = (realdata_dir / "grafana" / "v9-mixed-firing-and-resolved.json").read_bytes()
    header = sign("grafana-secret", b"1714557600:" + body)
    assert verify_grafana_signature(body, header, "grafana-secret", timestamp="1714557600")
    assert not verify_grafana_signature(body, header, "grafana-secret", timestamp="1714557601")
    assert not verify_grafana_signature(body, header, "grafana-secret")  # timestamp not passed
    assert not verify_grafana_signature(body, header, "grafana-secret", timestamp="")  # configured but absent
