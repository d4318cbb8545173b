"""``POST /hooks/<integration>/`` under every class of hostile input (issue 12 items 4 and 6).

Two answers, decided per field (``incidents.alert_formats.common.storable_payload``):

* text that must be kept (labels, annotations, fingerprint, group key,
  generatorURL, dedup key, PagerDuty texts) with NUL or a lone surrogate is
  stored escaped (``\\u0000``), reversibly, and one bad label does not block the
  rest of its group: Alertmanager drops a group answered 4xx and resends the
  whole group after a 5xx;
* anything else (a status or time that is not one, JSON nested 100,000 deep,
  over-long identities, a content type that is not JSON, an unreadable length)
  is a 4xx naming the field; nothing is written but the ``rejected`` receipt
  that keeps the raw bytes for a replay.

Chunked bodies are read, not taken as empty. Never a 5xx.
"""

import io
import json

import pytest

from incidents.models import Alert, Incident, Integration, WebhookDelivery
from sredesk.inputs import unescape_text
from tests.hostile.table import DEEP, UNICODE_DIGITS, RowCounts, assert_refused, deep_json, json_body

BAD = {"nul": "\x00", "lone_surrogate": "\ud800"}
ESCAPED = {"nul": "\\u0000", "lone_surrogate": "\\ud800"}
START = "2024-05-01T10:00:00Z"


@pytest.fixture
def hooks(hostile_world, client):
    """``hooks(kind)`` -> a poster for a new integration of that kind, routed to the hostile world's service."""

    def make(kind: str = Integration.Kind.ALERTMANAGER):
        integration = Integration(kind=kind, name=f"hostile {kind}", default_service=hostile_world["service"])
        token = integration.set_new_token()
        integration.save()

        def post(body, content_type: str = "application/json", **extra):
            data = body if isinstance(body, bytes) else json_body(body)
            return client.generic(
                "POST",
                f"/hooks/{integration.public_id}/",
                data,
                content_type=content_type,
                HTTP_AUTHORIZATION=f"Bearer {token}",
                **extra,
            )

        return post

    return make


def am_body(*alerts: dict, **top) -> dict:
    return {"version": "4", "status": "firing", "groupKey": '{}:{alertname="X"}', "alerts": list(alerts), **top}


def am_alert(name: str = "X", **fields) -> dict:
    alert = {"status": "firing", "labels": {"alertname": name, "service": "checkout"}, "startsAt": START}
    return {**alert, **fields}


def assert_only_a_rejected_receipt(counts: RowCounts) -> None:
    """Nothing was written but one receipt of outcome ``rejected`` (the raw bytes, kept for a replay)."""
    after = counts.snapshot()
    receipts = "incidents.WebhookDelivery"
    assert after[receipts] == counts.before[receipts] + 1
    assert WebhookDelivery.objects.latest("id").outcome == "rejected"
    changed = {k for k in after if after[k] != counts.before[k]} - {receipts}
    assert not changed, changed


# --- text that must be kept: stored escaped, the group not blocked ---------------------------


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_bad_label_is_kept_escaped_and_does_not_block_its_group(hooks, kind):
    post = hooks()
    bad = am_alert(labels={"alertname": f"Disk{BAD[kind]}", f"zone{BAD[kind]}": "eu", "service": "checkout"})
    response = post(am_body(am_alert("Fine"), bad))
    assert response.status_code == 200, response.content
    assert response.json()["alerts"]["new"] == 2
    stored = Alert.objects.get(labels__alertname=f"Disk{ESCAPED[kind]}")
    assert stored.labels == {"alertname": f"Disk{ESCAPED[kind]}", f"zone{ESCAPED[kind]}": "eu", "service": "checkout"}
    assert unescape_text(stored.labels["alertname"]) == f"Disk{BAD[kind]}"  # reversibly
    assert Alert.objects.filter(labels__alertname="Fine").exists()
    assert stored.incident.primary_service.slug == "checkout"
    # Alertmanager resends the group: the same alerts, recognised as repeats.
    again = post(am_body(am_alert("Fine"), bad)).json()
    assert again["alerts"] == {"new": 0, "repeated": 2, "resolved": 0, "orphan": 0, "stale": 0}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_annotations_fingerprint_group_key_and_generator_url_are_kept_escaped(hooks, kind):
    post = hooks()
    alert = am_alert(
        annotations={"summary": f"disk {BAD[kind]} full", f"note{BAD[kind]}": "x"},
        fingerprint=f"ab{BAD[kind]}cd",
        generatorURL=f"http://prom.example/g?x={BAD[kind]}",
    )
    response = post(am_body(alert, groupKey=f'{{}}:{{alertname="X{BAD[kind]}"}}'))
    assert response.status_code == 200, response.content
    stored = Alert.objects.get()
    assert stored.fingerprint == f"ab{ESCAPED[kind]}cd"
    assert stored.annotations == {"summary": f"disk {ESCAPED[kind]} full", f"note{ESCAPED[kind]}": "x"}
    assert stored.generator_url == f"http://prom.example/g?x={ESCAPED[kind]}"
    assert stored.group_key == f'{{}}:{{alertname="X{ESCAPED[kind]}"}}'
    assert stored.incident.title == f"disk {ESCAPED[kind]} full"
    assert post(am_body(alert, groupKey=f'{{}}:{{alertname="X{BAD[kind]}"}}')).json()["alerts"]["repeated"] == 1


@pytest.mark.parametrize("kind", sorted(BAD))
def test_generic_dedup_key_and_group_key_are_kept_escaped(hooks, kind):
    post = hooks(Integration.Kind.GENERIC)
    body = {"status": "firing", "dedup_key": f"k{BAD[kind]}", "group_key": f"g{BAD[kind]}", "title": "t"}
    assert post(body).status_code == 200
    stored = Alert.objects.get()
    assert (stored.fingerprint, stored.group_key) == (f"k{ESCAPED[kind]}", f"g{ESCAPED[kind]}")


@pytest.mark.parametrize("kind", sorted(BAD))
def test_pagerduty_texts_are_kept_escaped(hooks, kind):
    post = hooks(Integration.Kind.PAGERDUTY)
    event = {
        "id": f"EV{BAD[kind]}1",
        "event_type": "incident.triggered",
        "resource_type": "incident",
        "occurred_at": START,
        "data": {"id": "PD1", "type": "incident", "title": f"db {BAD[kind]} down", "status": "triggered"},
    }
    response = post({"event": event})
    assert response.status_code == 200, response.content
    assert Incident.objects.get(alert_group_key="PD1").title == f"db {ESCAPED[kind]} down"
    assert WebhookDelivery.objects.get().event_id == f"EV{ESCAPED[kind]}1"


def test_a_header_with_nul_is_kept_escaped_on_the_receipt(hooks):
    post = hooks()
    assert post(am_body(am_alert()), HTTP_USER_AGENT="Alertmanager/0.27\x00").status_code == 200
    assert WebhookDelivery.objects.get().headers["User-Agent"] == "Alertmanager/0.27\\u0000"


def test_over_long_label_values_and_group_keys_are_kept(hooks):
    post = hooks()
    long_value = "v" * 300_001
    response = post(am_body(am_alert(labels={"alertname": "X", "long": long_value}), groupKey="g" * 100_000))
    assert response.status_code == 200, response.content
    stored = Alert.objects.get()
    assert stored.labels["long"] == long_value
    assert stored.group_key.startswith("sha256:")  # the same identity, bounded


# --- values with a fixed form: 4xx naming the field, only the rejected receipt --------------------


@pytest.mark.parametrize("kind", sorted(BAD))
@pytest.mark.parametrize(
    ("field", "alert"),
    [
        ("alerts[0].status", {"status": "firing{}"}),
        ("alerts[0].startsAt", {"startsAt": START + "{}"}),
        ("alerts[0].endsAt", {"endsAt": "2024-05-01T10:05:00Z{}"}),
    ],
)
def test_a_status_or_time_with_bad_text_is_refused_naming_it(hooks, kind, field, alert):
    post = hooks()
    counts = RowCounts()
    bad = {key: value.format(BAD[kind]) for key, value in alert.items()}
    response = post(am_body(am_alert("Fine"), am_alert(**bad) | {"labels": {"alertname": "Other"}}))
    assert_refused(response, field.replace("[0]", "[1]"))
    assert_only_a_rejected_receipt(counts)


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        (Integration.Kind.ALERTMANAGER, am_body(am_alert(fingerprint="f" * 65)), "alerts[0].fingerprint"),
        (Integration.Kind.GENERIC, {"status": "firing", "dedup_key": "k" * 65}, "dedup_key"),
        # Escaping makes a 60-character fingerprint with NUL characters too long: refused like any other.
        (Integration.Kind.ALERTMANAGER, am_body(am_alert(fingerprint="\x00" * 60)), "alerts[0].fingerprint"),
    ],
    ids=["fingerprint", "dedup_key", "escaped-fingerprint"],
)
def test_over_long_identities_are_refused_naming_them(hooks, kind, body, field):
    post = hooks(kind)
    counts = RowCounts()
    assert_refused(post(body), field)
    assert_only_a_rejected_receipt(counts)


@pytest.mark.parametrize("kind", [Integration.Kind.ALERTMANAGER, Integration.Kind.PAGERDUTY])
def test_json_nested_100000_deep_is_refused(hooks, kind):
    post = hooks(kind)
    counts = RowCounts()
    response = post(deep_json(DEEP, key="alerts"))
    assert_refused(response, "$")
    assert "deep" in response.json()["error"]
    assert_only_a_rejected_receipt(counts)


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=x", "application/xml", "text/html", "image/png"]
)
def test_a_body_that_is_not_json_by_its_content_type_is_415(hooks, content_type):
    post = hooks()
    counts = RowCounts()
    response = post(json.dumps(am_body(am_alert())).encode(), content_type=content_type)
    assert_refused(response, "Content-Type", statuses=[415])
    assert_only_a_rejected_receipt(counts)


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/vnd.api+json", "text/plain", ""]
)
def test_json_content_types_are_accepted(hooks, content_type):
    post = hooks()
    assert post(json.dumps(am_body(am_alert())).encode(), content_type=content_type).status_code == 200


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
def test_unicode_digits_in_counts_and_times_are_refused_naming_the_field(hooks, digits):
    post = hooks()
    counts = RowCounts()
    assert_refused(post(am_body(am_alert(), truncatedAlerts=digits)), "truncatedAlerts")
    assert_refused(post(am_body(am_alert(startsAt=START.replace("2", digits)))), "alerts[0].startsAt")
    after = counts.snapshot()
    assert after["incidents.Alert"] == counts.before["incidents.Alert"]
    assert after["incidents.Incident"] == counts.before["incidents.Incident"]


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
def test_a_content_length_in_unicode_digits_is_refused(hooks, digits):
    post = hooks()
    counts = RowCounts()
    assert_refused(post(am_body(am_alert()), CONTENT_LENGTH=digits), "Content-Length")
    counts.assert_unchanged()  # before authentication and parsing: not even a receipt


# --- chunked bodies --------------------------------------------------------------------------


def chunked(body: bytes, terminated: bool = True) -> dict:
    """The environ a WSGI server gives for ``Transfer-Encoding: chunked`` (de-chunked, no length)."""
    return {
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": terminated,
        "HTTP_TRANSFER_ENCODING": "chunked",
        "CONTENT_LENGTH": "",
    }


def test_a_chunked_delivery_is_read_not_taken_as_empty(hooks):
    post = hooks()
    body = json.dumps(am_body(am_alert())).encode()
    response = post(b"", **chunked(body))
    assert response.status_code == 200, response.content
    assert response.json()["alerts"]["new"] == 1
    assert bytes(WebhookDelivery.objects.get().body) == body


def test_a_chunked_delivery_over_the_limit_is_413_and_writes_nothing(hooks, settings):
    settings.SREDESK_WEBHOOK_MAX_BYTES = 1000
    post = hooks()
    counts = RowCounts()
    body = json.dumps(am_body(am_alert(annotations={"x": "y" * 5000}))).encode()
    response = post(b"", **chunked(body))
    assert_refused(response, "body", statuses=[413])
    assert "SREDESK_WEBHOOK_MAX_BYTES" in response.json()["error"]
    counts.assert_unchanged()


def test_a_chunked_delivery_a_server_cannot_delimit_is_411(hooks):
    post = hooks()
    counts = RowCounts()
    response = post(b"", **chunked(json.dumps(am_body(am_alert())).encode(), terminated=False))
    assert_refused(response, "Transfer-Encoding", statuses=[411])
    counts.assert_unchanged()
