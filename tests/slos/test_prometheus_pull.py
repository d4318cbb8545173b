"""Pulling a Prometheus SLI when Prometheus is not there: down, too slow, or a proxy's page instead of its JSON.

Each leaves the buckets missing (never good), a clear status and a note that
says why; one Prometheus that does not answer costs one timeout per
evaluation, not one per SLO. (A real Prometheus, its refusals, several
series and NaN: ``tests/e2e/test_prometheus_sli.py``.)
"""

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from slos.evaluate import evaluate
from slos.models import SLO, Sample, SLOState, Status
from tests.factories import SLOFactory
from tests.fakes import closed_port_url
from tests.slos.helpers import created, fill

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
GOOD = 'sum(increase(http_requests_total{code!~"5.."}[$window]))'
TOTAL = "sum(increase(http_requests_total[$window]))"

pytestmark = pytest.mark.django_db


class StandIn:
    """A local HTTP server in place of Prometheus: holds each request ``hold`` seconds, then answers ``reply``."""

    def __init__(self, *, hold: float = 0.0, status: int = 200, reply: bytes = b"") -> None:
        self.requests = 0
        self.stopping = threading.Event()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                stand_in.requests += 1
                if stand_in.stopping.wait(hold):
                    return
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "StandIn":
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def pulled_slo(slug: str) -> SLO:
    slo = SLOFactory(slug=slug, sli_kind=SLO.SLIKind.EVENTS_PROMETHEUS, good_query=GOOD, total_query=TOTAL)
    slo.full_clean()
    return created(slo, NOW - dt.timedelta(days=40))


def test_prometheus_down_is_no_data_and_says_so(settings):
    settings.PROMETHEUS_URL = closed_port_url().removesuffix("/api/")
    slo = pulled_slo("checkout")
    evaluate(NOW)
    state = SLOState.objects.get(slo=slo)
    assert state.status == Status.NO_DATA and state.attainment is None and state.budget_left_fraction is None
    assert state.note.startswith(f"Not pulled: Prometheus at {settings.PROMETHEUS_URL} did not answer")
    assert "Connection refused" in state.note
    assert not Sample.objects.exists()


def test_no_prometheus_url_is_no_data_and_says_so(settings):
    settings.PROMETHEUS_URL = ""
    slo = pulled_slo("checkout")
    evaluate(NOW)
    state = SLOState.objects.get(slo=slo)
    assert state.status == Status.NO_DATA
    assert state.note.startswith("Not pulled: PROMETHEUS_URL is not set.")


def test_a_slow_prometheus_costs_one_timeout_and_its_buckets_stay_missing(settings):
    # Half the window was pulled before; Prometheus now takes longer than the timeout.
    settings.PROMETHEUS_TIMEOUT_SECONDS = 0.3
    first, second = pulled_slo("checkout"), pulled_slo("search")
    fill(first, NOW - dt.timedelta(days=30), 4320, total=100)
    with StandIn(hold=30) as prometheus:
        settings.PROMETHEUS_URL = prometheus.url
        evaluate(NOW)
        assert prometheus.requests == 1  # the second SLO is not asked: one outage, one timeout
    state = SLOState.objects.get(slo=first)
    # What was pulled still counts, the rest of the window is missing: coverage 50 %, not a perfect 100 %.
    assert state.coverage == pytest.approx(0.5)
    assert state.attainment == 1.0 and state.status == Status.OK
    assert "timed out" in state.note and "coverage 50.0 %" in state.note
    assert SLOState.objects.get(slo=second).status == Status.NO_DATA
    assert "timed out" in SLOState.objects.get(slo=second).note
    assert Sample.objects.count() == 4320


def test_a_proxy_page_instead_of_prometheus_json_is_an_error_not_data(settings):
    slo = pulled_slo("checkout")
    with StandIn(status=502, reply=b"<html><body>502 Bad Gateway</body></html>") as proxy:
        settings.PROMETHEUS_URL = proxy.url
        evaluate(NOW)
    state = SLOState.objects.get(slo=slo)
    assert state.status == Status.NO_DATA
    assert state.note.startswith("Not pulled: Prometheus answered HTTP 502 without its JSON.")
