"""What every benchmark in ``bench/`` shares: its own PostgreSQL database, timing, medians, the result line.

A benchmark measures sredesk's code path and, in the same run, its CEILING (raw
SQL, the bare library) on the same data, because the machine is shared and
noisy: only the ratio of the two is compared with the goal. Its last line reads
``<name>: <figure> vs <ceiling> ratio=<x>``.

``bootstrap(name)`` must run before anything imports Django models. It refuses
to run without a PostgreSQL ``DATABASE_URL``; it works in its own database,
named after the URL's database plus ``_<name>`` (``sredesk_bench_sweep``), so
two benchmarks (or two engineers) never empty each other's tables; it creates
that database when missing, migrates it, and empties its tables
(``reset_database``) so every run starts from the same state.
"""

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "psql"}
SERVER_SETTINGS = ["server_version", "jit", "shared_buffers"]


def arguments(description: str, *, repeat: int) -> argparse.Namespace:
    """The options every benchmark takes: ``--repeat``, ``--keep-data`` and ``--scale``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeat", type=int, default=repeat, help=f"runs of each side; the median counts ({repeat})")
    parser.add_argument(
        "--keep-data", action="store_true", help="leave the generated rows in the database for inspection"
    )
    add_scale(parser)
    return parser.parse_args()


def add_scale(parser: argparse.ArgumentParser) -> None:
    """``--scale``: the data's size as a multiple of the benchmark's own (1, the size its docstring gives).

    A benchmark's ratio at 1 and at 10 is its cost curve: per-item cost should
    stay flat, so the ratio should not move (README "Benchmarks" says what grows).
    """
    parser.add_argument(
        "--scale", type=float, default=1.0, help="data size as a multiple of the documented one (1; 10 = ten times)"
    )


def scaled(count: int, scale: float) -> int:
    """``count`` times ``scale``, at least 1."""
    return max(1, round(count * scale))


def bootstrap(name: str) -> str:
    """Point Django at this benchmark's own PostgreSQL database, create and migrate it; return its name."""
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        sys.exit(
            f"bench/{name}.py measures sredesk on PostgreSQL and refuses to run without it: "
            "set DATABASE_URL=postgres://postgres@127.0.0.1:5432/sredesk_bench "
            f"(it is {'unset' if not url else 'not a postgres:// URL'})."
        )
    base = parts.path.lstrip("/") or "sredesk_bench"
    dbname = f"{base}_{name}"
    os.environ["DATABASE_URL"] = parts._replace(path="/" + dbname).geturl()
    os.environ["DJANGO_SETTINGS_MODULE"] = "sredesk.settings"
    os.environ.setdefault("DJANGO_SECRET_KEY", "sredesk-bench-only-not-a-secret")
    # Tasks are only enqueued, into this process's memory: no worker runs, no broker files are written.
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    # Outbox deliveries only, whatever a local .env says, so the ceiling's SQL plans the same rows.
    os.environ["SLACK_BOT_TOKEN"] = ""
    os.environ["EMAIL_URL"] = ""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))

    _create_database(parts, dbname)
    import django

    django.setup()
    _silence_log_output()
    _migrate(parts, dbname)
    return dbname


def _admin_connection(parts):
    """An autocommit connection to the server's ``postgres`` database (to create or drop ours)."""
    import psycopg

    return psycopg.connect(
        host=parts.hostname or None,
        port=parts.port or 5432,
        user=parts.username or None,
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
    )


def _create_database(parts, dbname: str) -> None:
    from psycopg import sql

    with _admin_connection(parts) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


def _drop_database(parts, dbname: str) -> None:
    from psycopg import sql

    with _admin_connection(parts) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def _migrate(parts, dbname: str) -> None:
    """``manage.py migrate``; a database whose migration history no longer fits the tree is rebuilt once."""
    from django.core.management import call_command
    from django.db import connection

    try:
        call_command("migrate", interactive=False, verbosity=0)
    except Exception as exc:
        print(f"migrating {dbname} failed ({exc}); recreating it", file=sys.stderr)
        connection.close()
        _drop_database(parts, dbname)
        _create_database(parts, dbname)
        call_command("migrate", interactive=False, verbosity=0)


def _silence_log_output() -> None:
    """Keep sredesk's log records (their cost is part of the code path) but write them to /dev/null.

    The product logs one INFO line per planned reminder; printing 10,000 lines to the
    terminal would measure the terminal and bury the result lines.
    """
    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)


def reset_database() -> None:
    """Empty every table of this benchmark's database (TRUNCATE ... RESTART IDENTITY CASCADE)."""
    from django.db import connection

    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} RESTART IDENTITY CASCADE")


def truncate(*tables: str) -> None:
    """Empty the given tables (and those referring to them); names of tables that do not exist are ignored."""
    from django.db import connection

    existing = set(connection.introspection.table_names())
    tables = tuple(t for t in tables if t in existing)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} RESTART IDENTITY CASCADE")


def vacuum_analyze(*tables: str) -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would give a long-lived database."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")


def server_settings() -> str:
    """The PostgreSQL version and the settings that change these figures most (JIT, buffers)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting(name) FROM unnest(%s::text[]) WITH ORDINALITY AS s (name, i) ORDER BY i",
            [SERVER_SETTINGS],
        )
        version, jit, buffers = (row[0] for row in cursor.fetchall())
    return f"PostgreSQL {version} (jit={jit}, shared_buffers={buffers})"


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Seconds ``fn()`` took (wall clock), and what it returned."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def alternate(
    sides: dict[str, Callable[[], object]], *, repeat: int, reset: Callable[[], None], check: Callable | None = None
) -> dict[str, list[float]]:
    """Run each side ``repeat`` times, interleaved (A B A B ...) so load spikes hit both alike.

    Each side first runs once untimed (warm-up: imports, URL resolver, caches, as in a
    long-running process). ``reset()`` runs before every run, untimed. ``check(side,
    value)`` (untimed, after the run) may verify what the run did. Returns the seconds
    of each timed run, per side.
    """
    for side, fn in sides.items():
        reset()
        value = fn()
        if check is not None:
            check(side, value)
    times: dict[str, list[float]] = {side: [] for side in sides}
    for i in range(repeat):
        for side, fn in sides.items():
            reset()
            seconds, value = timed(fn)
            times[side].append(seconds)
            if check is not None:
                check(side, value)
            print(f"  run {i + 1}/{repeat} {side}: {seconds:.3f} s", flush=True)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def load_average() -> str:
    """The 1/5/15-minute load average and the CPU count, to judge how noisy the run was."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load unknown"
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def summary(label: str, figure: float, ceiling: float, ratio: float) -> str:
    """``<label>: <figure> s vs <ceiling> s ratio=<ratio>``: the required last line's format."""
    return f"{label}: {figure:.3f} s vs {ceiling:.3f} s ratio={ratio:.2f}"


def print_last_line(label: str, figure: float, ceiling: float, ratio: float) -> None:
    """Print the result line; the caller prints nothing after it."""
    sys.stderr.flush()
    print(summary(label, figure, ceiling, ratio), flush=True)
