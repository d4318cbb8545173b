"""A real Prometheus for tests (Debian's ``/usr/bin/prometheus``) and a small exporter whose counters a test drives.

``Exporter`` is a real HTTP server on 127.0.0.1 (a free port, in a thread)
serving ``/metrics`` from its own prometheus_client registry: one counter,
``checkout_requests_total{code="200"|"500"}``, advanced by a ticker thread at
the rates the test sets (``exporter.serve(good=90, bad=10)``: events per
second). ``exporter.down()`` makes every scrape fail with HTTP 503, as an
exporter that went away (Prometheus marks its series stale).

``Prometheus`` starts ``/usr/bin/prometheus`` on a free 127.0.0.1 port with a
temporary config and storage directory, scraping the exporter every second,
waits for ``/-/ready`` (it can be slow to start on a loaded machine), and is
always stopped (SIGTERM, then SIGKILL) when its ``with`` block ends. It is not
Debian's service: nothing is left running.
"""

import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from tests.fakes import free_port

PROMETHEUS = Path("/usr/bin/prometheus")
METRIC = "checkout_requests_total"
GOOD_QUERY = f'sum(increase({METRIC}{{code="200"}}[$window]))'
TOTAL_QUERY = f"sum(increase({METRIC}[$window]))"
READY_TIMEOUT_SECONDS = 60
TICK_SECONDS = 0.05


class Exporter:
    """An exporter of ``checkout_requests_total`` whose rates the test sets. Use as a context manager."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("checkout_requests", "Checkout requests by code.", ["code"], registry=self.registry)
        self._lock = threading.Lock()
        self._rates = {"200": 0.0, "500": 0.0}
        self._up = True
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self.scrapes = 0
        self.first_scrape_at: float | None = None  # time.time() of the first successful scrape

    def serve(self, *, good: float, bad: float) -> None:
        """From now on: up, ``good`` and ``bad`` events per second."""
        with self._lock:
            self._rates = {"200": float(good), "500": float(bad)}
            self._up = True

    def down(self) -> None:
        """From now on every scrape fails (HTTP 503) and the counters stand still."""
        with self._lock:
            self._up = False

    def start(self) -> "Exporter":
        for code in ("200", "500"):
            self.requests.labels(code=code)  # both series exist from the first scrape
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._threads = [
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True),
            threading.Thread(target=self._tick, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> "Exporter":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def target(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    def _tick(self) -> None:
        last = time.monotonic()
        while not self._stopping.wait(TICK_SECONDS):
            now = time.monotonic()
            with self._lock:
                if self._up:
                    for code, rate in self._rates.items():
                        if rate:
                            self.requests.labels(code=code).inc(rate * (now - last))
            last = now

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with exporter._lock:
                    up = exporter._up
                    body = generate_latest(exporter.registry) if up else b"exporter down\n"
                    exporter.scrapes += up
                    if up and exporter.first_scrape_at is None:
                        exporter.first_scrape_at = time.time()
                self.send_response(200 if up else 503)
                self.send_header("Content-Type", CONTENT_TYPE_PLAIN_0_0_4)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


class Prometheus:
    """``/usr/bin/prometheus`` scraping ``targets`` every second, on a free port. Use as a context manager."""

    def __init__(self, directory: Path, targets: list[str]) -> None:
        self.directory = directory
        self.targets = targets
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Prometheus":
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "prometheus.yml"
        targets = ", ".join(f"'{t}'" for t in self.targets)
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
            f"scrape_configs:\n  - job_name: checkout\n    static_configs:\n      - targets: [{targets}]\n"
        )
        self.port = free_port()
        log = (self.directory / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={config}",
                f"--storage.tsdb.path={self.directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one, never by name
        )
        log.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.process.returncode}: {self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"prometheus not ready after {READY_TIMEOUT_SECONDS} s: {self.log()}")

    def log(self) -> str:
        path = self.directory / "prometheus.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def __enter__(self) -> "Prometheus":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_for_scrapes(self, exporter: Exporter, count: int = 2, timeout: float = 30) -> None:
        """Until Prometheus has scraped the exporter ``count`` times more."""
        goal = exporter.scrapes + count
        deadline = time.monotonic() + timeout
        while exporter.scrapes < goal:
            if time.monotonic() > deadline:
                raise RuntimeError(f"prometheus did not scrape {exporter.target}: {self.log()}")
            time.sleep(0.05)
