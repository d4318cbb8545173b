"""Alert ingestion throughput: sredesk's webhook behind gunicorn vs a one-upsert-per-alert FLOOR, in one run.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/sredesk_bench .venv/bin/python bench/ingest.py``

It works in its own database (``<database>_ingest``, see ``bench/common.py``),
creates an Alertmanager integration (its token known here), two teams and a
few services with a paged person, and the floor's table. It then starts two
gunicorns on free loopback ports, each with 2 sync workers (as the Procfile),
DJANGO_DEBUG off, CONN_MAX_AGE on, their logs in a temporary file: sredesk (``sredesk.wsgi``) and the floor
(``bench/floor_app.py``: parse the body, one ``INSERT ... ON CONFLICT DO
NOTHING`` per alert, one transaction). Both are stopped on exit, whatever happens.

The load is Alertmanager v4 payloads shaped after the real ones in
``$SREDESK_REALDATA_DIR/alertmanager/`` (default ``../shared/realdata``; read,
never copied): a few hundred groups, two thirds of them of 1 alert and one
third of 20, each notification carrying the whole group as Alertmanager does.
Each alert that is firing resolves with probability 0.1 per notification and
fires again (new ``startsAt``) in the next one, so in steady state about 82% of
the alerts sent are repeats, 9% resolutions and 9% new firings (incidents
resolve, re-open, escalate). A few client threads (one group belongs to one
client, as Alertmanager notifies one group at a time) send them over
keep-alive HTTP/1.1 connections (``http.client``; a server that closes after
each response, as gunicorn's sync worker does, is reconnected to).
Both servers receive the same sequence of payloads (generated ahead, untimed;
each server has its own position in it). Warm-up, untimed and identical for
both: one notification of every group (sredesk declares its incidents), then
``--warmup-passes`` more of every group, so the timed runs see the steady mix;
then ``VACUUM ANALYZE`` of the tables written, as autovacuum would leave a
long-lived database. Then timed runs of ``--seconds`` each (at most
``--max-requests`` payloads per client), alternating sredesk / floor
``--repeat`` times; the medians count. Any answer other than 200 fails the run,
and the receipts sredesk kept are counted against the payloads it answered.

Figure: alerts per second (alerts in answered payloads / wall time). Also
printed: the CPU time per alert of each server's workers and of their
PostgreSQL backends (``/proc``, backends found by ``application_name``), a
figure the machine's other load disturbs less than the rates.
Goal: sredesk >= 0.5 x the floor. Last line:
``ingest: <alerts/s> alerts/s vs <floor alerts/s> alerts/s ratio=<sredesk/floor>``.
"""

import argparse
import atexit
import json
import os
import random
import signal
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, load
from bench.load import Failure, Server

NAME = "ingest"
REPO = common.REPO
GOAL = 0.5
SIDES = ("sredesk", "floor")
ANALYZED_TABLES = (
    "incidents_alert",
    "incidents_incident",
    "incidents_incident_services",
    "incidents_timelineevent",
    "incidents_webhookdelivery",
    "notifications_notification",
    "bench_floor_alert",
)
SERVICES = [
    ("checkout", "payments"),
    ("payments", "payments"),
    ("search", "discovery"),
    ("catalog", "discovery"),
    ("api-gateway", "discovery"),
]
RESOLVE_PROBABILITY = 0.1
GROUP_SIZES = (1, 1, 20)  # two groups of 1 alert for every group of 20
ZERO_TIME = "0001-01-01T00:00:00Z"
USER_AGENT = "Alertmanager/0.27.0"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side; the median counts (3)")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of one timed run (8)")
    parser.add_argument(
        "--warmup-passes", type=int, default=2, help="notifications of every group sent before timing (2)"
    )
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads (4)")
    parser.add_argument("--groups", type=int, default=300, help="distinct alert groups (300)")
    parser.add_argument("--max-requests", type=int, default=4000, help="per client and timed run (4000)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server (2)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class, as the Procfile (sync)")
    parser.add_argument("--seed", type=int, default=1)
    common.add_scale(parser)
    parser.add_argument(
        "--keep-data", action="store_true", help="leave the generated rows in the database for inspection"
    )
    return parser.parse_args()


# --- payloads -------------------------------------------------------------------------------------


def realdata_dir() -> Path:
    configured = os.environ.get("SREDESK_REALDATA_DIR", "")
    base = Path(configured) if configured else REPO / ".." / "shared" / "realdata"
    folder = (base / "alertmanager").resolve()
    if not any(folder.glob("*.json")):
        sys.exit(f"bench/ingest.py builds its payloads from real Alertmanager ones and found none in {folder}.")
    return folder


def real_shapes(folder: Path) -> tuple[list[dict], list[dict]]:
    """(envelopes, alerts) of the real Alertmanager payloads: what the generated ones are modelled on."""
    envelopes, alerts = [], []
    for file in sorted(folder.glob("*.json")):
        payload = json.loads(file.read_text())
        envelopes.append(payload)
        alerts += [a for a in payload.get("alerts", []) if isinstance(a.get("labels"), dict)]
    return envelopes, alerts


def rfc3339(at: datetime) -> str:
    """Go's time.Time JSON: nanoseconds and Z, as Alertmanager sends."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "417Z"


class Group:
    """One Alertmanager aggregation group: its envelope and its alerts' state (firing since, or not firing)."""

    def __init__(self, index: int, size: int, envelope: dict, templates: list[dict], service: str) -> None:
        first = templates[index % len(templates)]
        alertname = first["labels"].get("alertname", "BenchAlert")
        cluster = f"prod-{index:03d}"
        group_labels = {"alertname": alertname, "cluster": cluster}
        self.key = '{}/{severity=~"^(?:critical|warning|info)$"}:' + (
            "{" + ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(group_labels.items())) + "}"
        )
        self.envelope = {
            "receiver": envelope.get("receiver") or "sredesk",
            "externalURL": envelope.get("externalURL") or "http://alertmanager:9093",
            "groupLabels": group_labels,
        }
        self.alerts = []
        for slot in range(size):
            template = templates[(index + slot) % len(templates)]
            labels = {k: str(v) for k, v in template["labels"].items()}
            labels.update(alertname=alertname, cluster=cluster, service=service, instance=f"10.{index}.0.{slot}:9100")
            labels.setdefault("severity", first["labels"].get("severity", "warning"))
            self.alerts.append(
                {
                    "labels": labels,
                    "annotations": {k: str(v) for k, v in template.get("annotations", {}).items()},
                    "generatorURL": template.get("generatorURL", ""),
                    "fingerprint": fingerprint_for(labels),
                    "since": None,  # startsAt while firing, None when not firing
                }
            )
        self.common = {
            k: v for k, v in self.alerts[0]["labels"].items() if all(a["labels"].get(k) == v for a in self.alerts)
        }

    def notification(self, now: datetime, rng: random.Random, mix: Counter) -> tuple[bytes, int]:
        """The next webhook body for this group (the whole group, each alert by its own status)."""
        alerts = []
        for alert in self.alerts:
            if alert["since"] is None:  # not firing: it fires (again), a new alert
                alert["since"] = rfc3339(now)
                kind, status, ends = "new", "firing", ZERO_TIME
            elif rng.random() < RESOLVE_PROBABILITY:
                kind, status, ends = "resolved", "resolved", rfc3339(now)
            else:
                kind, status, ends = "repeat", "firing", ZERO_TIME
            mix[kind] += 1
            alerts.append(
                {
                    "status": status,
                    "labels": alert["labels"],
                    "annotations": alert["annotations"],
                    "startsAt": alert["since"],
                    "endsAt": ends,
                    "generatorURL": alert["generatorURL"],
                    "fingerprint": alert["fingerprint"],
                }
            )
            if status == "resolved":
                alert["since"] = None  # it fires again (a new alert) in the group's next notification
        payload = {
            "receiver": self.envelope["receiver"],
            "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
            "alerts": alerts,
            "groupLabels": self.envelope["groupLabels"],
            "commonLabels": self.common,
            "commonAnnotations": {},
            "externalURL": self.envelope["externalURL"],
            "version": "4",
            "groupKey": self.key,
            "truncatedAlerts": 0,
        }
        return json.dumps(payload).encode(), len(alerts)


def fingerprint_for(labels: dict) -> str:
    from incidents.alert_formats.common import fingerprint_for as product_fingerprint  # Alertmanager's own algorithm

    return product_fingerprint(labels)


class Stream:
    """One client's sequence of payloads, the same for both servers: generated ahead, untimed, and shared."""

    def __init__(self, groups: list[Group], seed: int) -> None:
        self.groups = groups
        self.rng = random.Random(seed)
        self.clock = datetime.now(UTC) - timedelta(hours=1)
        self.items: list[tuple[bytes, int] | None] = []
        self.mixes: list[Counter] = []  # per payload: how many of its alerts are new, repeats, resolutions
        self.order: list[Group] = []
        self.forgotten = 0

    def ensure(self, upto: int) -> None:
        while len(self.items) < upto:
            if not self.order:
                self.order = self.groups[:]
                self.rng.shuffle(self.order)
            self.clock += timedelta(milliseconds=10)
            mix: Counter = Counter()
            self.items.append(self.order.pop().notification(self.clock, self.rng, mix))
            self.mixes.append(mix)

    def mix_of(self, start: int, end: int) -> Counter:
        return sum(self.mixes[start:end], Counter())

    def forget_before(self, index: int) -> None:
        """Free the payloads both sides have sent."""
        for i in range(self.forgotten, index):
            self.items[i] = None
        self.forgotten = max(self.forgotten, index)


# --- load ---------------------------------------------------------------------------------------


def drive(
    port: int, path: str, token: str, streams: list[Stream], starts: list[int], caps: list[int], *, seconds, product
):
    """From ``starts[n]``, send stream n's next payloads (one client thread each) until ``seconds`` or ``caps[n]`` sent.

    Returns (wall seconds, alerts answered, payloads sent per client, outcome counts of sredesk's answers).
    """
    for stream, start, cap in zip(streams, starts, caps, strict=True):
        stream.ensure(start + cap)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", "User-Agent": USER_AGENT}
    alerts = [0] * len(streams)
    outcomes = [Counter() for _ in streams]

    def request_for(n: int, i: int) -> load.Request:
        return (path, streams[n].items[starts[n] + i][0], headers) if i < caps[n] else None

    def answered(n: int, i: int, answer: bytes) -> None:
        alerts[n] += streams[n].items[starts[n] + i][1]
        if product:
            outcomes[n].update({k: v for k, v in json.loads(answer)["alerts"].items() if v})

    elapsed, runs = load.drive(port, len(streams), seconds, request_for, answered=answered)
    return elapsed, sum(alerts), [run.sent for run in runs], sum(outcomes, Counter())


class Sides:
    """sredesk and the floor, each with its cursor in the same payload streams (see ``Stream``)."""

    def __init__(self, product: Server, floor: Server, path: str, token: str, streams: list[Stream]) -> None:
        self.servers = {"sredesk": product, "floor": floor}
        self.path, self.token, self.streams = path, token, streams
        self.cursors = {side: [0] * len(streams) for side in self.servers}
        self.outcomes: Counter = Counter()  # sredesk's answers in timed runs
        self.mix: dict[str, Counter] = {side: Counter() for side in self.servers}  # what each side was sent, timed
        self.cpu: dict[str, tuple[float, float, int]] = {}  # last run: (workers' CPU s, backends' CPU s, alerts)

    def run(self, side: str, *, seconds: float, caps: list[int], timed: bool = True) -> tuple[float, int, int]:
        """Send ``side`` its next payloads for ``seconds`` or ``caps[n]`` per client: (seconds, alerts, payloads)."""
        start = self.cursors[side]
        self.cpu.pop(side, None)
        cpu_before = self.servers[side].cpu_snapshot()
        elapsed, alerts, sent, outcomes = drive(
            self.servers[side].port,
            self.path,
            self.token,
            self.streams,
            start,
            caps,
            seconds=seconds,
            product=side == "sredesk",
        )
        used = load.cpu_used(cpu_before, self.servers[side].cpu_snapshot())
        if used is not None:
            self.cpu[side] = (*used, alerts)
        if timed:
            self.outcomes += outcomes
            for stream, first, count in zip(self.streams, start, sent, strict=True):
                self.mix[side] += stream.mix_of(first, first + count)
        self.cursors[side] = [a + b for a, b in zip(start, sent, strict=True)]
        low = min(min(cursor) for cursor in self.cursors.values())
        for stream in self.streams:
            stream.forget_before(low)
        return elapsed, alerts, sum(sent)


# --- set-up ---------------------------------------------------------------------------------------


def set_up(groups_count: int, seed: int) -> tuple[str, str, list[Group]]:
    """Empty the database, create teams, services, their paged people, the integration and the floor's table."""
    from django.db import connection

    from bench.floor_app import CREATE_TABLE, TABLE
    from incidents.models import Integration
    from ownership.models import Responsibility, Service, Team, User

    common.reset_database()
    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
        cursor.execute(f"TRUNCATE {TABLE}")
    teams = {}
    services = []
    for slug, team_slug in SERVICES:
        if team_slug not in teams:
            teams[team_slug] = Team.objects.create(name=team_slug.title(), slug=team_slug)
        service = Service.objects.create(name=slug, slug=slug, team=teams[team_slug])
        person = User.objects.create(username=f"oncall-{slug}", email=f"oncall-{slug}@example.com")
        Responsibility.objects.create(service=service, role=Responsibility.Role.PAGED, user=person)
        services.append(service)
    integration = Integration(
        kind=Integration.Kind.ALERTMANAGER, name="Bench Alertmanager", default_service=services[0]
    )
    token = integration.set_new_token()
    integration.save()

    envelopes, templates = real_shapes(realdata_dir())
    rng = random.Random(seed)
    groups = [
        Group(i, GROUP_SIZES[i % len(GROUP_SIZES)], envelopes[i % len(envelopes)], templates, rng.choice(SERVICES)[0])
        for i in range(groups_count)
    ]
    connection.close()  # the servers do the work from here on
    return integration.webhook_path, token, groups


def check_product(requests: int) -> str:
    """What sredesk stored, to be sure it did the work it answered for."""
    from django.db import connection

    from incidents.models import Alert, Incident, TimelineEvent, WebhookDelivery

    receipts = WebhookDelivery.objects.count()
    errors = WebhookDelivery.objects.exclude(outcome__in=["accepted", "duplicate"]).count()
    if receipts != requests:
        raise Failure(f"sredesk answered {requests} deliveries but kept {receipts} receipts")
    line = (
        f"  sredesk kept {receipts} receipts ({errors} not accepted/duplicate), {Alert.objects.count()} alerts, "
        f"{Incident.objects.count()} incidents, {TimelineEvent.objects.count()} timeline events"
    )
    connection.close()
    return line


def percentages(counts: Counter) -> str:
    total = sum(counts.values()) or 1
    return ", ".join(f"{k} {v} ({100 * v / total:.0f}%)" for k, v in counts.most_common())


def main() -> None:
    args = arguments()
    dbname = common.bootstrap(NAME)
    print(f"bench/ingest.py: database {dbname}; {common.server_settings()}; {common.load_average()}", flush=True)
    path, token, groups = set_up(common.scaled(args.groups, args.scale), args.seed)
    from django.utils.translation import ngettext  # Django is set up by now (common.bootstrap)

    clients = max(1, min(args.clients, len(groups)))
    streams = [Stream(groups[n::clients], args.seed + n) for n in range(clients)]
    sizes = Counter(len(g.alerts) for g in groups)
    shapes = ", ".join(f"{n} of {size} {ngettext('alert', 'alerts', size)}" for size, n in sorted(sizes.items()))
    print(
        f"  {len(groups)} groups ({shapes}), "
        f"{clients} client threads, gunicorn {args.workers} {args.worker_class} workers per server",
        flush=True,
    )

    servers: list[Server] = []

    def stop_servers() -> None:
        for server in servers:
            server.stop()

    atexit.register(stop_servers)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logdir = Path(tempfile.mkdtemp(prefix="sredesk-bench-ingest-"))
    try:
        product = Server("sredesk", "sredesk.wsgi:application", "sredesk.settings", args, logdir)
        servers.append(product)
        floor = Server("floor", "bench.floor_app:application", "bench.floor_app", args, logdir)
        servers.append(floor)
        product.wait_ready("/healthz")
        floor.wait_ready("/")
        sides = Sides(product, floor, path, token, streams)
        rates: dict[str, list[float]] = {"sredesk": [], "floor": []}
        cpu_per_alert: dict[str, list[float]] = {"sredesk": [], "floor": []}
        caps = {}

        # Warm-up, untimed, the same payloads to both: every group's first notification (sredesk declares
        # its incidents), then --warmup-passes more notifications of every group, so that the timed runs
        # see the steady mix.
        first = [len(stream.groups) for stream in streams]
        for label, counts in (
            ("first notifications", first),
            (f"{args.warmup_passes} more passes", [n * args.warmup_passes for n in first]),
        ):
            done = {side: sides.run(side, seconds=3600, caps=counts, timed=False) for side in SIDES}
            print(
                f"  warm-up, {label}: "
                + ", ".join(f"{side} {sent} payloads in {elapsed:.1f} s" for side, (elapsed, _, sent) in done.items()),
                flush=True,
            )
        # Planner statistics as autovacuum gives a long-lived database (not those of the tables' first rows).
        common.vacuum_analyze(*ANALYZED_TABLES)
        for side, (elapsed, _, sent) in done.items():
            # Generated ahead (untimed): three times what the warm-up rate needs, within --max-requests.
            caps[side] = min(args.max_requests, int(sent / elapsed / clients * args.seconds * 3) + 50)

        for i in range(args.repeat):
            for side in SIDES:
                elapsed, alerts, sent = sides.run(side, seconds=args.seconds, caps=[caps[side]] * clients)
                rate = alerts / elapsed
                rates[side].append(rate)
                cpu = ""
                if side in sides.cpu:
                    python, postgres, counted = sides.cpu[side]
                    cpu = (
                        f"; CPU/alert {1000 * python / max(counted, 1):.2f} ms gunicorn + "
                        f"{1000 * postgres / max(counted, 1):.2f} ms PostgreSQL"
                    )
                    cpu_per_alert[side].append((python + postgres) / max(counted, 1))
                print(
                    f"  run {i + 1}/{args.repeat} {side}: {alerts} alerts in {sent} payloads, {elapsed:.2f} s: "
                    f"{rate:,.0f} alerts/s ({sent / elapsed:,.0f} payloads/s){cpu}",
                    flush=True,
                )

        for side in SIDES:
            print(f"  alerts sent to {side} (timed runs): {percentages(sides.mix[side])}", flush=True)
        print(f"  sredesk's answers (timed runs): {percentages(sides.outcomes)}", flush=True)
        print(check_product(sum(sides.cursors["sredesk"])), flush=True)
        stop_servers()
    except BaseException:
        for server in servers:
            print(f"--- {server.label} log ({server.log_path}) ---\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        stop_servers()
        if not args.keep_data:
            from django.db import connection

            from bench.floor_app import TABLE

            common.reset_database()
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")

    figure, ceiling = common.median(rates["sredesk"]), common.median(rates["floor"])
    ratio = figure / ceiling
    print(f"  sredesk {figure:,.0f} alerts/s, floor {ceiling:,.0f} alerts/s (medians); goal ratio >= {GOAL}")
    if all(cpu_per_alert.values()):
        product_cpu, floor_cpu = (common.median(cpu_per_alert[side]) for side in SIDES)
        print(
            f"  CPU per alert (medians): sredesk {1000 * product_cpu:.2f} ms, floor {1000 * floor_cpu:.2f} ms "
            f"(floor/sredesk {floor_cpu / product_cpu:.2f}: about the ratio a quiet machine would show)"
        )
    print(f"  {common.load_average()}")
    sys.stderr.flush()
    print(f"ingest: {figure:.0f} alerts/s vs {ceiling:.0f} alerts/s ratio={ratio:.2f}", flush=True)


if __name__ == "__main__":
    main()
