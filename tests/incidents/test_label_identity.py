"""Alert identity from canonical label sets (issue 13 item 1, the kind of FIELD-CASES BR-05).

In Prometheus semantics a label with an empty value is the same as an absent
label. Every identity built from labels must agree: the computed fingerprint,
the sender's fingerprint against ours, the derived group key, the comparison
with a stored alert, and the service routing label. Each sibling is tested
with the senders' real shapes (shared/realdata, read there) and tests/samples.
"""

import json
from pathlib import Path

import pytest

from incidents.alert_formats.alertmanager import parse_alertmanager
from incidents.alert_formats.common import canonical_labels, derive_group_key, fingerprint_for
from incidents.alert_formats.generic import parse_generic
from incidents.alert_formats.grafana import parse_grafana
from incidents.models import Alert, Incident, Integration
from tests.factories import ServiceFactory
from tests.incidents.payloads import am_alert, am_payload, utc

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def with_empty_label(labels: dict, name: str = "env") -> dict:
    return {**labels, name: ""}


# --- the one function -------------------------------------------------------------------


def test_an_empty_or_null_value_is_an_absent_label_and_nothing_else_is_changed():
    assert canonical_labels({"alertname": "X", "env": "", "team": None}) == {"alertname": "X"}
    assert canonical_labels({"n": 1, "flag": True}) == {"n": "1", "flag": "true"}
    # Deliberately kept apart: case, whitespace, receiver-added labels.
    assert canonical_labels({"Service": "A", "service": " a "}) == {"Service": "A", "service": " a "}
    assert fingerprint_for({"service": "a"}) != fingerprint_for({"service": " a"})
    assert fingerprint_for({"service": "a"}) != fingerprint_for({"Service": "a"})
    assert fingerprint_for({"service": "a"}) != fingerprint_for({"service": "a", "__alert_rule_uid__": "u1"})


def test_computed_fingerprint_ignores_empty_labels():
    labels = {"alertname": "HighLatency", "service": "svc-a"}
    assert fingerprint_for(with_empty_label(labels)) == fingerprint_for(labels)
    assert fingerprint_for({**labels, "env": None}) == fingerprint_for(labels)


# --- parsers: every sender, fingerprint supplied vs computed, group keys ------------------------


def test_real_alertmanager_fingerprints_are_ours_with_or_without_an_empty_label(realdata_dir):
    """The sender's fingerprint (real Alertmanager/Grafana ones) equals the one we compute, empty label or not."""
    checked = 0
    for name in (
        "alertmanager/oncall-example-two-firing-numFiring.json",
        "grafana/oncall-grafana-alerting-example-three-firing.json",
    ):
        payload = json.loads((realdata_dir / name).read_bytes())
        parse = parse_grafana if name.startswith("grafana") else parse_alertmanager
        for raw in payload["alerts"]:
            sent = raw["fingerprint"]
            stripped = {**raw, "labels": with_empty_label(raw["labels"])}
            del stripped["fingerprint"]
            [ours] = parse({**payload, "alerts": [stripped]}).alerts
            [theirs] = parse({**payload, "alerts": [raw]}).alerts
            assert ours.fingerprint == theirs.fingerprint == sent
            assert ours.labels == theirs.labels
            checked += 1
    assert checked == 5


@pytest.mark.parametrize(
    ("parse", "sample"),
    [
        (parse_alertmanager, "alertmanager/v4-firing-and-resolved.json"),
        (parse_grafana, "grafana/unified-v11-firing.json"),
        (parse_generic, "generic/two-alerts-one-group.json"),
    ],
)
def test_every_sender_gives_one_identity_with_or_without_empty_labels(parse, sample):
    """Fingerprint, stored labels, derived group key and common labels: the same with an empty label added."""
    payload = json.loads((SAMPLES / sample).read_bytes())
    for key in ("groupKey", "group_key", "fingerprint"):
        payload.pop(key, None)
    noisy = json.loads(json.dumps(payload))
    for raw in payload["alerts"]:
        raw.pop("fingerprint", None)
    for raw in noisy["alerts"]:
        raw.pop("fingerprint", None)
        raw["labels"] = with_empty_label(raw["labels"], "zone")
    for name in ("groupLabels", "commonLabels"):
        if name in noisy:
            noisy[name] = with_empty_label(noisy[name], "zone")

    plain, empty = parse(payload), parse(noisy)
    assert [a.fingerprint for a in empty.alerts] == [a.fingerprint for a in plain.alerts]
    assert [a.labels for a in empty.alerts] == [a.labels for a in plain.alerts]
    assert all("zone" not in a.labels for a in empty.alerts)
    assert empty.group_key == plain.group_key and empty.group_key.startswith("derived:")
    assert empty.common_labels == plain.common_labels


def test_derived_group_key_ignores_empty_labels_from_every_source():
    alert = parse_generic({"status": "firing", "labels": {"alertname": "X", "service": "a"}}).alerts[0]
    assert derive_group_key({"alertname": "X", "env": ""}, {}, [alert]) == derive_group_key({"alertname": "X"}, {}, [])
    assert derive_group_key({"env": ""}, {"alertname": "X", "x": ""}, []) == 'derived:{alertname="X"}'
    # Group labels that are all empty are no group labels: the next source is used.
    assert derive_group_key({"env": ""}, {}, [alert]) == 'derived:{alertname="X", service="a"}'


def test_grafana_legacy_tags_are_canonical():
    body = {"ruleId": 7, "ruleName": "API latency", "state": "alerting", "tags": {"service": "svc-a", "env": ""}}
    labels = parse_grafana(body).alerts[0].labels
    assert labels == {"service": "svc-a", "alertname": "API latency", "grafana_rule_id": "7"}


# --- through the webhook: one alert, one incident ------------------------------------------------


LABELS = {"alertname": "DiskFull", "service": "svc-a"}


@pytest.mark.django_db
@pytest.mark.parametrize("fingerprint", ["supplied", "computed"])
def test_alertmanager_repeat_with_an_empty_label_is_the_same_alert(hook, fingerprint):
    own = fingerprint_for(LABELS)
    first = am_alert(own, labels=dict(LABELS))
    again = am_alert(own, labels=with_empty_label(LABELS))
    if fingerprint == "computed":
        del again["fingerprint"]
    live = utc(2024, 5, 1, 10, 0, 30)  # delivered as it fires: detection is when sredesk receives it
    assert hook.post(am_payload(first, group_key=""), received=live).json()["alerts"]["new"] == 1
    answer = hook.post(am_payload(again, group_key=""), received=live).json()
    assert answer["alerts"] == {"new": 0, "repeated": 1, "resolved": 0, "orphan": 0, "stale": 0}
    assert (Alert.objects.count(), Incident.objects.count()) == (1, 1)

    resolved = am_alert(own, "resolved", ends="2024-05-01T10:30:00Z", labels=with_empty_label(LABELS, "zone"))
    resolved.pop("fingerprint")
    received = utc(2024, 5, 1, 10, 30, 30)
    assert hook.post(am_payload(resolved, group_key=""), received=received).json()["alerts"]["resolved"] == 1
    incident = Incident.objects.get()
    assert (incident.status, incident.resolved_at) == ("resolved", utc(2024, 5, 1, 10, 30))


@pytest.mark.django_db
def test_generic_alert_with_an_empty_label_is_the_same_alert_and_group(make_hook, svc_a):
    hook = make_hook(Integration.Kind.GENERIC, default_service=svc_a)
    base = {"status": "firing", "starts_at": "2024-05-01T10:00:00Z", "title": "p99 high"}
    hook.post({**base, "labels": dict(LABELS)})
    answer = hook.post({**base, "labels": {**LABELS, "region": "", "team": None}}).json()
    assert answer["alerts"]["repeated"] == 1 and answer["alerts"]["new"] == 0
    assert (Alert.objects.count(), Incident.objects.count()) == (1, 1)
    assert Alert.objects.get().labels == LABELS


@pytest.mark.django_db
def test_grafana_alert_with_an_empty_label_is_the_same_alert(make_hook, svc_a):
    hook = make_hook(Integration.Kind.GRAFANA, default_service=svc_a)
    payload = json.loads((SAMPLES / "grafana/unified-v11-firing.json").read_bytes())
    payload.pop("groupKey", None)
    assert hook.post(payload).status_code == 200
    for raw in payload["alerts"]:  # the sample's fingerprints are made up: kept (real ones are ours, tested above)
        raw["labels"] = with_empty_label(raw["labels"], "grafana_folder_extra")
    answer = hook.post(payload).json()
    assert answer["alerts"]["new"] == 0 and answer["alerts"]["repeated"] == len(payload["alerts"])
    assert Incident.objects.count() == 1


@pytest.mark.django_db
def test_an_empty_service_label_routes_like_an_absent_one(hook, svc_a):
    """The service routing label: ``service=""`` is no service label, so the common labels, then the default, decide."""
    svc_b = ServiceFactory(slug="svc-b", team=svc_a.team)
    alert = am_alert("aaaa000000000001", labels={"alertname": "X", "service": ""})
    hook.post(am_payload(alert, group_key="g1", commonLabels={"alertname": "X", "service": "svc-b"}))
    assert Incident.objects.get().primary_service == svc_b

    other = am_alert("aaaa000000000002", labels={"alertname": "Y", "service": ""})
    hook.post(am_payload(other, group_key="g2"))
    assert Incident.objects.get(alert_group_key="g2").primary_service == svc_a  # the integration's default
    assert Alert.objects.get(fingerprint="aaaa000000000002").labels == {"alertname": "Y"}


@pytest.mark.django_db
def test_a_row_stored_with_an_empty_label_before_the_rule_still_matches(hook):
    """Rows stored before canonical labels keep their empty label in the database: they are still the same alert."""
    own = fingerprint_for(LABELS)
    hook.post(am_payload(am_alert(own, labels=dict(LABELS))))
    Alert.objects.update(labels=with_empty_label(LABELS))  # as an older version stored it

    resolved = am_alert(own, "resolved", ends="2024-05-01T10:30:00Z", labels=dict(LABELS))
    answer = hook.post(am_payload(resolved)).json()
    assert answer["alerts"]["resolved"] == 1 and answer["alerts"]["new"] == 0
    assert Alert.objects.count() == 1 and Incident.objects.get().status == "resolved"
