"""Every input shape, from the self-made samples in tests/samples/: each parser path runs in a fresh clone.

The real payloads (``SREDESK_REALDATA_DIR``) stay outside the repository, so
without them a clone used to skip every parser test. These samples are ours
(tests/samples/README.md); each goes through its parser, then through its door.
"""

import json
from pathlib import Path

import pytest
from django.urls import reverse

from incidents.alert_formats.alertmanager import parse_alertmanager
from incidents.alert_formats.generic import parse_generic
from incidents.alert_formats.grafana import parse_grafana
from incidents.alert_formats.pagerduty import parse_pagerduty
from incidents.models import Alert, Incident, Integration
from postmortems.junit import parse_junit
from postmortems.junit.producers import PRODUCERS
from postmortems.models import TestResult, TestRunFile
from sredesk.tokens import new_token
from tests.factories import RepositoryFactory, ServiceFactory
from tests.incidents.payloads import Hook

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


# producer -> [(canonical id, outcome, flaky)] in report order
JUNIT = {
    "pytest": [
        ("tests/test_refunds.py::test_partial_refund[eur]", "passed", False),
        ("tests/test_refunds.py::TestFees::test_fee_is_kept_on_partial_refund", "failed", False),
        ("tests/test_refunds.py::test_refund_needs_network", "skipped", False),
        ("tests/test_refunds.py::test_refund_is_idempotent", "passed", False),
    ],
    "jest": [
        ("src/RefundBanner.test.tsx::refund banner shows the refunded amount", "passed", False),
        ("src/RefundBanner.test.tsx::refund banner hides itself after a full refund", "failed", False),
        ("src/fees.test.ts::fees › rounding rounds half to even", "passed", False),
    ],
    "go": [
        ("shop.example/payments/refunds::TestRefund/partial", "passed", False),
        ("shop.example/payments/refunds::TestRefund/over_the_original_amount", "failed", False),
        ("shop.example/payments/refunds::TestLedgerBalances", "passed", False),
    ],
    "surefire": [
        ("com.shop.payments.RefundServiceTest::refundsPartially", "passed", False),
        ("com.shop.payments.RefundServiceTest::retriesTheGatewayOnTimeout", "passed", True),  # <flakyFailure>
        ("com.shop.payments.RefundServiceTest::refusesANegativeAmount", "passed", False),
    ],
    "gradle": [
        ("com.shop.ledger.LedgerTest::balances after a refund", "passed", False),  # "()" dropped, spaces kept
        ("com.shop.ledger.LedgerTest::closesTheMonth", "skipped", False),
    ],
    "testng": [
        ("com.shop.payouts.PayoutTest::paysOutOnFriday", "passed", False),
        ("com.shop.payouts.PayoutTest::holdsPayoutDuringDispute", "passed", True),  # a retry after its skip marker
    ],
    "phpunit": [
        ("Tests.Refund.RefundCalculatorTest::testPartialRefundKeepsTheFee", "passed", False),
        ("Tests.Refund.RefundCalculatorTest::testRefundOfAGiftCard", "failed", False),
    ],
    "mocha": [
        ("refunds::refunds computes the fee", "passed", False),
        ("refunds::refunds rejects a refund after 90 days", "passed", False),
    ],
}


def test_every_producer_and_every_alert_sender_has_a_sample():
    assert set(JUNIT) == set(PRODUCERS) - {"unknown"}
    assert {path.stem for path in (SAMPLES / "junit").glob("*.xml")} == set(JUNIT)
    senders = {path.name for path in SAMPLES.iterdir() if path.is_dir()} - {"junit"}
    # SLO burn alerts are made by sredesk itself (tests/slos covers them); every webhook sender has a sample.
    assert senders == set(Integration.Kind.values) - {Integration.Kind.SLO}


@pytest.mark.parametrize("producer", sorted(JUNIT))
def test_each_junit_sample_is_read_as_its_producer_with_canonical_ids(producer):
    report = parse_junit(sample(f"junit/{producer}.xml"), filename=f"{producer}.xml")

    assert report.producer == producer  # detected from the content, not the file name
    assert [(r.test_id, r.outcome, r.flaky) for r in report.results] == JUNIT[producer]


def test_the_pytest_sample_carries_an_incident_property():
    [linked] = [r for r in parse_junit(sample("junit/pytest.xml")).results if r.properties]
    assert linked.properties == {"incident": "INC-7"}


def test_alert_samples_parse_into_their_alerts():
    am = parse_alertmanager(json.loads(sample("alertmanager/v4-firing-and-resolved.json")))
    grafana = parse_grafana(json.loads(sample("grafana/unified-v11-firing.json")))
    grafana_test = parse_grafana(json.loads(sample("grafana/unified-test-notification.json")))
    legacy = parse_grafana(json.loads(sample("grafana/legacy-dashboard-alert.json")))
    generic = parse_generic(json.loads(sample("generic/two-alerts-one-group.json")))

    assert [(a.fingerprint, a.status, a.labels["instance"]) for a in am.alerts] == [
        ("3f9a2c1d8e7b6a50", "firing", "pay-1:9100"),
        ("7c41d09e2b3a5f68", "resolved", "pay-2:9100"),
    ]
    assert am.alerts[0].ends_at is None  # Alertmanager's zero time
    assert am.alerts[1].starts_at.isoformat() == "2024-03-11T07:14:03+00:00"  # an offset, kept as UTC
    assert (grafana.group_key, grafana.is_test, grafana.alerts[0].annotations["summary"]) == (
        '{}:{alertname="RefundQueueBacklog"}',
        False,
        "1,840 refunds waiting",
    )
    assert grafana_test.is_test
    assert (legacy.group_key, legacy.alerts[0].labels["alertname"], legacy.alerts[0].starts_at) == (
        "grafana-legacy-rule:41",
        "Database disk above 95%",
        None,
    )
    assert "disk used %=97.5" in legacy.alerts[0].annotations["eval_matches"]
    assert generic.group_key == "nightly-export"
    assert (generic.alerts[0].fingerprint, generic.alerts[0].status) == ("export-orders", "firing")
    assert generic.alerts[1].status == "resolved" and generic.alerts[1].ends_at is not None


def test_pagerduty_samples_parse_into_incident_events_and_skip_the_rest():
    triggered = parse_pagerduty(json.loads(sample("pagerduty/v3-incident-triggered.json")))
    note = parse_pagerduty(json.loads(sample("pagerduty/v3-incident-annotated.json")))

    assert (triggered.incident_id, triggered.incident_number, triggered.priority, triggered.status) == (
        "Q0SHOPREFUND1",
        318,
        "P1",
        "triggered",
    )
    assert (note.incident_id, note.note, note.agent_name) == (
        "Q0SHOPREFUND1",
        "Restarted the worker; the queue is draining.",
        "Robin Ferreira",
    )
    assert parse_pagerduty(json.loads(sample("pagerduty/v3-service-updated.json"))) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "name", "incidents"),
    [
        ("alertmanager", "alertmanager/v4-firing-and-resolved.json", 1),
        ("grafana", "grafana/unified-v11-firing.json", 1),
        ("grafana", "grafana/unified-test-notification.json", 0),  # the "Test" button opens nothing
        ("grafana", "grafana/legacy-dashboard-alert.json", 1),
        ("generic", "generic/two-alerts-one-group.json", 1),
        ("pagerduty", "pagerduty/v3-incident-triggered.json", 1),
    ],
)
def test_each_alert_sample_goes_through_its_webhook(client, django_capture_on_commit_callbacks, kind, name, incidents):
    service = ServiceFactory(slug="payments-api")
    integration = Integration(kind=kind, name=f"{kind} samples", default_service=service)
    token = integration.set_new_token()
    integration.save()
    hook = Hook(client, django_capture_on_commit_callbacks, integration, token)

    first = hook.post(sample(name))
    replay = hook.post(sample(name))

    assert first.status_code in (200, 202), first.content
    assert replay.status_code in (200, 202)
    assert Incident.objects.count() == incidents  # a replay changes nothing
    if incidents and kind != "pagerduty":
        assert Alert.objects.filter(incident__primary_service=service).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("producer", sorted(JUNIT))
def test_each_junit_sample_goes_through_the_ci_upload(client, producer):
    repository = RepositoryFactory(name="shop/payments")
    token, repository.ci_token_hash = new_token("sdci")
    repository.save(update_fields=["ci_token_hash"])

    response = client.post(
        reverse("ci:junit_upload") + f"?branch=main&commit=abc{producer}&filename={producer}.xml",
        sample(f"junit/{producer}.xml"),
        content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 201, response.content
    assert TestRunFile.objects.get().producer == producer
    stored = list(TestResult.objects.order_by("id").values_list("test_id", "outcome", "flaky"))
    assert stored == JUNIT[producer]
