"""Benchmark: one SLO evaluation (``slos.evaluate.evaluate``) of 500 pushed-event SLOs, against raw aggregates.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/sredesk_bench .venv/bin/python bench/slo.py``
(works in the database ``sredesk_bench_slo``; see ``bench/common.py``).

Data: 500 SLOs of kind ``events_pushed`` (100 services, 5 each; target 99.9 %,
rolling 30 days, 5-minute buckets), each with 30 days of buckets: 8,640 per
SLO, 4,320,000 samples, bulk-loaded with COPY. Traffic varies per SLO and
bucket, with a few bad events; one bucket in 997 is missing (coverage below
100 %), and no burn rule fires (so no alert reaches ingestion: the timed path
is the evaluation itself).

Full path (measured): ``evaluate(now)``: the SLOs read, their windows, what
each window and burn window holds (``slos.tallies.event_tallies``), the
figures and status, the verdicts of the burn rules, the 500 ``SLOState``
rows upserted, the alert rows read.

Ceiling: one raw SQL aggregate per SLO and window over the same table
(``SELECT SUM(good), SUM(total), COUNT(*) ... WHERE slo_id = %s AND
bucket_start >= %s AND bucket_start < %s``): the SLO's window and its five
burn windows, with the evaluation's own bounds, 3,000 statements. Nothing is
written. Every run checks that both sides found the same window sums.

Also printed: the statements the evaluation runs for 50 SLOs and for 500 (the
goal: the same number).

Ratio = full / ceiling (lower is better); goal: at most 2.
"""

import datetime as dt
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

SLOS = 500
PER_SERVICE = 5
BUCKET = 300
DAYS = 30
MISSING_EVERY = 997


def create_slos(count: int, now: dt.datetime) -> list:
    """``count`` pushed-event SLOs on ``count / PER_SERVICE`` services of one team, created 40 days ago."""
    from ownership.models import Service, Team
    from slos.models import SLO

    team = Team.objects.create(name="Platform", slug="platform", slack_channel="C0PLAT")
    services = Service.objects.bulk_create(
        Service(name=f"Service {n:03d}", slug=f"service-{n:03d}", team=team)
        for n in range((count + PER_SERVICE - 1) // PER_SERVICE)
    )
    SLO.objects.bulk_create(
        SLO(
            service=services[n // PER_SERVICE],
            slug=f"availability-{n % PER_SERVICE}",
            name=f"Availability {n:03d}",
            target="0.999",
            window_days=DAYS,
            sli_kind=SLO.SLIKind.EVENTS_PUSHED,
            bucket_seconds=BUCKET,
        )
        for n in range(count)
    )
    SLO.objects.update(created_at=now - dt.timedelta(days=40))
    return list(SLO.objects.select_related("service").order_by("pk"))


def load_samples(slos: list, now: dt.datetime) -> int:
    """30 days of 5-minute buckets per SLO up to ``now``'s bucket, through COPY; returns the rows written."""
    from django.db import connection

    from slos.models import bucket_floor

    buckets = DAYS * 86400 // BUCKET
    end = bucket_floor(now, BUCKET)
    first = end - dt.timedelta(seconds=BUCKET * buckets)
    stamps = [(first + dt.timedelta(seconds=BUCKET * i)).isoformat() for i in range(buckets)]
    received = now.isoformat()
    rows = 0
    statement = "COPY slos_sample (slo_id, bucket_start, good, total, received_at) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for n, slo in enumerate(slos):
            out = io.StringIO()
            for i, stamp in enumerate(stamps):
                if (i + n) % MISSING_EVERY == 0:
                    continue
                total = 800 + (i * 7 + n * 13) % 400
                bad = (i + n) % 5 == 0
                out.write(f"{slo.pk}\t{stamp}\t{total - bad}\t{total}\t{received}\n")
                rows += 1
            copy.write(out.getvalue())
    return rows


def ceiling_bounds(slos: list, now: dt.datetime) -> list[tuple[int, list]]:
    """Per SLO, the ``[start, end)`` of its window and of each burn window, as the evaluation reads them."""
    from slos.tallies import burn_window_bounds
    from slos.windows import BURN_WINDOWS, window_of

    bounds = []
    for slo in slos:
        window = window_of(slo, now)
        spans = [(window.start, window.elapsed_end + dt.timedelta(microseconds=1))]
        spans += [burn_window_bounds(slo, n, now) for n in BURN_WINDOWS]
        bounds.append((slo.pk, spans))
    return bounds


def ceiling(bounds: list[tuple[int, list]]) -> dict[int, tuple[float, float]]:
    """One aggregate per SLO and window; returns each SLO's window (good, total)."""
    from django.db import connection

    sums = {}
    with connection.cursor() as cursor:
        for pk, spans in bounds:
            for i, (start, end) in enumerate(spans):
                cursor.execute(
                    "SELECT SUM(good), SUM(total), COUNT(*) FROM slos_sample"
                    " WHERE slo_id = %s AND bucket_start >= %s AND bucket_start < %s",
                    [pk, start, end],
                )
                good, total, _count = cursor.fetchone()
                if i == 0:
                    sums[pk] = (float(good or 0), float(total or 0))
    return sums


def statements(now: dt.datetime, slo_ids: list[int]) -> int:
    """How many statements one evaluation of these SLOs runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from slos.evaluate import evaluate

    with CaptureQueriesContext(connection) as queries:
        evaluate(now, slo_ids=slo_ids)
    return len(queries.captured_queries)


def main() -> None:
    args = common.arguments("Time one evaluation of 500 pushed-event SLOs against raw aggregates.", repeat=5)
    dbname = common.bootstrap("slo")
    print(f"slo: database {dbname}, {common.server_settings()}, {common.load_average()}", flush=True)
    common.reset_database()

    from django.utils import timezone

    from slos.evaluate import evaluate
    from slos.models import SLOState, Status

    count = common.scaled(SLOS, args.scale)
    now = timezone.now().replace(microsecond=0)
    try:
        slos = create_slos(count, now)
        seconds, rows = common.timed(lambda: load_samples(slos, now))
        common.vacuum_analyze("slos_sample")
        print(f"slo: {count} SLOs, {rows:,} samples loaded with COPY in {seconds:.1f} s", flush=True)
        bounds = ceiling_bounds(slos, now)
        expected = ceiling(bounds)

        def check(side: str, value) -> None:
            if side == "ceiling":
                found = value
            else:
                found = {pk: (good, total) for pk, good, total in SLOState.objects.values_list("slo", "good", "total")}
                if value.evaluated != count or value.fired or value.resolved:
                    sys.exit(f"slo: the evaluation did {value}, not {count} SLOs without alert changes.")
            if found != expected:
                wrong = [pk for pk in expected if found.get(pk) != expected[pk]][:5]
                sys.exit(f"slo: {side} found other window sums than the raw aggregates (SLOs {wrong}).")

        times = common.alternate(
            {"evaluate": lambda: evaluate(now), "ceiling": lambda: ceiling(bounds)},
            repeat=args.repeat,
            reset=lambda: None,
            check=check,
        )
        ok = SLOState.objects.filter(status=Status.OK).count()
        small = sorted(s.pk for s in slos)[: max(1, count // 10)]
        at_small, at_full = statements(now, small), statements(now, [s.pk for s in slos])
        print(f"slo: statements per evaluation: {at_small} for {len(small)} SLOs, {at_full} for {count} SLOs")
        print(f"slo: {ok} of {count} SLOs ok; medians of {args.repeat} runs; {common.load_average()}")
    finally:
        if not args.keep_data:
            common.reset_database()
    full, ceil = common.median(times["evaluate"]), common.median(times["ceiling"])
    common.print_last_line("slo", full, ceil, full / ceil)


if __name__ == "__main__":
    main()
