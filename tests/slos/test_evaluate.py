"""The evaluation: states stored idempotently, burn alerts through ingestion (fire, dedup, resolve), time SLIs
over a calendar month in a zone with DST, and a statement count that does not grow with the number of SLOs."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Alert, Incident, WebhookDelivery
from slos.evaluate import evaluate
from slos.models import SLO, BurnAlert, SLOState, Status
from tests.factories import IncidentFactory, ServiceFactory, SLOFactory, TeamFactory
from tests.slos.helpers import created, fill

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def slo(db):
    service = ServiceFactory(slug="checkout", name="Checkout", team=TeamFactory(slug="payments"))
    return created(
        SLOFactory(service=service, slug="availability", name="Checkout availability"), NOW - dt.timedelta(days=31)
    )


def firing_rules(incident: Incident) -> set[str]:
    return set(incident.alerts.filter(status=Alert.Status.FIRING).values_list("labels__rule", flat=True))


def test_a_fast_burn_pages_once_and_resolves_when_the_short_window_recovers(slo, django_capture_on_commit_callbacks):
    # 30 days clean at 1,000 requests per 5 minutes, then the last hour at 2 % errors: burn 20 >= 14.4.
    fill(slo, NOW - dt.timedelta(days=30), 8640 - 12, total=1000)
    fill(slo, NOW - dt.timedelta(hours=1), 12, total=1000, bad=20)
    with django_capture_on_commit_callbacks(execute=True):
        result = evaluate(NOW)
    incident = Incident.objects.get()
    # page-fast: 1 h holds 240 bad of 12,000 (2 %), 5 m 20 of 1,000 (2 %): burn 20 >= 14.4 -> fires.
    # page-slow: 6 h holds 240 of 72,000 (0.33 %): burn 3.3 < 6. ticket: 3 d 240 of 864,000: burn 0.28 < 1.
    assert result.fired == 1
    assert firing_rules(incident) == {"page-fast"}
    assert incident.severity == 2  # "page" maps to SEV2 on the slo integration
    assert incident.primary_service == slo.service
    assert incident.title == "Checkout availability (Checkout) burns its error budget 14.4x too fast"
    assert SLOState.objects.get(slo=slo).status == Status.AT_RISK
    # The same instant again (a second beat, a redelivered task): nothing new is sent.
    receipts = WebhookDelivery.objects.count()
    assert evaluate(NOW).fired == 0
    assert WebhookDelivery.objects.count() == receipts and Incident.objects.count() == 1
    # Still burning a minute later (the same complete buckets): nothing is sent either.
    assert evaluate(NOW + dt.timedelta(minutes=1)).fired == 0
    # Five clean minutes later the 5-minute window recovers (20 bad... none of 100,000): page-fast resolves,
    # though the hour still burns at 240 / 111,000 = 0.22 % (2.2x): the short window is what lets it resolve.
    fill(slo, NOW, 1, total=100_000)
    with django_capture_on_commit_callbacks(execute=True):
        result = evaluate(NOW + dt.timedelta(minutes=5))
    assert result.resolved == 1
    incident.refresh_from_db()
    assert firing_rules(incident) == set()
    assert incident.status == Incident.Status.RESOLVED
    assert BurnAlert.objects.get(slo=slo, rule="page-fast").firing is False
    assert SLOState.objects.get(slo=slo).status == Status.OK


def test_few_bad_events_fire_nothing(slo, django_capture_on_commit_callbacks):
    # 3 requests per bucket for the last hour, one failing: burn 333, but 12 bad events < the SLO's 50.
    slo.alert_min_bad_events = 50
    slo.save()
    fill(slo, NOW - dt.timedelta(hours=1), 12, total=3, bad=1)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate(NOW)
    assert not Alert.objects.filter(labels__alertname="SLOBurnRate").exists()


def test_pausing_an_slo_resolves_its_alerts(slo, django_capture_on_commit_callbacks):
    fill(slo, NOW - dt.timedelta(hours=1), 12, total=1000, bad=500)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate(NOW)
    assert Incident.objects.get().status == Incident.Status.TRIGGERED
    SLO.objects.filter(pk=slo.pk).update(paused=True)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate(NOW + dt.timedelta(minutes=1))
    assert Incident.objects.get().status == Incident.Status.RESOLVED
    assert SLOState.objects.get(slo=slo).status == Status.PAUSED


def test_time_sli_over_a_calendar_month_in_berlin(db):
    # March 2026 in Europe/Berlin: 2026-02-28T23:00Z to 2026-03-31T22:00Z, 743 h. Evaluated 2026-03-16T00:00Z.
    service = ServiceFactory()
    slo = SLOFactory(
        service=service,
        sli_kind=SLO.SLIKind.INCIDENT_TIME,
        window_kind=SLO.WindowKind.CALENDAR_MONTH,
        timezone="Europe/Berlin",
        measured_since=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        min_severity=2,
    )
    at = dt.datetime.fromisoformat
    # 22:30Z-23:30Z on 28 Feb: its second half (00:00-00:30 local on 1 March) is in the month.
    IncidentFactory(
        primary_service=service,
        severity=1,
        started_at=at("2026-02-28T22:30:00+00:00"),
        detected_at=at("2026-02-28T22:30:00+00:00"),
        mitigated_at=at("2026-02-28T23:30:00+00:00"),
    )
    # 10 minutes on an affected (not primary) service's incident.
    other = IncidentFactory(
        severity=2,
        started_at=at("2026-03-10T10:00:00+00:00"),
        detected_at=at("2026-03-10T10:00:00+00:00"),
        mitigated_at=at("2026-03-10T10:10:00+00:00"),
    )
    other.services.add(service)
    # Overlapping it, 5 minutes that count once. A SEV3 does not count at all.
    IncidentFactory(
        primary_service=service,
        severity=2,
        started_at=at("2026-03-10T10:05:00+00:00"),
        detected_at=at("2026-03-10T10:05:00+00:00"),
        mitigated_at=at("2026-03-10T10:10:00+00:00"),
    )
    IncidentFactory(
        primary_service=service,
        severity=3,
        started_at=at("2026-03-12T10:00:00+00:00"),
        detected_at=at("2026-03-12T10:00:00+00:00"),
        mitigated_at=at("2026-03-12T12:00:00+00:00"),
    )
    evaluate(at("2026-03-16T00:00:00+00:00"))
    state = SLOState.objects.get(slo=slo)
    assert (state.window_start, state.window_end) == (at("2026-02-28T23:00:00+00:00"), at("2026-03-31T22:00:00+00:00"))
    assert state.elapsed_seconds == 15 * 86400 + 3600  # 1,299,600 s
    assert state.total - state.good == 1800 + 600  # 30 min + 10 min of impact
    assert state.budget_total == pytest.approx(2674.8)  # 0.1 % of 743 h
    assert state.budget_left == pytest.approx(274.8)
    assert state.budget_left_fraction == pytest.approx(274.8 / 2674.8)
    assert state.status == Status.AT_RISK


def test_statements_do_not_grow_with_the_number_of_slos(db):
    def count(n: int) -> int:
        SLO.objects.all().delete()
        for _ in range(n):
            fresh = SLOFactory()
            fill(fresh, NOW - dt.timedelta(hours=2), 24, total=100)
            SLOFactory(sli_kind=SLO.SLIKind.INCIDENT_TIME)
        evaluate(NOW)  # the alert integration and rows exist after the first run
        with CaptureQueriesContext(connection) as queries:
            evaluate(NOW)
        return len(queries)

    assert count(2) == count(12)
    assert SLOState.objects.count() == 24


def test_the_slo_integration_takes_no_webhook_deliveries(slo, client, django_capture_on_commit_callbacks):
    fill(slo, NOW - dt.timedelta(hours=1), 12, total=1000, bad=500)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate(NOW)
    integration = Incident.objects.get().integration
    token = integration.set_new_token()
    integration.save()
    response = client.post(
        integration.webhook_path, data=b"{}", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 404
    assert response.json()["error"] == "this integration takes no webhook deliveries"


def test_the_evaluation_is_a_beat_entry(slo, settings):
    """Beat sends, every minute, a task the worker has registered under the entry's name, and that task evaluates."""
    from sredesk.celery import app

    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks
    entry = settings.CELERY_BEAT_SCHEDULE["slos-evaluate"]
    assert entry["schedule"].run_every == dt.timedelta(seconds=60)
    assert entry["options"]["expires"] == settings.SREDESK_SLO_EVALUATE_SECONDS  # a stale tick is dropped, not piled up
    assert app.tasks[entry["task"]].apply().get() == {"evaluated": 1, "fired": 1, "resolved": 0}  # SLI absent
    assert SLOState.objects.get(slo=slo).status == Status.NO_DATA
