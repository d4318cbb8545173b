"""Page latency under alert load: an alert webhook's commit to the page reaching Slack, vs a bare Celery round trip.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/sredesk_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/<n>
.venv/bin/python bench/page.py`` (it needs Redis: pages go through a real broker and worker; it refuses a database that
holds any key, and empties it when it ends).

It works in its own database (``<database>_page``), sets up ``bench/ingest.py``'s teams, services and alert
groups, and a probe service whose escalation policy pages one person by Slack DM at step 1. It starts, as the
Procfile does: sredesk under gunicorn (2 sync workers) and a Celery worker (``--queues default,notify
--concurrency 2``, plus ``bench.page_tasks``), with Slack pointed at ``tests.fakes.FakeSlack`` in this process.
No beat runs: step 1 is paged by the worker that announces the declared incident (``incidents.effects``).

While ``bench/ingest.py``'s load runs against the same gunicorn (its clients, its payload mix, after its warm-up
pass; its incidents and announcements keep the worker busy too), it sends, every ``--interval`` seconds, in turn:

* a **page probe**: an Alertmanager webhook with a new alert for the probe service. Timed from the moment its
  200 answer is read here (the webhook answers after its transaction commits) to the moment FakeSlack receives
  the page's direct message: commit → the ``incidents.side_effect`` task (announce, write step 1's page, send
  its Slack DM: ``oncall.escalation.incident_page_now``) → slack_sdk → FakeSlack. (Before that function, the
  DM went through a second task on the ``notify`` queue, waiting behind the load twice: ratio 3.15);
* a **ceiling probe**: ``bench.noop`` enqueued on the same broker for the same worker, timed from enqueue to the
  start of its run (one hop, nothing done).

Figures: p50 and p99 of each (``--probes`` of each, 100). Goal: page p99 ≤ 3 × the round trip's p99.
Last line: ``page: <p99 s> vs <p99 s> ratio=<page p99 / round trip p99>``.
"""

import argparse
import atexit
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

NAME = "page"
GOAL = 3.0
PROBE_SLACK_ID = "U0BENCHPROBE"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probes", type=int, default=100, help="page probes, and as many round trips (100)")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between two probes (0.25)")
    parser.add_argument("--clients", type=int, default=4, help="ingest load's client threads (4)")
    parser.add_argument("--groups", type=int, default=300, help="ingest load's alert groups (300)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-load", action="store_true", help="probe an idle sredesk (for comparison)")
    common.add_scale(parser)
    parser.add_argument("--keep-data", action="store_true", help="leave the rows in the database")
    args = parser.parse_args()
    args.worker_class = "sync"
    return args


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation (statistics' inclusive method)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def probe_set_up() -> tuple[str, str]:
    """A team, a person paged by Slack DM at step 1 of its policy, a service using it, and its own integration."""
    from incidents.models import Integration
    from oncall.models import EscalationPolicy, EscalationStep, EscalationTarget
    from ownership.models import Service, Team, User

    team = Team.objects.create(name="Paging probe", slug="paging-probe")
    person = User.objects.create(username="probe", slack_user_id=PROBE_SLACK_ID)
    policy = EscalationPolicy.objects.create(team=team, name="Probe", repeat=0)
    step = EscalationStep.objects.create(policy=policy, position=0, wait_minutes=60)
    EscalationTarget.objects.create(step=step, user=person)
    service = Service.objects.create(name="page-probe", slug="page-probe", team=team, escalation_policy=policy)
    integration = Integration(kind=Integration.Kind.ALERTMANAGER, name="Probe", default_service=service)
    token = integration.set_new_token()
    integration.save()
    return integration.webhook_path, token


def probe_payload(n: int) -> bytes:
    import json

    starts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    alert = {"status": "firing", "labels": {"alertname": f"BenchProbe{n:04d}", "service": "page-probe",
                                            "severity": "critical"},
             "annotations": {"summary": f"bench-probe-{n:04d} down"}, "startsAt": starts,
             "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": f"{n:016x}"}  # fmt: skip
    payload = {"version": "4", "status": "firing", "receiver": "sredesk", "groupKey": f"probe-{n}",
               "truncatedAlerts": 0, "groupLabels": {"alertname": f"BenchProbe{n:04d}"}, "commonLabels": {},
               "commonAnnotations": {}, "externalURL": "", "alerts": [alert]}  # fmt: skip
    return json.dumps(payload).encode()


class Worker:
    """The Celery worker, as the Procfile starts it, plus the ceiling task's module."""

    def __init__(self, logdir: Path) -> None:
        self.log_path = logdir / "worker.log"
        command = [sys.executable, "-m", "celery", "-A", "sredesk", "worker", "--queues", "default,notify",
                   "--concurrency", "2", "--include", "bench.page_tasks", "--loglevel", "WARNING",
                   "--without-gossip", "--without-mingle", "--hostname", f"bench-page-{os.getpid()}@%h"]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=common.REPO, env=dict(os.environ), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def load_forever(ingest, port, path, token, streams, stop: threading.Event, errors: list) -> None:
    """``bench/ingest.py``'s clients against sredesk until ``stop``: 5-second runs, each from where the last ended."""
    cursors = [0] * len(streams)
    try:
        first = [len(s.groups) for s in streams]
        ingest.drive(port, path, token, streams, cursors, first, seconds=3600, product=False)  # warm-up pass
        cursors = first
        while not stop.is_set():
            _, _, sent, _ = ingest.drive(port, path, token, streams, cursors, [400] * len(streams), seconds=5,
                                         product=False)  # fmt: skip
            cursors = [a + b for a, b in zip(cursors, sent, strict=True)]
            for stream in streams:
                stream.forget_before(min(cursors))
    except BaseException as exc:  # handed to the main thread
        errors.append(exc)


def main() -> None:
    args = arguments()
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        sys.exit("bench/page.py needs Redis (pages go through a real broker and worker): set CELERY_BROKER_URL="
                 "redis://127.0.0.1:6379/<an empty database of yours>; it empties it again when it ends.")  # fmt: skip
    dbname = common.bootstrap(NAME)
    os.environ["CELERY_BROKER_URL"] = broker  # bootstrap's memory:// is for benchmarks without a worker
    import redis
    from celery import Celery

    from bench import ingest
    from tests.fakes import FakeSlack

    print(f"bench/page.py: database {dbname}; {common.server_settings()}; {common.load_average()}", flush=True)
    keys = redis.Redis.from_url(broker).dbsize()
    if keys:
        sys.exit(f"bench/page.py runs a Celery worker on {broker}, which holds {keys} keys (another worker's "
                 "queues would be taken): give it an empty Redis database of its own, e.g. CELERY_BROKER_URL="
                 "redis://127.0.0.1:6379/<n>. It empties that database again when it ends.")  # fmt: skip
    path, token, groups = ingest.set_up(common.scaled(args.groups, args.scale), args.seed)
    probe_path, probe_token = probe_set_up()
    from django.db import connection

    connection.close()
    clients = max(1, min(args.clients, len(groups)))
    streams = [ingest.Stream(groups[n::clients], args.seed + n) for n in range(clients)]

    slack = FakeSlack().start()
    os.environ.update(SLACK_BOT_TOKEN="xoxb-bench", SREDESK_SLACK_API_URL=slack.url, DJANGO_DEBUG="false")
    logdir = Path(tempfile.mkdtemp(prefix="sredesk-bench-page-"))
    web = ingest.Server("sredesk", "sredesk.wsgi:application", "sredesk.settings", args, logdir)
    worker = Worker(logdir)
    stop = threading.Event()

    def stop_all() -> None:
        stop.set()
        web.stop()
        worker.stop()
        slack.stop()

    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    celery = Celery(broker=broker)
    noop_key = "sredesk:bench:noop"
    pages: dict[int, float] = {}
    try:
        web.wait_ready("/healthz")
        errors: list = []
        load = None
        if not args.no_load:
            load = threading.Thread(target=load_forever, args=(ingest, web.port, path, token, streams, stop, errors),
                                    daemon=True)  # fmt: skip
            load.start()
            time.sleep(5)  # the warm-up pass under way: the worker has incidents to announce
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=60)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {probe_token}"}
        for n in range(-3, args.probes):  # three untimed probes first: imports and connections warm
            conn.request("POST", probe_path, probe_payload(n + 3), headers)
            response = conn.getresponse()
            answer = response.read()
            committed = time.monotonic()
            if response.status != 200:
                raise RuntimeError(f"probe webhook answered {response.status}: {answer[:300]!r}")
            if response.will_close:
                conn.close()
            if n >= 0:
                pages[n + 3] = committed
            time.sleep(args.interval / 2)
            if n >= 0:
                celery.send_task("bench.noop", args=[time.time()], queue="default")
            time.sleep(args.interval / 2)
            if errors:
                raise RuntimeError(f"ingest load failed: {errors[0]}")
        arrived: dict[int, float] = {}
        deadline = time.monotonic() + 120
        while len(arrived) < len(pages) and time.monotonic() < deadline:
            for request in slack.posts(PROBE_SLACK_ID):
                for n in pages:
                    if n not in arrived and f"bench-probe-{n:04d} " in request.text:
                        arrived[n] = request.at
            time.sleep(0.2)
        stop.set()
        missing = sorted(set(pages) - set(arrived))
        if missing:
            raise RuntimeError(f"{len(missing)} pages never reached Slack (probes {missing[:10]})")
        client = redis.Redis.from_url(broker)
        while client.llen(noop_key) < args.probes and time.monotonic() < deadline:
            time.sleep(0.2)
        trips = [float(v) for v in client.lrange(noop_key, 0, -1)]
        if len(trips) < args.probes:
            raise RuntimeError(f"only {len(trips)} of {args.probes} round trips ran")
        if load is not None:
            load.join(timeout=30)
    except BaseException:
        print(f"--- web log ---\n{web.log_tail()}\n--- worker log ({worker.log_path}) ---", file=sys.stderr)
        print("\n".join(worker.log_path.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)
        raise
    finally:
        stop_all()
        if not args.keep_data:
            common.reset_database()
            redis.Redis.from_url(broker).flushdb()

    latencies = [arrived[n] - pages[n] for n in pages]
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    t50, t99 = percentile(trips, 0.5), percentile(trips, 0.99)
    ratio = p99 / t99
    load = "without load" if args.no_load else f"under bench/ingest.py's load ({clients} clients)"
    print(f"  {len(latencies)} pages {load}: p50 {1000 * p50:.0f} ms, p99 {1000 * p99:.0f} ms, max "
          f"{1000 * max(latencies):.0f} ms (webhook commit -> Slack DM)")  # fmt: skip
    print(f"  {len(trips)} bare Celery round trips: p50 {1000 * t50:.0f} ms, p99 {1000 * t99:.0f} ms (enqueue -> run)")
    print(f"  p50 ratio {p50 / t50:.2f}; goal p99 ratio <= {GOAL}; {common.load_average()}")
    sys.stderr.flush()
    print(f"page: {p99:.3f} s vs {t99:.3f} s ratio={ratio:.2f}", flush=True)


if __name__ == "__main__":
    main()
