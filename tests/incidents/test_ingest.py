"""Ingestion rules through the webhook: field cases BR-01, 02, 04, 05, 07, 22; grouping, re-open, routing, PagerDuty.

Inputs are the field cases' own (FIELD-CASES.md), posted over HTTP with the Django test client.
"""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.ingest import matching
from incidents.models import Alert, Incident, Integration, WebhookDelivery
from notifications import memory
from notifications.models import Notification
from postmortems.models import PostMortem
from tests.factories import ServiceFactory, UserFactory
from tests.incidents.payloads import am_alert, am_payload, counts, utc

pytestmark = pytest.mark.django_db

# BR-01's input, verbatim.
BR01 = b"""{"version":"4","status":"resolved","receiver":"incident-app","groupKey":"{}:{alertname=\\"DiskFull\\"}",
 "truncatedAlerts":0,"groupLabels":{"alertname":"DiskFull"},"commonLabels":{"alertname":"DiskFull","service":"svc-a"},
 "commonAnnotations":{},"externalURL":"http://am.example:9093",
 "alerts":[{"status":"resolved","labels":{"alertname":"DiskFull","service":"svc-a"},"annotations":{},
   "startsAt":"2024-05-01T10:00:00Z","endsAt":"2024-05-01T10:05:00Z","generatorURL":"http://prom.example/g","fingerprint":"aaaa000000000001"}]}"""


def announcements(word: str) -> dict[str, int]:
    """Planned notifications whose subject says ``word`` (declared, resolved...), per address."""
    rows = Notification.objects.filter(subject__contains=f" {word}: ")
    return {address: rows.filter(address=address).count() for address in rows.values_list("address", flat=True)}


# --- BR-01: resolved for an alert never seen firing --------------------------------------


def test_br01_orphan_resolved_is_kept_and_opens_nothing(hook, slack_on):
    assert json.loads(BR01)["alerts"][0]["fingerprint"] == "aaaa000000000001"
    response = hook.post(BR01)

    assert response.status_code == 200
    assert response.json()["outcome"] == "orphan"
    assert response.json()["alerts"]["orphan"] == 1
    alert = Alert.objects.get()
    assert (alert.status, alert.incident, alert.ends_at) == ("resolved", None, utc(2024, 5, 1, 10, 5))
    assert not Incident.objects.exists()
    assert not Notification.objects.exists() and memory.outbox == []  # nobody paged, no Slack message
    assert WebhookDelivery.objects.get().outcome == "orphan"  # kept for audit

    # A firing for the same fingerprint that started no later than the stored endsAt re-opens nothing.
    for starts in ("2024-05-01T10:00:00Z", "2024-05-01T10:04:59Z", "2024-05-01T10:05:00Z"):
        late = hook.post(am_payload(am_alert("aaaa000000000001", starts=starts))).json()
        assert late["alerts"]["stale"] == 1, late
    assert not Incident.objects.exists() and Alert.objects.count() == 1
    assert Alert.objects.get().times_seen == 4

    # A firing that starts after that resolution is a new firing.
    fresh = hook.post(am_payload(am_alert("aaaa000000000001", starts="2024-05-01T11:00:00Z"))).json()
    assert (fresh["alerts"]["new"], len(fresh["incidents"])) == (1, 1)


# --- BR-02: the zero endsAt sentinel -------------------------------------------------------


def test_br02_zero_ends_at_is_unset_and_the_offset_is_converted(hook, client):
    alert = am_alert("aaaa000000000001", starts="2024-05-01T10:00:00+02:00", ends="0001-01-01T00:00:00Z")
    before = timezone.now()
    assert hook.post(am_payload(alert)).status_code == 200

    incident = Incident.objects.get()
    # Impact began at startsAt, its offset converted to UTC; detected when sredesk received it (issue 15 item 4).
    assert incident.started_at == utc(2024, 5, 1, 8, 0)
    assert before <= incident.detected_at <= timezone.now()
    assert (incident.status, incident.resolved_at, incident.mitigated_at) == ("triggered", None, None)
    assert incident.mttr_seconds is None and incident.mtta_seconds is None
    assert Alert.objects.get().ends_at is None
    # The MTTR aggregate counts resolved incidents only: this one is not among them.
    assert not Incident.objects.filter(resolved_at__isnull=False).exists()

    client.force_login(UserFactory(username="viewer"))
    page = client.get(f"/incidents/{incident.pk}/")
    assert page.status_code == 200
    assert b"0001" not in page.content


# --- BR-04: group status vs per-alert status ------------------------------------------------


def test_br04_each_alert_follows_its_own_status(hook):
    labels = {"alertname": "DiskFull", "service": "svc-a"}
    a = am_alert("aaaa000000000001", labels={**labels, "instance": "a"})
    b = am_alert("aaaa000000000002", "resolved", ends="2024-05-01T10:05:00Z", labels={**labels, "instance": "b"})
    first = hook.post(am_payload(a, b, status="firing"), received=utc(2024, 5, 1, 10, 0, 30)).json()

    assert first["alerts"] == {"new": 1, "repeated": 0, "resolved": 1, "orphan": 0, "stale": 0}
    incident = Incident.objects.get()
    assert incident.status == "triggered"
    by_instance = {alert.labels["instance"]: alert for alert in Alert.objects.all()}
    assert (by_instance["a"].status, by_instance["b"].status) == ("firing", "resolved")
    assert by_instance["b"].incident == incident
    assert list(incident.timeline.filter(message__startswith="Alert resolved").values_list("message", flat=True)) == [
        "Alert resolved: DiskFull (instance=b)"
    ]

    a_resolved = {**a, "status": "resolved", "endsAt": "2024-05-01T10:20:00Z"}
    b_resolved = {**b}
    second = hook.post(
        am_payload(a_resolved, b_resolved, status="resolved"), received=utc(2024, 5, 1, 10, 20, 30)
    ).json()
    assert second["alerts"]["resolved"] == 1 and second["alerts"]["repeated"] == 1
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at) == ("resolved", utc(2024, 5, 1, 10, 20))  # A's endsAt
    assert incident.timeline.filter(message__startswith="Alert resolved").count() == 2


def test_a_truncated_list_never_means_all_resolved(hook):
    hook.post(am_payload(am_alert("aaaa000000000001")))
    resolved = am_payload(am_alert("aaaa000000000001", "resolved", ends="2024-05-01T10:05:00Z"), truncatedAlerts=3)
    assert hook.post(resolved).json()["alerts"]["resolved"] == 1
    assert Incident.objects.get().status == "triggered"
    assert Alert.objects.get().status == "resolved"


# --- BR-05: identity granularity -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["alertmanager", "grafana"])
def test_br05_too_fine_resolution_with_rewritten_starts_at_still_resolves(make_hook, svc_a, kind):
    """grafana#106065: the resolved notification carries startsAt = the resolve time and a new annotation value."""
    hook = make_hook(kind, default_service=svc_a)
    labels = {"alertname": "HighLatency", "service": "svc-a"}
    firing = am_alert("bbbb000000000001", starts="2024-05-01T10:00:00Z", labels=labels, annotations={"value": "950ms"})
    resolved = am_alert(
        "bbbb000000000001",
        "resolved",
        starts="2024-05-01T10:30:00Z",
        ends="2024-05-01T10:30:00Z",
        labels=labels,
        annotations={"value": "120ms"},
    )
    version = {"version": "1"} if kind == "grafana" else {}
    hook.post(am_payload(firing, **version), received=utc(2024, 5, 1, 10, 0, 30))
    assert (
        hook.post(am_payload(resolved, **version), received=utc(2024, 5, 1, 10, 30, 30)).json()["alerts"]["resolved"]
        == 1
    )
    assert hook.post(am_payload(resolved, **version)).json()["alerts"]["repeated"] == 1  # and its replay

    incident = Incident.objects.get()
    assert (incident.status, incident.resolved_at) == ("resolved", utc(2024, 5, 1, 10, 30))
    alert = Alert.objects.get()
    assert (alert.starts_at, alert.annotations) == (utc(2024, 5, 1, 10), {"value": "120ms"})


def test_br05_too_fine_generic_format(make_hook, svc_a):
    hook = make_hook(Integration.Kind.GENERIC, default_service=svc_a)
    labels = {"alertname": "HighLatency", "service": "svc-a"}
    hook.post(
        {"status": "firing", "labels": labels, "annotations": {"value": "950ms"}, "starts_at": "2024-05-01T10:00:00Z"}
    )
    hook.post(
        {
            "status": "resolved",
            "labels": labels,
            "annotations": {"value": "120ms"},
            "starts_at": "2024-05-01T10:30:00Z",
            "ends_at": "2024-05-01T10:30:00Z",
        }
    )
    assert Alert.objects.count() == 1
    assert Incident.objects.get().status == "resolved"


def test_br05_too_coarse_two_services_are_two_alerts(make_hook, svc_a):
    svc_b = ServiceFactory(slug="svc-b", team=svc_a.team)
    hook = make_hook(Integration.Kind.GENERIC, default_service=svc_a)
    a = {"status": "firing", "labels": {"alertname": "HighLatency", "service": "svc-a"}}
    b = {"status": "firing", "labels": {"alertname": "HighLatency", "service": "svc-b"}}
    assert hook.post({"alerts": [a, b]}).json()["alerts"]["new"] == 2
    assert hook.post({"alerts": [{**b, "status": "resolved"}]}).json()["alerts"]["resolved"] == 1

    by_service = {alert.labels["service"]: alert for alert in Alert.objects.all()}
    assert (by_service["svc-a"].status, by_service["svc-b"].status) == ("firing", "resolved")
    incident = Incident.objects.get()
    assert incident.status == "triggered"
    assert set(incident.services.all()) == {svc_a, svc_b}
    assert incident.primary_service == svc_a


def test_alerts_joining_an_open_incident_add_their_services_and_only_new_ones_are_written(hook, svc_a):
    svc_b = ServiceFactory(slug="svc-b", team=svc_a.team)

    def alert(n: int, service: str) -> dict:
        return am_alert(
            f"aaaa00000000000{n}", starts=f"2024-05-01T10:0{n}:00Z", labels={"alertname": f"A{n}", "service": service}
        )

    assert hook.post(am_payload(alert(1, "svc-a"))).json()["alerts"]["new"] == 1
    incident = Incident.objects.get()
    assert set(incident.services.all()) == {svc_a}

    answer = hook.post(am_payload(alert(1, "svc-a"), alert(2, "svc-b"))).json()
    assert (answer["alerts"]["new"], answer["alerts"]["repeated"]) == (1, 1)
    assert set(incident.services.all()) == {svc_a, svc_b}

    # Another svc-a alert joins beside the svc-a alert already in the incident: its service is not written again.
    with CaptureQueriesContext(connection) as queries:
        answer = hook.post(am_payload(alert(1, "svc-a"), alert(2, "svc-b"), alert(3, "svc-a"))).json()
    assert (answer["alerts"]["new"], answer["alerts"]["repeated"], answer["incidents"]) == (1, 2, [incident.public_id])
    assert not [q for q in queries.captured_queries if "incidents_incident_services" in q["sql"]]
    assert set(incident.services.all()) == {svc_a, svc_b} and Alert.objects.filter(incident=incident).count() == 3


# --- BR-07: at-least-once delivery ----------------------------------------------------------


def test_br07_three_firing_and_two_resolved_deliveries(hook, slack_on):
    firing = am_payload(am_alert("aaaa000000000001"))
    resolved = am_payload(am_alert("aaaa000000000001", "resolved", ends="2024-05-01T10:05:00Z"))
    outcomes = [hook.post(firing, received=utc(2024, 5, 1, 10, 0, 30)).json()["outcome"] for _ in range(3)]
    outcomes += [hook.post(resolved).json()["outcome"] for _ in range(2)]
    late_resolved = am_payload(am_alert("aaaa000000000001", "resolved", ends="2024-05-01T10:09:00Z"))
    outcomes.append(hook.post(late_resolved).json()["outcome"])

    assert outcomes == ["accepted", "duplicate", "duplicate", "accepted", "duplicate", "duplicate"]
    incident = Incident.objects.get()
    assert incident.timeline.filter(message="Alert fired: DiskFull").count() == 1
    assert incident.timeline.filter(message__endswith="→ Resolved").count() == 1
    assert (incident.status, incident.resolved_at) == ("resolved", utc(2024, 5, 1, 10, 5))  # the first endsAt
    assert announcements("declared") == {"team:team-x": 1, "user:oncall": 1}
    assert announcements("resolved") == {"team:team-x": 1, "user:oncall": 1}
    # On Slack: one message (the incident's card), edited once for the resolution.
    assert [m.address for m in memory.outbox] == ["C0TEAMX"]
    assert [(posted.ref, m.text.splitlines()[1]) for posted, m in memory.updates] == [
        ("1", "Resolved at 2024-05-01 10:05 UTC")
    ]
    alert = Alert.objects.get()
    assert (alert.times_seen, alert.status) == (6, "resolved")
    assert alert.last_seen_at >= alert.first_seen_at


# --- Grouping, re-open window, resolve mode ---------------------------------------------------


def test_a_group_is_one_incident_and_another_group_another(hook):
    hook.post(am_payload(am_alert("aaaa000000000001"), group_key="g1"))
    hook.post(
        am_payload(am_alert("aaaa000000000002", labels={"alertname": "Other", "service": "svc-a"}), group_key="g1")
    )
    hook.post(am_payload(am_alert("aaaa000000000003", labels={"alertname": "Third"}), group_key="g2"))
    assert Incident.objects.count() == 2
    g1 = Incident.objects.get(alert_group_key="g1")
    assert g1.alerts.count() == 2 and g1.title == "DiskFull"
    assert g1.integration == hook.integration


def test_firing_again_within_the_window_reopens(hook):
    hook.integration.reopen_window_seconds = 3600
    hook.integration.save()
    hook.post(am_payload(am_alert("aaaa000000000001")), received=utc(2024, 5, 1, 10, 0, 30))
    hook.post(am_payload(am_alert("aaaa000000000001", "resolved", ends="2024-05-01T10:05:00Z")))
    again = hook.post(am_payload(am_alert("aaaa000000000001", starts="2024-05-01T10:30:00Z"))).json()

    assert again["alerts"]["new"] == 1
    incident = Incident.objects.get()
    assert (incident.status, incident.resolved_at, incident.mitigated_at) == ("triggered", None, None)
    assert incident.timeline.filter(message="Resolved → Triggered").count() == 1
    assert Alert.objects.filter(incident=incident).count() == 2

    hook.post(
        am_payload(am_alert("aaaa000000000001", "resolved", starts="2024-05-01T10:30:00Z", ends="2024-05-01T10:40:00Z"))
    )
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at) == ("resolved", utc(2024, 5, 1, 10, 40))


def test_firing_again_after_the_window_opens_a_new_incident(hook):
    hook.post(am_payload(am_alert("aaaa000000000001")), received=utc(2024, 5, 1, 10, 0, 30))
    hook.post(am_payload(am_alert("aaaa000000000001", "resolved", ends="2024-05-01T10:05:00Z")))
    hook.post(am_payload(am_alert("aaaa000000000001", starts="2024-05-01T12:00:00Z")), received=utc(2024, 5, 1, 12, 1))
    first, second = Incident.objects.order_by("id")
    assert (first.status, second.status) == ("resolved", "triggered")
    assert (second.started_at, second.detected_at) == (utc(2024, 5, 1, 12), utc(2024, 5, 1, 12, 1))


def test_mitigate_mode_leaves_resolution_to_a_person(hook):
    hook.integration.resolve_mode = Integration.ResolveMode.MITIGATE
    hook.integration.save()
    hook.post(am_payload(am_alert("aaaa000000000001")), received=utc(2024, 5, 1, 10, 0, 30))
    hook.post(am_payload(am_alert("aaaa000000000001", "resolved", ends="2024-05-01T10:05:00Z")))
    incident = Incident.objects.get()
    assert (incident.status, incident.mitigated_at, incident.resolved_at) == ("mitigated", utc(2024, 5, 1, 10, 5), None)

    hook.post(am_payload(am_alert("aaaa000000000001", starts="2024-05-01T10:20:00Z")))  # impact is back
    incident.refresh_from_db()
    assert (incident.status, incident.mitigated_at) == ("triggered", None)


def test_a_resolved_incident_ignores_repeats_of_its_firing_alert(hook):
    """A person resolved the incident while the alert still fires: repeats do not re-open it."""
    from incidents import services

    hook.post(am_payload(am_alert("aaaa000000000001")))
    incident = Incident.objects.get()
    services.incident_resolve(incident_id=incident.pk, actor=None, source="web")
    assert hook.post(am_payload(am_alert("aaaa000000000001"))).json()["outcome"] == "duplicate"
    incident.refresh_from_db()
    assert incident.status == "resolved"


# --- Routing and severity ----------------------------------------------------------------------


def test_routing_by_service_label_and_severity_mapping(hook, svc_a):
    svc_b = ServiceFactory(slug="svc-b")
    labels = {"alertname": "Disk", "service": "svc-b", "severity": "warning"}
    hook.post(am_payload(am_alert("aaaa000000000001", labels=labels), group_key="g1"))
    incident = Incident.objects.get()
    assert (incident.primary_service, incident.owning_team, incident.severity) == (svc_b, svc_b.team, 3)

    unknown = {"alertname": "Disk", "service": "nope", "severity": "mystery"}
    hook.post(am_payload(am_alert("aaaa000000000002", labels=unknown), group_key="g2"))
    other = Incident.objects.get(alert_group_key="g2")
    assert (other.primary_service, other.severity) == (svc_a, hook.integration.default_severity)

    # A worse alert joining the group escalates the incident.
    page = {"alertname": "Disk2", "service": "svc-b", "severity": "critical"}
    hook.post(am_payload(am_alert("aaaa000000000003", labels=page), group_key="g1"))
    incident.refresh_from_db()
    assert incident.severity == 1


def test_service_from_common_labels_and_custom_labels(make_hook, svc_a):
    svc_c = ServiceFactory(slug="payments")
    hook = make_hook(service_label="app", severity_label="prio", severity_map={"P1": "SEV1"}, default_service=svc_a)
    payload = am_payload(
        am_alert("aaaa000000000001", labels={"alertname": "X", "prio": "p1"}), commonLabels={"app": "payments"}
    )
    hook.post(payload)
    incident = Incident.objects.get()
    assert (incident.primary_service, incident.severity) == (svc_c, 1)


def test_an_alert_from_a_clock_running_ahead_opens_its_incident_now(hook):
    before = timezone.now()
    answer = hook.post(am_payload(am_alert("aaaa000000000001", starts="2999-01-01T00:00:00Z"))).json()
    assert answer["alerts"]["new"] == 1
    incident, alert = Incident.objects.get(), Alert.objects.get()
    assert alert.starts_at == utc(2999, 1, 1)  # the alert keeps the sender's time: it is part of its identity
    assert before <= incident.detected_at <= timezone.now() and incident.started_at == incident.detected_at


def test_resolving_a_sev1_creates_its_postmortem_draft(hook):
    hook.post(am_payload(am_alert("aaaa000000000001", labels={"alertname": "X", "severity": "critical"})))
    hook.post(
        am_payload(
            am_alert(
                "aaaa000000000001",
                "resolved",
                ends="2024-05-01T11:00:00Z",
                labels={"alertname": "X", "severity": "critical"},
            )
        )
    )
    assert PostMortem.objects.get().incident == Incident.objects.get()


# --- Performance: a repeat delivery is a few queries for the whole payload ---------------------


def test_repeat_delivery_of_20_alerts_is_a_few_queries(hook):
    alerts = [am_alert(f"cccc{i:012d}", labels={"alertname": f"A{i}", "service": "svc-a"}) for i in range(20)]
    payload = am_payload(*alerts)
    assert hook.post(payload).json()["alerts"]["new"] == 20
    with CaptureQueriesContext(connection) as first_repeat:
        answer = hook.post(payload).json()
    assert answer["alerts"]["repeated"] == 20
    sql = [q["sql"] for q in first_repeat.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    # The integration, then one UPDATE for all repeats and the receipt: in one statement on PostgreSQL.
    assert len(sql) <= (2 if connection.vendor == "postgresql" else 3), "\n".join(sql)
    assert Alert.objects.filter(times_seen=2).count() == 20
    receipt = WebhookDelivery.objects.latest("id")
    assert (receipt.outcome, receipt.result, bytes(receipt.body)) == ("duplicate", answer, json.dumps(payload).encode())


def test_a_repeat_receipt_lists_every_incident_of_the_delivery_as_the_answer_does(hook, svc_a):
    first = am_alert("dddd000000000001", labels={"alertname": "A1", "service": "svc-a"})
    second = am_alert("dddd000000000002", labels={"alertname": "A2", "service": "svc-a"})
    hook.post(am_payload(first, group_key='{}:{alertname="A1"}'))
    hook.post(am_payload(second, group_key='{}:{alertname="A2"}'))
    incidents = [incident.public_id for incident in Incident.objects.order_by("id")]
    assert len(incidents) == 2

    answer = hook.post(am_payload(second, first)).json()
    assert (answer["outcome"], answer["incidents"]) == ("duplicate", incidents)
    receipt = WebhookDelivery.objects.latest("id")
    assert (receipt.outcome, receipt.result) == ("duplicate", answer)


@pytest.fixture
def post_looking_at_synchronous_commit(hook):
    """``post(payload)`` -> (outcome, the delivery transaction's synchronous_commit as it ends)."""
    seen: list[str] = []

    def spy(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "incidents_webhookdelivery" in sql:  # the receipt is the delivery's last write
            with context["connection"].connection.cursor() as cursor:  # psycopg's own: not through this spy
                cursor.execute("SHOW synchronous_commit")
                seen.append(cursor.fetchone()[0])
        return result

    def post(payload: dict) -> tuple[str, str]:
        seen.clear()
        with connection.execute_wrapper(spy):
            outcome = hook.post(payload).json()["outcome"]
        return outcome, seen[-1]

    return post


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("asynchronous", [True, False])
def test_only_a_delivery_of_plain_repeats_commits_without_waiting_for_the_flush(
    requires_postgres, settings, post_looking_at_synchronous_commit, asynchronous
):
    settings.SREDESK_ASYNC_COMMIT_REPEATS = asynchronous
    alerts = [am_alert(f"ffff{i:012d}", labels={"alertname": f"A{i}"}) for i in range(2)]
    resolved = am_alert("ffff000000000000", "resolved", ends="2024-05-01T10:05:00Z", labels={"alertname": "A0"})
    deliveries = [alerts[:1], alerts, [resolved, alerts[1]], alerts[1:]]
    assert [post_looking_at_synchronous_commit(am_payload(*batch)) for batch in deliveries] == [
        ("accepted", "on"),
        ("accepted", "on"),
        ("accepted", "on"),
        ("duplicate", "off" if asynchronous else "on"),
    ]
    assert WebhookDelivery.objects.latest("id").error == ""


@pytest.mark.postgres
def test_a_delivery_inside_a_callers_transaction_never_commits_it_asynchronously(
    requires_postgres, post_looking_at_synchronous_commit
):
    # The test's own transaction encloses the delivery's: its SET LOCAL would last until that one commits.
    payload = am_payload(am_alert("ffff000000000009"))
    assert [post_looking_at_synchronous_commit(payload) for _ in range(2)] == [("accepted", "on"), ("duplicate", "on")]


def test_a_delivery_that_fails_after_the_repeats_update_keeps_an_error_receipt(hook, monkeypatch):
    alerts = [am_alert(f"abab{i:012d}", labels={"alertname": f"A{i}"}) for i in range(2)]
    hook.post(am_payload(alerts[0]))

    def broken(*args, **kwargs):
        raise RuntimeError("bug in a later step")

    monkeypatch.setattr(matching, "load_candidates", broken)  # runs for the new alert, after the slot UPDATE
    hook.client.raise_request_exception = False
    assert hook.post(am_payload(*alerts)).status_code == 500
    receipt = WebhookDelivery.objects.latest("id")
    assert (receipt.outcome, receipt.result, receipt.error) == ("error", {}, "RuntimeError: bug in a later step")
    assert Alert.objects.get().times_seen == 1  # the delivery's UPDATE rolled back with it


def test_a_delivery_with_one_new_alert_among_repeats_is_stored_whole(hook):
    alerts = [am_alert(f"eeee{i:012d}", labels={"alertname": f"A{i}"}) for i in range(3)]
    hook.post(am_payload(*alerts[:2]))
    answer = hook.post(am_payload(*alerts)).json()
    assert (answer["outcome"], answer["alerts"]["new"], answer["alerts"]["repeated"]) == ("accepted", 1, 2)
    receipt = WebhookDelivery.objects.latest("id")
    assert (receipt.outcome, receipt.result) == ("accepted", answer)
    assert WebhookDelivery.objects.count() == 2 and Alert.objects.count() == 3


# --- PagerDuty -----------------------------------------------------------------------------------


def pd_event(realdata_dir, name: str, **changes) -> dict:
    """A real PagerDuty event file with ``changes`` applied to ``event`` (and ``data`` under ``data``)."""
    body = json.loads((realdata_dir / "pagerduty" / name).read_bytes())
    data_changes = changes.pop("data", {})
    body["event"].update(changes)
    body["event"]["data"].update(data_changes)
    return body


@pytest.fixture
def pd(make_hook, svc_a):
    return make_hook(Integration.Kind.PAGERDUTY, default_service=svc_a)


def test_pagerduty_lifecycle_in_and_out_of_order(pd, realdata_dir):
    incident_id = {"data": {"id": "PFQZPSY"}}
    assert pd.post(pd_event(realdata_dir, "v3-incident.triggered.json")).json()["outcome"] == "accepted"
    incident = Incident.objects.get()
    assert (incident.title, incident.severity, incident.alert_group_key) == ("Test Incident 3", 2, "PFQZPSY")
    assert incident.detected_at == utc(2021, 6, 4, 13, 35, 29, 781000)

    ack = pd_event(realdata_dir, "v3-incident.acknowledged.json", **incident_id)  # 13:55:30
    resolved = pd_event(realdata_dir, "v3-incident.resolved.json", occurred_at="2021-06-04T14:10:00Z", **incident_id)
    assert pd.post(resolved).json()["outcome"] == "accepted"
    late_ack = pd.post(ack).json()  # older than the resolve, arriving after it
    assert (late_ack["outcome"], late_ack["incidents"]) == ("ignored", [incident.public_id])
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at, incident.acknowledged_at) == (
        "resolved",
        utc(2021, 6, 4, 14, 10),
        None,
    )
    assert "Cannot acknowledge" in WebhookDelivery.objects.get(event_id=ack["event"]["id"]).error

    reopened = pd_event(realdata_dir, "v3-incident.acknowledged.json", id="EVREOPEN", event_type="incident.reopened")
    reopened["event"]["data"].update(id="PFQZPSY", status="triggered")
    reopened["event"]["occurred_at"] = "2021-06-04T14:20:00Z"
    pd.post(reopened)
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at) == ("triggered", None)
    assert pd.post(reopened).json()["outcome"] == "duplicate"  # dedup on event.id


def test_pagerduty_acknowledge_then_resolve(pd, realdata_dir):
    pd.post(pd_event(realdata_dir, "v3-incident.triggered.json"))
    pd.post(pd_event(realdata_dir, "v3-incident.acknowledged.json", data={"id": "PFQZPSY"}))
    pd.post(
        pd_event(realdata_dir, "v3-incident.resolved.json", occurred_at="2021-06-04T14:00:00Z", data={"id": "PFQZPSY"})
    )
    incident = Incident.objects.get()
    assert (incident.status, incident.acknowledged_at, incident.resolved_at) == (
        "resolved",
        utc(2021, 6, 4, 13, 55, 30, 394000),
        utc(2021, 6, 4, 14),
    )


def test_pagerduty_unseen_incident_is_created_from_its_data(pd, realdata_dir):
    pd.post(pd_event(realdata_dir, "v3-incident.acknowledged.json"))  # we never saw it trigger
    incident = Incident.objects.get()
    assert (incident.status, incident.alert_group_key, incident.title) == ("acknowledged", "PQ1K5C8", "Test Incident")

    pd.post(pd_event(realdata_dir, "v3-incident.escalated-priority-incident_type.json"))  # P1, also unseen
    escalated = Incident.objects.get(alert_group_key="Q3B15VLMF3ASBD")
    assert (escalated.severity, escalated.title) == (1, "Critical: Checkout API High Latency")

    note = pd.post(pd_event(realdata_dir, "v3-incident.annotated-note.json")).json()
    assert note["incidents"] == [escalated.public_id]
    assert escalated.timeline.filter(
        kind="note",
        message="PagerDuty note by Harsh Santwani: Running KILL on long-running queries from the reporting-service.",
    ).exists()
    pd.post(pd_event(realdata_dir, "v3-incident.status_update_published.json"))
    assert escalated.timeline.filter(
        kind="note", message__startswith="PagerDuty status update by Harsh Santwani:"
    ).exists()


def test_pagerduty_priority_update_sets_severity(pd, realdata_dir):
    pd.post(pd_event(realdata_dir, "v3-incident.triggered.json"))
    update = pd_event(
        realdata_dir,
        "v3-incident.escalated-priority-incident_type.json",
        id="EVPRIO",
        event_type="incident.priority_updated",
    )
    update["event"]["data"].update(id="PFQZPSY", priority={"summary": "P3", "type": "priority_reference"})
    pd.post(update)
    assert Incident.objects.get().severity == 3


def test_pagerduty_events_for_incidents_we_never_saw_stay_orphans(pd, realdata_dir, slack_on):
    before = counts()
    for name in ("v3-incident.resolved.json", "v3-incident.annotated-note.json"):
        response = pd.post(pd_event(realdata_dir, name))
        assert (response.status_code, response.json()["outcome"]) == (200, "orphan")
    assert counts() == before
    assert memory.outbox == []
    assert set(WebhookDelivery.objects.values_list("outcome", flat=True)) == {"orphan"}


def test_pagerduty_non_incident_events_are_acknowledged(pd):
    body = {
        "event": {
            "id": "EVPING",
            "event_type": "pagey.ping",
            "resource_type": "pagey",
            "occurred_at": "2024-05-01T10:00:00Z",
            "data": {},
        }
    }
    response = pd.post(body)
    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")


def test_pagerduty_naive_occurred_at_is_refused(pd, realdata_dir):
    response = pd.post(pd_event(realdata_dir, "v3-incident.triggered.json", occurred_at="2021-06-04T13:35:29"))
    assert (response.status_code, response.json()["field"]) == (400, "event.occurred_at")
    assert not Incident.objects.exists()


def test_timestamps_are_aware_utc(hook):
    hook.post(
        am_payload(am_alert("aaaa000000000001", starts="2024-10-27T00:30:00+02:00")), received=utc(2024, 10, 26, 22, 31)
    )
    hook.post(
        am_payload(
            am_alert(
                "aaaa000000000001", "resolved", starts="2024-10-27T00:30:00+02:00", ends="2024-10-27T02:30:00+01:00"
            )
        )
    )
    incident = Incident.objects.get()
    assert incident.mttr_seconds == 10_800  # BR-22 (3): across the DST end, absolute time
    assert incident.detected_at.utcoffset() == dt.timedelta(0)


def test_admin_add_shows_the_token_once_and_encrypts_the_secret(client, svc_a):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/incidents/integration/add/",
        {
            "name": "PD prod",
            "kind": "pagerduty",
            "enabled": "on",
            "default_service": svc_a.pk,
            "service_label": "service",
            "severity_label": "severity",
            "severity_map": '{"critical": 1}',
            "default_severity": 3,
            "resolve_mode": "resolve",
            "reopen_window_seconds": 600,
            "postmortem_min_duration_seconds": 300,
            "signing_secret": "whsec-123",
        },
        follow=True,
    )
    assert response.status_code == 200
    integration = Integration.objects.get()
    token = next(str(m) for m in response.context["messages"] if " token " in str(m)).split(" token ")[1].split()[0]
    assert integration.check_token(token)
    assert integration.signing_secret == "whsec-123" and "whsec-123" not in integration.signing_secret_encrypted
    page = client.get(f"/admin/incidents/integration/{integration.pk}/change/").content.decode()
    assert "whsec-123" not in page and token not in page
