"""FIELD-CASES BR-36: missing SLI data never reads as "100 % and healthy" (cases a-d, and the kind's siblings).

SLO ``checkout-availability`` on ``svc-a``: 99.9 %, rolling 30 days, 1-minute buckets. Figures are worked out
by hand beside each assertion.
"""

import datetime as dt

import pytest

from incidents.models import Incident, Integration
from slos.evaluate import evaluate
from slos.models import SLO, Sample, SLOState, Status
from tests.factories import IncidentFactory, ServiceFactory, SLOFactory, TeamFactory
from tests.slos.helpers import created, fill

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
DAYS_30 = 30 * 86400


@pytest.fixture
def checkout(db):
    team = TeamFactory(slug="team-x")
    service = ServiceFactory(slug="svc-a", name="Service A", team=team)
    slo = SLOFactory(service=service, slug="checkout-availability", name="Checkout availability", bucket_seconds=60)
    return created(slo, NOW - dt.timedelta(days=40))


def run(slo: SLO, django_capture_on_commit_callbacks, now=NOW) -> SLOState:
    with django_capture_on_commit_callbacks(execute=True):
        evaluate(now)
    return SLOState.objects.get(slo=slo)


def test_a_total_query_matching_nothing_is_no_data_with_an_unknown_budget(checkout, django_capture_on_commit_callbacks):
    state = run(checkout, django_capture_on_commit_callbacks)
    assert state.status == Status.NO_DATA
    assert (state.attainment, state.budget_total, state.budget_left, state.budget_left_fraction) == (None,) * 4
    assert state.coverage == 0
    assert "unknown" in state.note
    # Burn-rate rules can say nothing; only the "SLI absent" alert goes to the owning team, as an incident.
    assert all(rate is None for rate in state.burn_rates.values())
    incident = Incident.objects.get()
    assert incident.integration.kind == Integration.Kind.SLO
    assert incident.primary_service.slug == "svc-a" and incident.owning_team.slug == "team-x"
    assert incident.title.startswith("SLI absent: Checkout availability")
    assert [a.labels["rule"] for a in incident.alerts.all()] == ["absent"]


def test_b_six_missing_hours_are_not_counted_as_good(checkout, django_capture_on_commit_callbacks):
    # 30 days of 1-minute buckets but the last 6 hours: 43,200 - 360 = 42,840 buckets of 10,000 requests,
    # 0.05 % (5) errors each.
    start = NOW - dt.timedelta(days=30)
    fill(checkout, start, 42_840, total=10_000, bad=5)
    state = run(checkout, django_capture_on_commit_callbacks)
    assert state.coverage == pytest.approx(42_840 / 43_200)  # 99.17 %, "about 99.2 %"
    assert state.covered_seconds == 42_840 * 60
    assert state.total == 428_400_000
    assert state.attainment == pytest.approx(0.9995)
    assert state.budget_total == pytest.approx(428_400)  # 0.1 % of the events seen, not of 43,200 minutes
    assert state.budget_left == pytest.approx(214_200)
    assert state.budget_left_fraction == pytest.approx(0.5)
    assert state.status == Status.OK
    assert "6 h of the window have no data (coverage 99.2 %)" in state.note
    assert "not counted as good" in state.note
    # The burn windows that lie inside the gap have no burn rate (not 0); the 3-day one has data.
    assert state.burn_rates["300"] is None and state.burn_rates["21600"] is None
    assert state.burn_rates["259200"] == pytest.approx(0.5)
    # The absent-data alert fired (no bucket for 6 h > 30 min); no burn alert did.
    assert {a.labels["rule"] for a in Incident.objects.get().alerts.all()} == {"absent"}


def test_c_a_ten_minute_old_slo_is_insufficient_data_without_nan(checkout, django_capture_on_commit_callbacks):
    slo = created(checkout, NOW - dt.timedelta(minutes=10))
    fill(slo, NOW - dt.timedelta(minutes=10), 10, total=100)
    state = run(slo, django_capture_on_commit_callbacks)
    assert state.status == Status.INSUFFICIENT_DATA
    assert state.coverage == pytest.approx(600 / DAYS_30)
    # The denominator is the measured window: 1,000 events, none bad.
    assert state.attainment == 1.0
    assert state.budget_total == pytest.approx(1.0)
    assert state.budget_left_fraction == 1.0
    assert "Only 10 m of the window's elapsed 30 d have data" in state.note
    assert not Incident.objects.exists()  # fresh data: nothing is absent, nothing burns


def test_d_zero_traffic_buckets_are_covered_but_count_nothing(checkout, django_capture_on_commit_callbacks):
    start = NOW - dt.timedelta(days=30)
    fill(checkout, start, 43_200, total=0)
    state = run(checkout, django_capture_on_commit_callbacks)
    assert state.coverage == 1.0
    assert state.status == Status.NO_TRAFFIC  # never 0 % nor 100 %
    assert (state.attainment, state.budget_left_fraction) == (None, None)
    # Mixed: zero-traffic buckets add nothing to a window with traffic.
    Sample.objects.filter(slo=checkout, bucket_start__gte=NOW - dt.timedelta(days=1)).update(good=999, total=1000)
    state = run(checkout, django_capture_on_commit_callbacks)
    assert state.total == 1440 * 1000 and state.attainment == pytest.approx(0.999)
    assert state.coverage == 1.0


def test_a_burn_alert_neither_fires_nor_resolves_on_missing_data(checkout, django_capture_on_commit_callbacks):
    # One hour at 2 % errors: burn 20 over 1 h and 5 m -> page-fast fires (and the slower rules, whose windows
    # hold only this hour).
    fill(checkout, NOW - dt.timedelta(hours=1), 60, total=1000, bad=20)
    run(checkout, django_capture_on_commit_callbacks)
    incident = Incident.objects.get()
    firing = set(incident.alerts.filter(status="firing").values_list("labels__rule", flat=True))
    assert {"page-fast", "page-slow", "ticket"} <= firing
    # Then the data stops for 2 hours: the windows are empty, the alerts stay as they were.
    state = run(checkout, django_capture_on_commit_callbacks, now=NOW + dt.timedelta(hours=2))
    assert state.burn_rates["3600"] is None
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED
    assert set(incident.alerts.filter(status="firing").values_list("labels__rule", flat=True)) >= {"page-fast"}


def test_time_sli_time_before_measuring_began_is_not_counted_as_good(db):
    # An incident-time SLO measured from 10 days ago on a 30-day window: 20 days have no data.
    service = ServiceFactory()
    slo = SLOFactory(service=service, sli_kind=SLO.SLIKind.INCIDENT_TIME, measured_since=NOW - dt.timedelta(days=10))
    IncidentFactory(
        primary_service=service,
        severity=1,
        started_at=NOW - dt.timedelta(days=2),
        detected_at=NOW - dt.timedelta(days=2),
        mitigated_at=NOW - dt.timedelta(days=2) + dt.timedelta(minutes=36),
    )
    evaluate(NOW)
    state = SLOState.objects.get(slo=slo)
    assert state.coverage == pytest.approx(10 / 30)
    assert state.status == Status.INSUFFICIENT_DATA
    # Budget: 0.1 % of the 10 measured days = 864 s; 36 minutes (2,160 s) of impact spent it 2.5 times over.
    assert state.budget_total == pytest.approx(864)
    assert state.budget_left == pytest.approx(864 - 2160)
