"""/metrics' SLO gauges: read from the stored states, absent where the data cannot tell, one query for any number."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from slos.evaluate import evaluate
from tests.factories import ServiceFactory, SLOFactory, TeamFactory
from tests.slos.helpers import created, fill

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def samples(client, name: str) -> dict[str, float]:
    """The samples of exactly ``name`` (not of names it begins), keyed by their label string."""
    found = {}
    for line in client.get("/metrics").content.decode().splitlines():
        key, _, value = line.rpartition(" ")
        if key == name or key.startswith(name + "{"):
            found[key[len(name) :]] = float(value)
    return found


def test_gauges_per_slo_from_the_stored_state(client):
    service = ServiceFactory(slug="checkout", team=TeamFactory(slug="payments"))
    slo = created(SLOFactory(service=service, slug="availability", window_days=7), NOW - dt.timedelta(days=8))
    # 7 days of 1,000 events per 5 minutes, the last hour 2 % bad: 12 buckets × 20 = 240 of 2,016 budget spent.
    fill(slo, NOW - dt.timedelta(days=7), 2004, total=1000)
    fill(slo, NOW - dt.timedelta(hours=1), 12, total=1000, bad=20)
    silent = SLOFactory(service=service, slug="silent")  # no data: BR-36
    evaluate(NOW)
    one = '{service="checkout",slo="availability",team="payments"}'
    assert samples(client, "sredesk_slo_target_ratio")[one] == 0.999
    assert samples(client, "sredesk_slo_coverage_ratio")[one] == 1.0
    assert samples(client, "sredesk_slo_attainment_ratio")[one] == pytest.approx(1 - 240 / 2_016_000)
    assert samples(client, "sredesk_slo_error_budget_remaining_ratio")[one] == pytest.approx(1 - 240 / 2016)
    events = '{service="checkout",slo="availability",team="payments",unit="events"}'
    assert samples(client, "sredesk_slo_error_budget_remaining")[events] == pytest.approx(2016 - 240)
    burn = samples(client, "sredesk_slo_burn_rate")
    assert burn['{service="checkout",slo="availability",team="payments",window="1h"}'] == pytest.approx(20.0)
    assert burn['{service="checkout",slo="availability",team="payments",window="3d"}'] == pytest.approx(20 / 72)
    status = samples(client, "sredesk_slo_status")
    assert status['{service="checkout",slo="availability",status="at_risk",team="payments"}'] == 1.0  # paging
    assert status['{service="checkout",slo="availability",status="ok",team="payments"}'] == 0.0
    # The SLO without data: a status, a coverage of 0, and no attainment, budget or burn rate (never 100 %).
    quiet = '{service="checkout",slo="silent",team="payments"}'
    assert status['{service="checkout",slo="silent",status="no_data",team="payments"}'] == 1.0
    assert samples(client, "sredesk_slo_coverage_ratio")[quiet] == 0.0
    assert quiet not in samples(client, "sredesk_slo_attainment_ratio")
    assert quiet not in samples(client, "sredesk_slo_error_budget_remaining_ratio")
    assert not [key for key in samples(client, "sredesk_slo_burn_rate") if 'slo="silent"' in key]
    assert silent.pk


def scrape_queries(client) -> int:
    client.get("/metrics")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/metrics").status_code == 200
    return len(captured.captured_queries)


def test_a_scrape_runs_as_many_queries_for_30_slos_as_for_3(client):
    def add(n):
        for _ in range(n):
            slo = created(SLOFactory(window_days=1), NOW - dt.timedelta(days=2))
            fill(slo, NOW - dt.timedelta(hours=2), 24, total=100, bad=1)
        evaluate(NOW)

    add(3)
    small = scrape_queries(client)
    add(27)
    assert scrape_queries(client) == small
    assert len(samples(client, "sredesk_slo_target_ratio")) == 30
