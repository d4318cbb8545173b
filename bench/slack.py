"""Slack slash commands answered per second: sredesk's ``/slack/commands`` vs a bare signature-checking view.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/sredesk_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/<n>
.venv/bin/python bench/slack.py``

It works in its own database (``<database>_slack``, see ``bench/common.py``)
and publishes to the Redis broker ``CELERY_BROKER_URL`` names (required: the
publish is part of what is measured; no worker runs, and the messages the run
published are removed from that database's ``default`` queue at the end). It
creates a team, ``--people`` people with Slack ids and an incident each, then
starts two gunicorns on free loopback ports, each with ``--workers`` workers
of ``--threads`` threads (gthread, as ``sredesk/gunicorn.py`` serves sredesk),
debug off: sredesk (``sredesk.wsgi``, signing secret set) and the FLOOR
(``bench/slack_floor.py``: the raw body checked with slack_sdk's
``SignatureVerifier``, the same ack answered; no database, no broker). With
``--floor-records`` the floor also stores each command's key with one durable
``INSERT ... ON CONFLICT DO NOTHING`` before answering: the least a door that
acts once per command must do if it records before answering (sredesk's door
no longer does: its worker records), kept to compare with earlier figures.

Load: ``--clients`` threads send ``/sredesk ack INC-<n>`` form bodies as Slack
builds them, each from one of the people, with a fresh ``trigger_id`` (so
every request is new to sredesk's ledger), signed at send time, over
keep-alive HTTP/1.1. Each sredesk request verifies the signature, parses the
form and hands the request to Redis (one LPUSH of the task message,
``slackapp/ledger.py``; a worker would record it under its natural key and run
it, ``slackapp.inbound.hand_over``); no worker runs. Also printed: CPU per request of each side's
gunicorn workers (and sredesk's PostgreSQL backends). Warm-up untimed, then timed runs
of ``--seconds`` alternating sredesk / floor ``--repeat`` times; medians count.
Any answer other than 200 fails the run, and every answered sredesk request
must be in the queue (or, had the broker failed, recorded by the door), once;
the first queued message must carry its command.

Figure: requests/s; p99 latency of each side over its timed runs.
Goal: sredesk >= 0.5 x the floor, p99 well under Slack's 3 s.
Last line: ``slack: <req/s> vs <floor req/s> ratio=<sredesk/floor>``.
"""

import argparse
import atexit
import base64
import hashlib
import hmac
import itertools
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, load
from bench.load import Server, percentile

NAME = "slack"
GOAL = 0.5
SIDES = ("sredesk", "floor")
SECRET = "bench-signing-secret-not-a-secret"
QUEUE = "default"  # the Celery queue the door's task goes to (sredesk/settings/celery_conf.py)
BROKER = os.environ.get("CELERY_BROKER_URL", "")  # read before common.bootstrap() replaces it


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side; the median counts (3)")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of one timed run (6)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads (4)")
    parser.add_argument("--people", type=int, default=50, help="people (and incidents) sending commands (50)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server (2)")
    parser.add_argument(
        "--worker-class", default="gthread", help="gunicorn worker class, as sredesk/gunicorn.py (gthread)"
    )
    parser.add_argument("--threads", type=int, default=8, help="threads per gthread worker, as SREDESK_WEB_THREADS (8)")
    parser.add_argument(
        "--floor-records",
        action="store_true",
        help="the floor also records each command durably (one INSERT ... ON CONFLICT DO NOTHING of its key)",
    )
    common.add_scale(parser)
    parser.add_argument(
        "--keep-data", action="store_true", help="leave the generated rows in the database for inspection"
    )
    return parser.parse_args()


_trigger = itertools.count(1)


def signed_request(person: int) -> tuple[bytes, dict[str, str]]:
    """A ``/sredesk ack INC-<n>`` form body from person ``n`` (a fresh trigger id) and its headers, signed now."""
    body = urlencode(
        {
            "token": "bench",
            "team_id": "T0BENCH01",
            "team_domain": "bench",
            "channel_id": "C0BENCH01",
            "channel_name": "incidents",
            "user_id": f"U0BENCH{person:04d}",
            "user_name": f"p{person}",
            "command": "/sredesk",
            "text": f"ack INC-{person + 1}",
            "api_app_id": "A0BENCH01",
            "is_enterprise_install": "false",
            "response_url": f"https://hooks.slack.com/commands/T0BENCH01/{person}/x",
            "trigger_id": f"{next(_trigger)}.{person}.{os.getpid():x}",
        }
    ).encode()
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    return body, headers


def drive(port: int, clients: int, people: int, seconds: float) -> tuple[float, int, list[float]]:
    """``clients`` threads send commands for ``seconds``: (wall seconds, requests answered, latencies in s)."""

    def request_for(n: int, i: int) -> load.Request:
        return ("/slack/commands", *signed_request((n + i * clients) % people))

    elapsed, runs = load.drive(port, clients, seconds, request_for, timeout=30)
    latencies = [latency for run in runs for latency in run.latencies]
    return elapsed, len(latencies), latencies


def cpu_seconds(server: Server) -> tuple[float, float]:
    """(CPU seconds used so far by the server's gunicorn workers, by its PostgreSQL backends); (0, 0) unknown."""
    return load.cpu_used({}, server.cpu_snapshot()) or (0.0, 0.0)


def p99(values: list[float]) -> float:
    return percentile(values, 0.99)


def set_up(people: int, *, floor_records: bool) -> None:
    """Empty the database; a team, ``people`` members with Slack ids, and one incident each; the floor's table."""
    from django.utils import timezone

    from incidents.models import Incident
    from ownership.models import Membership, Team, User

    common.reset_database()
    drop_floor_table()
    if floor_records:
        from django.db import connection

        from bench.slack_floor import CREATE_TABLE

        with connection.cursor() as cursor:
            cursor.execute(CREATE_TABLE)
    team = Team.objects.create(name="Bench", slug="bench")
    users = User.objects.bulk_create(
        User(username=f"p{n}", email=f"p{n}@bench.test", slack_user_id=f"U0BENCH{n:04d}") for n in range(people)
    )
    Membership.objects.bulk_create(Membership(team=team, user=u) for u in users)
    now = timezone.now()
    Incident.objects.bulk_create(
        Incident(title=f"Bench incident {n}", severity=3, started_at=now, detected_at=now, owning_team=team)
        for n in range(people)
    )


def floor_rows() -> int:
    from django.db import connection

    from bench.slack_floor import TABLE

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        return cursor.fetchone()[0]


def drop_floor_table() -> None:
    from django.db import connection

    from bench.slack_floor import TABLE

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def main() -> None:
    args = arguments()
    if not BROKER.startswith(("redis://", "rediss://")):
        sys.exit(
            "bench/slack.py measures the publish to Redis too: set CELERY_BROKER_URL=redis://127.0.0.1:6379/<n> "
            "(a database whose 'default' queue no worker of yours consumes)."
        )
    import redis

    dbname = common.bootstrap(NAME)
    broker = redis.Redis.from_url(BROKER)
    queued_before = broker.llen(QUEUE)
    people = common.scaled(args.people, args.scale)
    print(f"bench/slack.py: database {dbname}; {common.server_settings()}; {common.load_average()}", flush=True)
    set_up(people, floor_records=args.floor_records)
    print(
        f"  {people} people, {args.clients} client threads, gunicorn {args.workers} {args.worker_class} workers "
        f"x {args.threads} threads per server, broker {BROKER}; the floor "
        + ("records each command (one durable INSERT)" if args.floor_records else "writes nothing"),
        flush=True,
    )
    servers: list[Server] = []

    def stop_servers() -> None:
        for server in servers:
            server.stop()

    atexit.register(stop_servers)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logdir = Path(tempfile.mkdtemp(prefix="sredesk-bench-slack-"))
    os.environ["SLACK_SIGNING_SECRET"] = SECRET
    os.environ["GUNICORN_CMD_ARGS"] = f"--threads {args.threads}"  # both servers, as the Procfile's config
    answered = floor_answered = 0
    try:
        os.environ["CELERY_BROKER_URL"] = BROKER
        product = Server("sredesk", "sredesk.wsgi:application", "sredesk.settings", args, logdir)
        os.environ["CELERY_BROKER_URL"] = "memory://"
        os.environ["SLACK_FLOOR_RECORDS"] = "1" if args.floor_records else ""
        servers.append(product)
        floor = Server("floor", "bench.slack_floor:application", "bench.slack_floor", args, logdir)
        servers.append(floor)
        product.wait_ready("/healthz")
        floor.wait_ready("/")
        ports = {"sredesk": product.port, "floor": floor.port}
        for side in SIDES:  # warm-up, untimed: imports, connections, prepared statements
            _, count, _ = drive(ports[side], args.clients, people, 2.0)
            answered += count if side == "sredesk" else 0
            floor_answered += count if side == "floor" else 0
        rates: dict[str, list[float]] = {side: [] for side in SIDES}
        latencies: dict[str, list[float]] = {side: [] for side in SIDES}
        for i in range(args.repeat):
            for side in SIDES:
                before = cpu_seconds(servers[SIDES.index(side)])
                elapsed, count, times = drive(ports[side], args.clients, people, args.seconds)
                after = cpu_seconds(servers[SIDES.index(side)])
                answered += count if side == "sredesk" else 0
                floor_answered += count if side == "floor" else 0
                rates[side].append(count / elapsed)
                latencies[side] += times
                web, database = ((a - b) * 1000 / max(count, 1) for a, b in zip(after, before, strict=True))
                print(
                    f"  run {i + 1}/{args.repeat} {side}: {count} commands in {elapsed:.2f} s: "
                    f"{count / elapsed:,.0f} req/s, p99 {1000 * p99(times):.1f} ms; CPU/request {web:.2f} ms gunicorn"
                    + (f" + {database:.2f} ms PostgreSQL" if database else ""),
                    flush=True,
                )
        from slackapp.models import InboundRequest

        recorded = InboundRequest.objects.count()
        published = broker.llen(QUEUE) - queued_before
        print(
            f"  sredesk answered {answered} commands: {published} handed to the broker, "
            f"{recorded} recorded by the door (only when the broker failed)",
            flush=True,
        )
        if published + recorded != answered:
            raise RuntimeError("every answered command must be handed to the broker or recorded, once")
        newest = json.loads(base64.b64decode(json.loads(broker.lindex(QUEUE, 0))["body"]))[0][0]
        if (newest["kind"], newest["name"], newest["payload"]["command"]) != ("command", "ack", "/sredesk"):
            raise RuntimeError(f"the queued message does not carry the command: {newest}")
        if args.floor_records:
            floor_recorded = floor_rows()
            print(f"  floor answered {floor_answered} commands: {floor_recorded} recorded", flush=True)
            if floor_recorded != floor_answered:
                raise RuntimeError("the floor must record every command it answered")
    except BaseException:
        for server in servers:
            print(f"--- {server.label} log ({server.log_path}) ---\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        stop_servers()
        added = broker.llen(QUEUE) - queued_before
        if added > 0:
            broker.ltrim(QUEUE, added, -1)  # the newest `added` messages (LPUSHed at the head) are this run's
        if not args.keep_data:
            common.reset_database()
            drop_floor_table()

    figure, ceiling = common.median(rates["sredesk"]), common.median(rates["floor"])
    print(
        f"  sredesk {figure:,.0f} req/s (p99 {1000 * p99(latencies['sredesk']):.1f} ms), floor {ceiling:,.0f} req/s "
        f"(p99 {1000 * p99(latencies['floor']):.1f} ms) (medians); goal ratio >= {GOAL}"
    )
    print(f"{NAME}: {figure:.0f} req/s vs {ceiling:.0f} req/s ratio={figure / ceiling:.2f}")


if __name__ == "__main__":
    main()
