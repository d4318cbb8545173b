"""The Prometheus-pulled SLI against a real Prometheus (Debian's ``/usr/bin/prometheus``) scraping a local exporter.

The exporter's counters move as the test says (``tests.e2e.prometheus``);
Prometheus scrapes them every second; the evaluation pulls 10-second buckets
over ``/api/v1/query_range`` with the SLO's own PromQL. One walk on the real
clock (about 40 s): a bucket at 10 % errors pages through alert ingestion; the
exporter goes down for a bucket (that bucket stays missing: coverage, never
good); the traffic recovers and the page resolves. Then the boundary's
failures, each a clear status and note, never good (FIELD-CASES BR-36's kind):
Prometheus down, too slow, a query it refuses, a result of several series, a
value that is NaN or infinite.

Skips without /usr/bin/prometheus; fails instead when SREDESK_REQUIRE_SERVICES=1
(CI, whose ``.ci/run`` installs Debian's ``prometheus`` package).
"""

import datetime as dt
import time

import pytest

from incidents.models import Alert, Incident
from slos.evaluate import evaluate
from slos.models import SLO, Sample, SLOState, Status
from tests.e2e.prometheus import GOOD_QUERY, METRIC, PROMETHEUS, TOTAL_QUERY, Exporter, Prometheus
from tests.factories import ServiceFactory, SLOFactory, TeamFactory
from tests.machine import service_missing

pytestmark = pytest.mark.e2e

BUCKET = 10


@pytest.fixture(scope="module")
def exporter():
    with Exporter() as running:
        yield running


@pytest.fixture(scope="module")
def prometheus(exporter, tmp_path_factory):
    """A real Prometheus scraping ``exporter`` every second, stopped after this module's tests."""
    if not PROMETHEUS.exists():
        service_missing("needs Prometheus at /usr/bin/prometheus: apt-get install prometheus")
    with Prometheus(tmp_path_factory.mktemp("prometheus"), [exporter.target]) as running:
        running.wait_for_scrapes(exporter, 2)
        yield running


@pytest.fixture
def pulling(prometheus, settings):
    """The evaluation pulls from the test's Prometheus, a bucket 1.5 s after it ends (scrapes are 1 s apart)."""
    settings.PROMETHEUS_URL = prometheus.url
    settings.PROMETHEUS_TIMEOUT_SECONDS = 10
    settings.PROMETHEUS_DELAY_SECONDS = 1.5
    return settings


def prometheus_slo(slug: str = "availability", **fields) -> SLO:
    service = ServiceFactory(slug=f"checkout-{slug}", name="Checkout", team=TeamFactory())
    values = {
        "sli_kind": SLO.SLIKind.EVENTS_PROMETHEUS,
        "good_query": GOOD_QUERY,
        "total_query": TOTAL_QUERY,
        "bucket_seconds": BUCKET,
        "target": "0.99",
        "window_days": 1,
        "min_coverage": "0",
        "alert_min_bad_events": 10,
    }
    slo = SLOFactory(service=service, slug=slug, name="Checkout availability", **(values | fields))
    slo.full_clean()
    return slo


def _at(stamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(stamp, tz=dt.UTC)


def sleep_until(instant: float) -> None:
    time.sleep(max(0.0, instant - time.time()))


def firing_rules(incident: Incident) -> set[str]:
    return set(incident.alerts.filter(status=Alert.Status.FIRING).values_list("labels__rule", flat=True))


def test_pulled_buckets_page_leave_a_gap_while_the_exporter_is_down_and_resolve(
    db, pulling, exporter, prometheus, django_capture_on_commit_callbacks
):
    slo = prometheus_slo()
    # The first whole bucket after two more scrapes: before it the counters stand still (no traffic).
    prometheus.wait_for_scrapes(exporter, 2)
    start = (int(time.time()) // BUCKET + 1) * BUCKET
    sleep_until(start)
    exporter.serve(good=90, bad=10)  # 10 % errors: burn rate 10 against a 1 % budget
    sleep_until(start + BUCKET)
    exporter.down()
    sleep_until(start + BUCKET + 1.5)
    with django_capture_on_commit_callbacks(execute=True):
        result = evaluate()

    state = SLOState.objects.get(slo=slo)
    burning = Sample.objects.get(slo=slo, bucket_start__gte=_at(start))
    assert burning.bucket_start == _at(start)
    # increase() extrapolates, the same way for both counters: the ratio is exact, the count about 1,000.
    assert burning.good / burning.total == pytest.approx(0.9, abs=1e-9)
    assert 600 <= burning.total <= 1400  # a scrape missed on a loaded machine shortens the extrapolated span
    # Earlier buckets, since the exporter's first scrapes, hold zero events: covered, adding nothing.
    assert Sample.objects.filter(slo=slo, bucket_start__lt=_at(start), total__gt=0).count() == 0
    assert state.attainment == pytest.approx(0.9, abs=1e-9)
    assert state.status == Status.EXHAUSTED  # 100 bad of 1,000 against a budget of 10
    # A 1-day window: page-fast at burn >= 0.48 (2 % of it in 1 h), page-slow at >= 0.2 (5 % in 6 h).
    assert result.fired == 2
    incident = Incident.objects.get()
    assert firing_rules(incident) == {"page-fast", "page-slow"}
    assert incident.severity == 2 and incident.primary_service == slo.service

    # Down for the whole next bucket, then back with 500,000 good requests in a bucket.
    sleep_until(start + 2 * BUCKET)
    exporter.serve(good=50_000, bad=0)
    sleep_until(start + 3 * BUCKET + 1.5)
    with django_capture_on_commit_callbacks(execute=True):
        result = evaluate()

    stored = set(Sample.objects.filter(slo=slo).values_list("bucket_start", flat=True))
    assert _at(start + BUCKET) not in stored  # the exporter was down: missing, not good
    assert _at(start + 2 * BUCKET) in stored
    recovered = Sample.objects.get(slo=slo, bucket_start=_at(start + 2 * BUCKET))
    assert recovered.good == recovered.total and recovered.total > 250_000
    state = SLOState.objects.get(slo=slo)
    assert state.covered_seconds == BUCKET * len(stored)
    assert state.total == pytest.approx(burning.total + recovered.total)
    assert state.attainment == pytest.approx((state.total - (burning.total - burning.good)) / state.total)
    assert state.status == Status.OK
    # Both page rules see about 100 bad in 500,000 (burn 0.02): they resolve, and with them the incident.
    assert result.resolved == 2
    incident.refresh_from_db()
    assert firing_rules(incident) == set()
    assert incident.status == Incident.Status.RESOLVED


# --- failures at the boundary: a clear status and note, never good -------------------------------------------


def evaluated(slo: SLO) -> SLOState:
    evaluate()
    return SLOState.objects.get(slo=slo)


def with_history(exporter: Exporter) -> None:
    """Until Prometheus holds two whole buckets of the exporter's samples."""
    sleep_until(exporter.first_scrape_at + 2 * BUCKET + 2)


def test_a_query_prometheus_refuses_is_no_data_with_its_message(db, pulling, operator_client):
    slo = prometheus_slo(good_query=f'sum(increase({METRIC}{{code="200"}}[$window])')  # a parenthesis short
    state = evaluated(slo)
    assert state.status == Status.NO_DATA and state.attainment is None and state.budget_left is None
    assert "Not pulled: Prometheus refused the query (HTTP 400, bad_data)" in state.note
    assert not Sample.objects.filter(slo=slo).exists()
    page = operator_client.get(f"/slos/{slo.pk}/").content.decode()
    assert "Prometheus refused the query" in page and "No data" in page


def test_a_query_of_several_series_is_not_summed_for_it(db, pulling, exporter):
    with_history(exporter)
    slo = prometheus_slo(total_query=f"increase({METRIC}[$window])")  # one series per status code
    state = evaluated(slo)
    assert state.status == Status.NO_DATA
    assert "the expression gives 2 series" in state.note and "sum(increase(x[$window]))" in state.note
    assert not Sample.objects.filter(slo=slo).exists()


def test_nan_and_infinite_values_leave_their_buckets_missing(db, pulling, exporter):
    with_history(exporter)
    slo = prometheus_slo(total_query=f"sum(increase({METRIC}[$window])) / 0")  # +Inf with traffic, NaN without
    state = evaluated(slo)
    assert state.status == Status.NO_DATA and state.coverage == 0
    assert "NaN or infinite" in state.note
    assert not Sample.objects.filter(slo=slo).exists()
