"""Benchmark: the incident list of the REST API under gunicorn, against raw SQL + JSON in one process.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/sredesk_bench .venv/bin/python bench/api.py``
(works in the database ``sredesk_bench_api``; see ``bench/common.py``).

Data: 100,000 incidents (``INSERT ... SELECT generate_series``: seconds, not
minutes) over a year, 90% resolved, across 40 teams, 400 people and 120
services; each incident affects its primary service and a second one.

Measured: ``GET /api/v1/incidents/?page_size=50`` served by gunicorn (2 sync
workers, as the Procfile runs it) on a loopback port, with a token, walking
cursor pages: each of ``--clients`` client threads fetches page 1 and follows
``next`` for ``--pages`` pages, then starts again; the loop is bounded by
``--seconds`` per run. Every page carries its incidents' team, commander,
primary service and affected services. Reported: requests/s, p50 and p99.

Ceiling: the same pages (the same keyset walk on ``(detected_at, id)``) fetched
with raw SQL (one query for the page with its joins, one for the services) and
encoded with ``json.dumps`` into the same shape, in this one process, pages/s.

Runs alternate (api, ceiling, api, ...) ``--repeat`` times; medians count. The
last line is ``api: <req/s> req/s vs <ceiling> pages/s ratio=<api/ceiling>``.
"""

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

INCIDENTS = 100_000
TEAMS, PEOPLE, SERVICES = 40, 400, 120
PAGE_SIZE = 50
NEXT_LINK = re.compile(rb'"next":"([^"]+)"')


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; the median counts (3)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of one run of either side (10)")
    parser.add_argument("--clients", type=int, default=3, help="concurrent client threads against gunicorn (3)")
    parser.add_argument("--pages", type=int, default=20, help="pages each client walks before starting again (20)")
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="leave the rows in the database at the end, and reuse those of an earlier --keep-data run",
    )
    common.add_scale(parser)
    return parser.parse_args()


# --- data --------------------------------------------------------------------------------------


def load_data(incidents: int) -> None:
    """Teams, people, services and 100,000 incidents with their affected services, by set-based SQL."""
    from django.db import connection

    common.reset_database()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ownership_team (name, slug, slack_channel) "
            "SELECT 'Team ' || n, 'team-' || n, '' FROM generate_series(1, %s) n",
            [TEAMS],
        )
        cursor.execute(
            "INSERT INTO ownership_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
            "is_active, date_joined, timezone, work_start, work_end, working_days, slack_user_id) "
            "SELECT '!', false, 'person' || n, 'First' || n, 'Last' || n, '', false, true, now(), 'UTC', "
            "'09:00', '17:00', '12345', '' FROM generate_series(1, %s) n",
            [PEOPLE],
        )
        cursor.execute(
            "INSERT INTO ownership_service (name, slug, description, team_id, tier, runbook_url, dashboard_url, "
            "alerts_url, ci_reports_tests, version) SELECT 'Service ' || n, 'service-' || n, '', "
            "(SELECT min(id) FROM ownership_team) + n %% %s, 1 + n %% 4, '', '', '', true, 1 "
            "FROM generate_series(1, %s) n",
            [TEAMS, SERVICES],
        )
        cursor.execute(
            """
            INSERT INTO incidents_incident (title, summary, severity, status, started_at, detected_at,
                acknowledged_at, mitigated_at, resolved_at, created_at, updated_at, alert_group_key,
                owning_team_id, commander_id, primary_service_id, version)
            SELECT 'Checkout errors ' || n, 'Payments timed out for a while.', 1 + n %% 4,
                CASE WHEN n %% 10 = 0 THEN 'triggered' ELSE 'resolved' END,
                t, t + interval '3 minutes',
                CASE WHEN n %% 10 = 0 THEN NULL ELSE t + interval '5 minutes' END,
                CASE WHEN n %% 10 = 0 THEN NULL ELSE t + interval '30 minutes' END,
                CASE WHEN n %% 10 = 0 THEN NULL ELSE t + interval '1 hour' END,
                t, t, '',
                (SELECT min(id) FROM ownership_team) + n %% %(teams)s,
                (SELECT min(id) FROM ownership_user) + n %% %(people)s,
                (SELECT min(id) FROM ownership_service) + n %% %(services)s, 1
            FROM (SELECT n, timestamptz '2025-01-01 00:00:00+00' + n * interval '5 minutes' AS t
                  FROM generate_series(1, %(incidents)s) n) s
            """,
            {"teams": TEAMS, "people": PEOPLE, "services": SERVICES, "incidents": incidents},
        )
        cursor.execute(
            """
            INSERT INTO incidents_incident_services (incident_id, service_id)
            SELECT id, primary_service_id FROM incidents_incident
            UNION ALL
            SELECT id, (SELECT min(id) FROM ownership_service) + (primary_service_id + 7) %% %s
            FROM incidents_incident
            """,
            [SERVICES],
        )
    common.vacuum_analyze("incidents_incident", "incidents_incident_services", "ownership_service")


def api_token() -> str:
    from ownership.models import User
    from ownership.services import api_token_issue

    user, _ = User.objects.get_or_create(username="bench-reader")
    return api_token_issue(user=user)


# --- the API side: gunicorn and a bounded load loop ----------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_CONN_MAX_AGE": "600", "SREDESK_LOG_LEVEL": "WARNING", "DJANGO_DEBUG": "false"}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "sredesk.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=common.REPO,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    sys.exit("gunicorn did not answer /healthz within 30 s")


def api_run(port: int, token: str, seconds: float, clients: int, pages: int) -> tuple[int, list[float], float]:
    """Walk cursor pages from ``clients`` threads for ``seconds``; (requests, latencies, elapsed)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}

    def client() -> None:
        mine: list[float] = []
        while time.monotonic() < stop_at:
            path = f"/api/v1/incidents/?page_size={PAGE_SIZE}"
            for _ in range(pages):
                if time.monotonic() >= stop_at:
                    break
                start = time.perf_counter()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                conn.close()
                mine.append(time.perf_counter() - start)
                if response.status != 200:
                    errors.append(f"{response.status} {body[:200]!r}")
                    return
                match = NEXT_LINK.search(body)
                if not match:
                    break
                path = urlsplit(match[1].decode()).path + "?" + urlsplit(match[1].decode()).query
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        sys.exit(f"the API answered an error: {errors[0]}")
    return len(latencies), latencies, elapsed


# --- the ceiling: raw SQL + json.dumps in this process -------------------------------------------

PAGE_SQL = """
SELECT i.id, i.title, i.severity, i.status, i.started_at, i.detected_at, i.acknowledged_at, i.mitigated_at,
       i.resolved_at, i.created_at, i.updated_at,
       t.id, t.slug, t.name, u.id, u.username, u.first_name, u.last_name, s.id, s.slug, s.name, i.version
FROM incidents_incident i
LEFT JOIN ownership_team t ON t.id = i.owning_team_id
LEFT JOIN ownership_user u ON u.id = i.commander_id
LEFT JOIN ownership_service s ON s.id = i.primary_service_id
{where}
ORDER BY i.detected_at DESC, i.id DESC
LIMIT %s
"""
SERVICES_SQL = """
SELECT x.incident_id, s.id, s.slug, s.name FROM incidents_incident_services x
JOIN ownership_service s ON s.id = x.service_id WHERE x.incident_id = ANY(%s) ORDER BY s.name
"""
SEVERITY = {1: "SEV1", 2: "SEV2", 3: "SEV3", 4: "SEV4"}


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _seconds(start, end):
    return (end - start).total_seconds() if start and end else None


def ceiling_page(cursor, after: tuple | None) -> tuple[bytes, tuple | None]:
    """One page as JSON bytes, and the keyset position of its last row."""
    if after is None:
        cursor.execute(PAGE_SQL.format(where=""), [PAGE_SIZE + 1])
    else:
        where = "WHERE i.detected_at <= %s AND (i.detected_at < %s OR (i.detected_at = %s AND i.id < %s))"
        cursor.execute(PAGE_SQL.format(where=where), [after[0], after[0], after[0], after[1], PAGE_SIZE + 1])
    rows = cursor.fetchall()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    cursor.execute(SERVICES_SQL, [[r[0] for r in rows]])
    services: dict[int, list[dict]] = {}
    for incident_id, sid, slug, name in cursor.fetchall():
        services.setdefault(incident_id, []).append({"id": sid, "slug": slug, "name": name})
    results = []
    for r in rows:
        name = f"{r[16]} {r[17]}".strip() or r[15]
        results.append(
            {
                "id": r[0],
                "public_id": f"INC-{r[0]}",
                "title": r[1],
                "severity": SEVERITY[r[2]],
                "status": r[3],
                "started_at": _iso(r[4]),
                "detected_at": _iso(r[5]),
                "acknowledged_at": _iso(r[6]),
                "mitigated_at": _iso(r[7]),
                "resolved_at": _iso(r[8]),
                "mtta_seconds": _seconds(r[5], r[6]),
                "time_to_mitigate_seconds": _seconds(r[4], r[7]),
                "mttr_seconds": _seconds(r[4], r[8]),
                "owning_team": {"id": r[11], "slug": r[12], "name": r[13]} if r[11] else None,
                "commander": {"id": r[14], "username": r[15], "name": name} if r[14] else None,
                "primary_service": {"id": r[18], "slug": r[19], "name": r[20]} if r[18] else None,
                "services": services.get(r[0], []),
                "created_at": _iso(r[9]),
                "updated_at": _iso(r[10]),
                "version": r[21],
            }
        )
    position = (rows[-1][5], rows[-1][0]) if rows and more else None
    body = json.dumps({"next": "cursor" if position else None, "previous": None, "results": results}).encode()
    return body, position


def ceiling_run(seconds: float, pages: int) -> tuple[int, float]:
    from django.db import connection

    done, stop_at = 0, time.monotonic() + seconds
    start = time.perf_counter()
    with connection.cursor() as cursor:
        while time.monotonic() < stop_at:
            after = None
            for _ in range(pages):
                _, after = ceiling_page(cursor, after)
                done += 1
                if after is None or time.monotonic() >= stop_at:
                    break
    return done, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    args = arguments()
    dbname = common.bootstrap("api")
    from incidents.models import Incident

    incidents = common.scaled(INCIDENTS, args.scale)
    if args.keep_data and Incident.objects.count() == incidents:
        print(f"reusing {incidents:,} incidents in {dbname}", flush=True)
    else:
        seconds, _ = common.timed(lambda: load_data(incidents))
        print(f"loaded {incidents:,} incidents (--scale {args.scale:g}) into {dbname} in {seconds:.1f} s", flush=True)
    token = api_token()
    from django.db import connection

    connection.close()  # gunicorn's workers open their own
    port = free_port()
    server = start_gunicorn(port)
    rates, ceilings, p50s, p99s = [], [], [], []
    try:
        api_run(port, token, 2.0, args.clients, args.pages)  # warm both workers (imports, connections)
        ceiling_run(1.0, args.pages)
        for i in range(args.repeat):
            count, latencies, elapsed = api_run(port, token, args.seconds, args.clients, args.pages)
            rates.append(count / elapsed)
            p50s.append(percentile(latencies, 0.50) * 1000)
            p99s.append(percentile(latencies, 0.99) * 1000)
            print(
                f"  run {i + 1}/{args.repeat} api: {count} requests in {elapsed:.1f} s = {rates[-1]:.1f} req/s, "
                f"p50 {p50s[-1]:.1f} ms, p99 {p99s[-1]:.1f} ms",
                flush=True,
            )
            pages, elapsed = ceiling_run(args.seconds, args.pages)
            ceilings.append(pages / elapsed)
            print(f"  run {i + 1}/{args.repeat} ceiling: {pages} pages in {elapsed:.1f} s = {ceilings[-1]:.1f} pages/s")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not args.keep_data:
            common.reset_database()
    rate, ceiling = common.median(rates), common.median(ceilings)
    print(
        f"api p50 {common.median(p50s):.1f} ms, p99 {common.median(p99s):.1f} ms "
        f"({args.clients} clients, 2 gunicorn workers, {PAGE_SIZE} incidents a page; {common.load_average()})"
    )
    sys.stderr.flush()
    print(f"api: {rate:.1f} req/s vs {ceiling:.1f} pages/s ratio={rate / ceiling:.2f}", flush=True)


if __name__ == "__main__":
    main()
