"""Alert webhooks over HTTP (Django test client): authentication, bad input, real payloads, replays, races.

Real payloads are read from SREDESK_REALDATA_DIR (shared/realdata), never copied here.
"""

import datetime as dt
import hashlib
import hmac
import json
import threading
import time

import psycopg
import pytest
import time_machine
from django.db import close_old_connections, connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents.ingest import receipts
from incidents.models import Alert, Incident, Integration, WebhookDelivery
from notifications.models import Notification
from sredesk.celery import app as celery_app
from tests.factories import ServiceFactory
from tests.incidents.payloads import am_alert, am_payload, counts, pd_signature, utc

# --- Authentication --------------------------------------------------------------------


def test_token_in_the_header_or_the_query_string(hook):
    payload = am_payload(am_alert("aaaa000000000001"))
    assert hook.post(payload).status_code == 200
    assert hook.post(payload, token="", query=f"?token={hook.token}").status_code == 200
    assert Alert.objects.get().times_seen == 2


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic d3Jvbmc6d3Jvbmc="}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_wrong_or_missing_token_is_401_and_writes_nothing(hook, headers):
    response = hook.post(am_payload(am_alert("aaaa000000000001")), token="", headers=headers)
    assert response.status_code == 401
    assert response.json()["field"] == "Authorization"
    assert counts() == {"alerts": 0, "incidents": 0, "timeline": 0, "notifications": 0}
    assert not WebhookDelivery.objects.exists()  # anonymous bodies are not stored


def test_unknown_or_disabled_integration_is_404(hook, client):
    assert client.post("/hooks/00000000-0000-0000-0000-000000000000/", data=b"{}", content_type="x").status_code == 404
    Integration.objects.update(enabled=False)
    assert hook.post(am_payload(am_alert("aaaa000000000001"))).status_code == 404


def test_only_post(hook, client):
    assert client.get(hook.url).status_code == 405


def test_webhooks_skip_the_browser_middleware_but_not_host_checks_or_404s(hook, client):
    payload = am_payload(am_alert("aaaa000000000001"))
    answer = hook.post(payload)
    assert answer.status_code == 200
    assert "X-Frame-Options" not in answer.headers and not answer.cookies  # no UI middleware ran
    page = client.get(reverse("login"))
    assert page.status_code == 200 and "X-Frame-Options" in page.headers  # web pages still get it

    assert hook.post(payload, headers={"Host": "evil.example"}).status_code == 400  # ALLOWED_HOSTS holds
    assert client.post("/hooks/not-an-id/", data=b"{}", content_type="application/json").status_code == 404
    assert Alert.objects.get().times_seen == 1  # neither refused request touched the alert


def test_the_token_is_stored_as_a_hash_only(hook):
    integration = Integration.objects.get()
    assert integration.token_hash == hashlib.sha256(hook.token.encode()).hexdigest()
    assert hook.token not in json.dumps(list(Integration.objects.values()), default=str)


def test_pagerduty_signature_alone_authenticates(make_hook, realdata_dir):
    pd = make_hook(Integration.Kind.PAGERDUTY, secret="pd-subscription-secret")
    body = (realdata_dir / "pagerduty" / "v3-incident.triggered.json").read_bytes()

    ok = pd.post(body, token="", headers={"X-PagerDuty-Signature": pd_signature(body, "pd-subscription-secret")})
    assert ok.status_code == 200, ok.content
    rotated = f"v1={'0' * 64},{pd_signature(body, 'pd-subscription-secret')}"  # during a secret rotation
    assert pd.post(body, token="", headers={"X-PagerDuty-Signature": rotated}).status_code == 200

    tampered = body.replace(b"Test Incident 3", b"Test Incident 4")
    bad = pd.post(tampered, token="", headers={"X-PagerDuty-Signature": pd_signature(body, "pd-subscription-secret")})
    assert bad.status_code == 403
    assert bad.json()["field"] == "X-PagerDuty-Signature"
    assert pd.post(body, token="", headers={"X-PagerDuty-Signature": "sha256=abc"}).status_code == 400
    assert pd.post(body, headers={}).status_code == 401  # a secret is configured: the token is not enough
    assert Incident.objects.count() == 1
    assert WebhookDelivery.objects.count() == 2  # the signed ones; the replay is marked duplicate
    assert set(WebhookDelivery.objects.values_list("outcome", flat=True)) == {"accepted", "duplicate"}


def test_the_signing_secret_is_stored_encrypted(make_hook):
    pd = make_hook(Integration.Kind.PAGERDUTY, secret="pd-subscription-secret")
    row = Integration.objects.get(pk=pd.integration.pk)
    assert "pd-subscription-secret" not in row.signing_secret_encrypted
    assert row.signing_secret == "pd-subscription-secret"


def test_grafana_hmac_signature(make_hook, svc_a, realdata_dir):
    grafana = make_hook(Integration.Kind.GRAFANA, secret="grafana-secret", default_service=svc_a)
    body = (realdata_dir / "grafana" / "v11-firing-values-imageURL.json").read_bytes()
    good = hmac.new(b"grafana-secret", body, hashlib.sha256).hexdigest()

    assert grafana.post(body, token="", headers={"X-Grafana-Alerting-Signature": "0" * 64}).status_code == 403
    assert grafana.post(body, token="").status_code == 401
    assert grafana.post(body, token="", headers={"X-Grafana-Alerting-Signature": good}).status_code == 200
    assert grafana.post(body, token="", headers={"X-Grafana-Alert-Signature": good}).status_code == 200

    now = str(int(time.time()))
    stamped = hmac.new(b"grafana-secret", now.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"X-Grafana-Alert-Signature": stamped, "X-Grafana-Alert-Timestamp": now}
    assert grafana.post(body, token="", headers=headers).status_code == 200
    old = str(int(time.time()) - 3600)
    stale = hmac.new(b"grafana-secret", old.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"X-Grafana-Alert-Signature": stale, "X-Grafana-Alert-Timestamp": old}
    assert grafana.post(body, token="", headers=headers).status_code == 403
    assert Alert.objects.get().times_seen == 3


# --- Bad input: 400 naming the field, nothing half-written --------------------------------


def test_malformed_json_is_400_and_the_receipt_is_kept(hook):
    response = hook.post(b'{"version": "4", "alerts": [')
    assert response.status_code == 400
    assert response.json()["field"] == "$"
    assert "not valid json" in response.json()["error"].lower()
    receipt = WebhookDelivery.objects.get()
    assert (receipt.outcome, bytes(receipt.body)) == ("rejected", b'{"version": "4", "alerts": [')
    assert counts()["alerts"] == 0


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.update(alerts={"a": 1}), "alerts"),
        (lambda p: p.pop("alerts"), "alerts"),
        (lambda p: p["alerts"][1].pop("startsAt"), "alerts[1].startsAt"),
        (lambda p: p["alerts"][1].pop("labels"), "alerts[1].labels"),
        (lambda p: p["alerts"][1].update(status="exploded"), "alerts[1].status"),
        (lambda p: p["alerts"][1].update(startsAt="2024-05-01T10:05:00"), "alerts[1].startsAt"),  # naive: BR-22
        (lambda p: p["alerts"][1].update(endsAt="yesterday"), "alerts[1].endsAt"),
    ],
    ids=[
        "alerts-not-a-list",
        "alerts-missing",
        "startsAt-missing",
        "labels-missing",
        "bad-status",
        "naive",
        "bad-time",
    ],
)
def test_bad_payload_is_400_naming_the_field_and_writes_nothing(hook, mutate, field):
    """The first alert is fine, the second is not: neither is stored (one transaction)."""
    payload = am_payload(am_alert("aaaa000000000001"), am_alert("aaaa000000000002", labels={"alertname": "Other"}))
    mutate(payload)
    response = hook.post(payload)
    assert response.status_code == 400
    assert response.json()["field"] == field, response.json()
    assert counts() == {"alerts": 0, "incidents": 0, "timeline": 0, "notifications": 0}
    assert WebhookDelivery.objects.get().outcome == "rejected"


def test_a_json_array_is_the_wrong_shape(hook):
    response = hook.post(b"[1, 2]")
    assert (response.status_code, response.json()["field"]) == (400, "$")


def test_oversized_body_is_refused_before_parsing(hook, settings):
    settings.SREDESK_WEBHOOK_MAX_BYTES = 512
    payload = am_payload(am_alert("aaaa000000000001", annotations={"description": "x" * 600}))
    response = hook.post(payload)
    assert response.status_code == 413
    assert response.json()["field"] == "body"
    assert "SREDESK_WEBHOOK_MAX_BYTES" in response.json()["error"]
    assert counts()["alerts"] == 0
    assert hook.post(am_payload(am_alert("aaaa000000000001"))).status_code == 200


def test_a_pagerduty_event_without_id_is_400(make_hook):
    pd = make_hook(Integration.Kind.PAGERDUTY)
    response = pd.post({"event": {"event_type": "incident.triggered", "resource_type": "incident", "data": {}}})
    assert (response.status_code, response.json()["field"]) == (400, "event.id")


# --- Every real payload, and its replay -----------------------------------------------------


@pytest.mark.parametrize("sender", ["alertmanager", "grafana", "pagerduty"])
def test_every_real_payload_is_ingested_and_a_replay_changes_nothing(make_hook, svc_a, realdata_dir, sender):
    files = sorted(path for path in (realdata_dir / sender).iterdir() if path.suffix == ".json")
    assert files
    for path in files:
        hook = make_hook(sender, name=path.name, default_service=svc_a)
        body = path.read_bytes()
        first = hook.post(body)
        assert first.status_code == 200, (path.name, first.content)
        after_first = counts()
        replay = hook.post(body)
        assert replay.status_code == 200, (path.name, replay.content)
        assert counts() == after_first, path.name
        assert replay.json()["alerts"]["new"] == 0, path.name
        assert replay.json()["incidents"] == first.json()["incidents"], path.name
        assert replay.json()["outcome"] in ("duplicate", "test", "ignored", "orphan"), (path.name, replay.json())
    assert WebhookDelivery.objects.count() == 2 * len(files)
    assert not WebhookDelivery.objects.filter(outcome__in=["rejected", "error"]).exists()


def test_receipt_keeps_the_raw_bytes_and_selected_headers(hook, realdata_dir):
    body = (realdata_dir / "alertmanager" / "firing-multi-long-generatorurl.json").read_bytes()
    hook.post(body, headers={"User-Agent": "Alertmanager/0.27.0"})
    receipt = WebhookDelivery.objects.get()
    assert bytes(receipt.body) == body
    assert receipt.headers == {"Content-Type": "application/json", "User-Agent": "Alertmanager/0.27.0"}
    assert receipt.result["alerts"]["new"] == 3


def test_alertmanager_firing_then_resolved_from_real_payload(hook, realdata_dir):
    """The OnCall example: two firing alerts; then the same group resolves one by one."""
    path = realdata_dir / "alertmanager" / "oncall-example-two-firing-numFiring.json"
    payload = json.loads(path.read_bytes())
    first = hook.post(payload, received=utc(2023, 6, 12, 8, 25)).json()  # delivered live
    assert first["alerts"]["new"] == 2 and len(first["incidents"]) == 1
    incident = Incident.objects.get()
    assert (incident.title, incident.started_at, incident.detected_at) == (
        "InstanceDown",
        utc(2023, 6, 12, 8, 24, 38, 326000),  # startsAt
        utc(2023, 6, 12, 8, 25),  # received
    )
    assert (incident.severity, incident.primary_service.slug) == (1, "svc-a")  # severity=critical

    payload["alerts"][0].update(status="resolved", endsAt="2023-06-12T08:40:00Z")
    assert hook.post(payload).json()["alerts"]["resolved"] == 1
    incident.refresh_from_db()
    assert incident.status == "triggered"

    payload["status"] = "resolved"
    payload["alerts"][1].update(status="resolved", endsAt="2023-06-12T08:45:00.5Z")
    assert hook.post(payload).json()["alerts"] == {"new": 0, "repeated": 1, "resolved": 1, "orphan": 0, "stale": 0}
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at) == ("resolved", utc(2023, 6, 12, 8, 45, 0, 500000))
    messages = list(incident.timeline.values_list("message", flat=True))
    # The two alerts are told apart by the labels that differ between them (issue 15 item 3).
    for instance in ("group=production, instance=localhost:8081", "group=canary, instance=localhost:8082"):
        assert messages.count(f"Alert fired: InstanceDown ({instance})") == 1
        assert messages.count(f"Alert resolved: InstanceDown ({instance})") == 1


def test_grafana_test_notification_opens_nothing(make_hook, realdata_dir):
    grafana = make_hook(Integration.Kind.GRAFANA)
    response = grafana.post((realdata_dir / "grafana" / "v8-test-notification-resolved-truncated.json").read_bytes())
    assert response.status_code == 200
    assert response.json()["outcome"] == "test"
    assert counts() == {"alerts": 0, "incidents": 0, "timeline": 0, "notifications": 0}
    assert WebhookDelivery.objects.get().outcome == "test"


def test_old_alertmanager_payload_offset_is_converted(hook, realdata_dir):
    hook.post((realdata_dir / "alertmanager" / "firing-old-style-no-alert-status-tz-offset.json").read_bytes())
    alert = Alert.objects.get()
    assert (alert.status, alert.starts_at) == ("firing", utc(2018, 3, 7, 11, 33, 21, 873077))
    assert Incident.objects.get().started_at == utc(2018, 3, 7, 11, 33, 21, 873077)


def test_reused_fingerprint_with_other_labels_is_another_alert(hook, realdata_dir):
    """Both alerts of this file share fingerprint and startsAt but not labels: two identities (FORMATS.md (a))."""
    body = (realdata_dir / "alertmanager" / "diskspace-two-resolved-no-grouplabels.json").read_bytes()
    assert hook.post(body).json()["alerts"]["orphan"] == 2
    instances = sorted(a.labels["instance"] for a in Alert.objects.all())
    assert instances == ["cs30.evilcorp", "cs31.evilcorp"]
    assert not Incident.objects.exists()
    assert hook.post(body).json()["alerts"] == {"new": 0, "repeated": 2, "resolved": 0, "orphan": 0, "stale": 0}


# --- Races on PostgreSQL -------------------------------------------------------------------


def _race(url: str, token: str, bodies: list[bytes]) -> list[int]:
    """POST each body from its own thread, all released at once; returns the status codes."""
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            response = Client().post(
                url, data=bodies[index], content_type="application/json", headers={"Authorization": f"Bearer {token}"}
            )
            statuses[index] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_the_same_alert_make_one_alert_and_one_incident(requires_postgres, make_hook, svc_a):
    """BR-07 concurrent variant: 4 identical deliveries at once; no duplicate rows and no 500."""
    hook = make_hook(default_service=svc_a)
    for starts in ("2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z"):  # then both fire again: new alerts, same incident
        alerts = [
            am_alert("aaaa000000000001", starts=starts),
            am_alert("aaaa000000000002", starts=starts, labels={"alertname": "B"}),
        ]
        body = json.dumps(am_payload(*alerts)).encode()
        assert _race(hook.url, hook.token, [body] * 4) == [200] * 4
    assert Alert.objects.filter(starts_at=utc(2024, 5, 1, 10)).count() == 2
    assert Incident.objects.count() == 1
    assert Alert.objects.filter(starts_at=utc(2024, 5, 1, 11)).count() == 2
    incident = Incident.objects.get()
    assert incident.timeline.filter(message__startswith="Alert fired").count() == 4
    assert incident.timeline.filter(kind="status_change").count() == 1
    assert WebhookDelivery.objects.filter(outcome="accepted").count() == 2
    assert sum(Alert.objects.values_list("times_seen", flat=True)) == 16


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_different_alerts_of_one_group_share_one_incident(requires_postgres, make_hook, svc_a):
    hook = make_hook(default_service=svc_a)
    bodies = [
        json.dumps(am_payload(am_alert(f"dddd00000000000{i}", labels={"alertname": f"A{i}"}), group_key="g")).encode()
        for i in range(4)
    ]
    assert _race(hook.url, hook.token, bodies) == [200] * 4
    incident = Incident.objects.get()
    assert incident.alerts.count() == 4
    assert incident.timeline.filter(message__startswith="Alert fired").count() == 4
    assert Notification.objects.filter(subject__contains=" declared: ").count() == 2  # team + paged person, once


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_resolutions_resolve_once(requires_postgres, make_hook, svc_a):
    hook = make_hook(default_service=svc_a)
    with time_machine.travel(utc(2024, 5, 1, 10, 0, 30)):  # delivered live: detected before the alert's end
        Client().post(
            hook.url,
            data=json.dumps(am_payload(am_alert("aaaa000000000001"))),
            content_type="application/json",
            headers={"Authorization": f"Bearer {hook.token}"},
        )
    resolved = json.dumps(am_payload(am_alert("aaaa000000000001", "resolved", ends="2024-05-01T10:05:00Z"))).encode()
    assert _race(hook.url, hook.token, [resolved] * 4) == [200] * 4
    incident = Incident.objects.get()
    assert (incident.status, incident.resolved_at) == ("resolved", utc(2024, 5, 1, 10, 5))
    assert incident.timeline.filter(message__startswith="Alert resolved").count() == 1
    assert incident.timeline.filter(kind="status_change").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_pagerduty_replays_apply_once(requires_postgres, make_hook, realdata_dir):
    hook = make_hook(Integration.Kind.PAGERDUTY)
    body = (realdata_dir / "pagerduty" / "v3-incident.triggered.json").read_bytes()
    assert _race(hook.url, hook.token, [body] * 4) == [200] * 4
    assert Incident.objects.count() == 1
    assert WebhookDelivery.objects.filter(outcome="accepted").count() == 1
    assert WebhookDelivery.objects.filter(outcome="duplicate").count() == 3


# --- The connection's health check ------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_integration_lookup_is_the_connection_health_check(requires_postgres, hook, monkeypatch):
    db = connections["default"]
    probes = []
    is_usable = db.is_usable
    monkeypatch.setattr(db, "is_usable", lambda: probes.append("SELECT 1") or is_usable())
    payload = am_payload(am_alert("aaaa000000000001"))
    assert hook.post(payload).json()["outcome"] == "accepted"
    close_old_connections()  # as each request starts (Django's test client leaves it out)
    assert hook.post(payload).json()["outcome"] == "duplicate"
    assert probes == []  # the delivery's first statement was its own, not Django's SELECT 1

    # The server drops the connection between two deliveries: the lookup fails, and runs again on a new one.
    backend = db.connection.info.backend_pid
    named = db.settings_dict
    with psycopg.connect(
        dbname=named["NAME"], user=named["USER"], host=named["HOST"], port=named["PORT"] or 5432, autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])
    close_old_connections()
    assert hook.post(payload).json()["outcome"] == "duplicate"
    assert db.connection.info.backend_pid != backend
    assert probes == ["SELECT 1"]  # only once the lookup had failed, to tell a dropped connection from an error
    assert Alert.objects.get().times_seen == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_error_on_a_working_connection_is_not_retried(requires_postgres, hook):
    db = connections["default"]
    payload = am_payload(am_alert("aaaa000000000001"))
    assert hook.post(payload).json()["outcome"] == "accepted"
    backend = db.connection.info.backend_pid
    with db.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")
    named = db.settings_dict
    with psycopg.connect(
        dbname=named["NAME"], user=named["USER"], host=named["HOST"], port=named["PORT"] or 5432
    ) as locker:
        locker.execute("LOCK TABLE incidents_integration IN ACCESS EXCLUSIVE MODE")
        release = threading.Timer(5, locker.rollback)  # a retry (on a new connection, no lock_timeout) would wait
        release.start()
        close_old_connections()
        try:
            response = hook.post(payload)
        finally:
            release.cancel()
    # Answered 503 with Retry-After (sredesk.dbtrouble), which Alertmanager retries; not retried here.
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert db.connection.info.backend_pid == backend  # no reconnection, no second wait
    db.close()


# --- Retention -------------------------------------------------------------------------------


def test_retention_deletes_old_receipts_only(hook, settings):
    settings.SREDESK_WEBHOOK_RETENTION_DAYS = 30
    hook.post(am_payload(am_alert("aaaa000000000001")))
    hook.post(b"not json")
    now = WebhookDelivery.objects.order_by("received_at").first().received_at
    WebhookDelivery.objects.filter(outcome="rejected").update(received_at=now - dt.timedelta(days=31))

    from incidents.tasks import webhook_deliveries_purge_task

    assert webhook_deliveries_purge_task.apply().get() == 1
    assert list(WebhookDelivery.objects.values_list("outcome", flat=True)) == ["accepted"]
    assert Alert.objects.count() == 1  # receipts only: alerts and incidents stay
    assert receipts.webhook_deliveries_purge(now=now + dt.timedelta(days=30, seconds=1)) == 1
    assert not WebhookDelivery.objects.exists()


def test_retention_is_a_beat_entry(hook, settings):
    """Beat sends, every hour, a task the worker has registered under the entry's name, and that task purges."""
    entry = settings.CELERY_BEAT_SCHEDULE["webhook-deliveries-purge"]
    assert entry["schedule"].run_every == dt.timedelta(hours=1)
    assert entry["options"]["expires"] <= 3600  # a stale tick is dropped, not piled up
    task = celery_app.tasks[entry["task"]]
    hook.post(b"not json")
    retention = dt.timedelta(days=settings.SREDESK_WEBHOOK_RETENTION_DAYS, minutes=1)
    WebhookDelivery.objects.update(received_at=timezone.now() - retention)

    assert task.apply().get() == 1
    assert not WebhookDelivery.objects.exists()


def test_readme_curl_example_generic_alert(make_hook, svc_a):
    svc = ServiceFactory(slug="payments")
    hook = make_hook(Integration.Kind.GENERIC, default_service=svc_a)
    body = {
        "status": "firing",
        "labels": {"alertname": "HighLatency", "service": "payments", "severity": "critical"},
        "title": "p99 latency above 2 s",
        "starts_at": "2024-05-01T10:00:00Z",
    }
    answer = hook.post(body).json()
    assert answer["outcome"] == "accepted" and answer["alerts"]["new"] == 1
    incident = Incident.objects.get()
    assert (incident.title, incident.severity, incident.primary_service) == ("p99 latency above 2 s", 1, svc)


def test_an_unreadable_signing_secret_is_503_not_a_silent_pass(make_hook, settings, realdata_dir):
    pd = make_hook(Integration.Kind.PAGERDUTY, secret="pd-subscription-secret")
    settings.SREDESK_ENCRYPTION_KEY = "x" * 43 + "="  # another key: the stored secret no longer decrypts
    body = (realdata_dir / "pagerduty" / "v3-incident.triggered.json").read_bytes()
    response = pd.post(body, token="", headers={"X-PagerDuty-Signature": pd_signature(body, "pd-subscription-secret")})
    assert response.status_code == 503
    assert not Incident.objects.exists()


def test_grafana_mixed_firing_and_resolved_from_real_payload(make_hook, svc_a, realdata_dir):
    """Two alerts arrive already resolved beside a firing one (BR-04): they join its incident, which stays open."""
    grafana = make_hook(Integration.Kind.GRAFANA, default_service=svc_a)
    payload = json.loads((realdata_dir / "grafana" / "v9-mixed-firing-and-resolved.json").read_bytes())
    answer = grafana.post(payload, received=utc(2022, 6, 17, 1, 4)).json()  # delivered live
    assert answer["alerts"] == {"new": 1, "repeated": 0, "resolved": 2, "orphan": 0, "stale": 0}
    incident = Incident.objects.get()
    assert (incident.title, incident.status) == ("Testing **another** failing alert", "triggered")
    assert (incident.started_at, incident.detected_at) == (utc(2022, 6, 17, 1, 3, 0, 782137), utc(2022, 6, 17, 1, 4))
    assert incident.alerts.count() == 3

    payload["status"] = "resolved"
    payload["alerts"][2].update(status="resolved", endsAt="2022-06-17T01:20:00Z")
    assert grafana.post(payload).json()["alerts"]["resolved"] == 1
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at) == ("resolved", utc(2022, 6, 17, 1, 20))
