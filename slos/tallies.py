"""What each SLO's window and burn windows hold, read for many SLOs at once.

Events SLIs: ONE statement for any number of SLOs (``event_tallies``): each
SLO's bounds travel as rows of one JSON parameter, joined to the samples by
the (slo, bucket_start) index, each window summed by its own LATERAL
aggregate on PostgreSQL (``_statement``). The burn windows count complete
buckets only: they end at the start of the bucket in progress and reach back
max(window, bucket) seconds, so a short window always holds whole buckets.
Why by hand: the ORM cannot join rows of per-SLO bounds, so it would take one
aggregate per SLO and window (six per SLO, every beat tick). Benchmark:
``bench/slo.py`` (500 SLOs of 8,640 buckets against those 3,000 aggregates).

Time SLI: the impact windows of the services' incidents (two statements for
any number of SLOs), merged so overlapping incidents count once.
"""

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q

from incidents.models import Incident

from .arithmetic import Tally
from .models import SLO, Sample, bucket_floor
from .windows import BURN_WINDOWS, Window


@dataclass(frozen=True)
class Held:
    """What one SLO's window (``tally``) and burn windows (``recent``, by seconds) hold, and its latest data."""

    tally: Tally
    recent: dict[int, Tally]
    last_data_at: dt.datetime | None = None


def burn_window_bounds(slo: SLO, seconds: int, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` of the burn window of ``seconds`` for this SLO at ``now``: complete buckets only."""
    if not slo.is_events:
        return now - dt.timedelta(seconds=seconds), now
    end = bucket_floor(now, slo.bucket_seconds)
    return end - dt.timedelta(seconds=max(seconds, slo.bucket_seconds)), end


def reads_from(slo: SLO, window: Window, now: dt.datetime) -> dt.datetime:
    """The earliest instant the evaluation reads for this SLO: its window's start or a burn window's, if earlier."""
    return min([window.start, *(burn_window_bounds(slo, n, now)[0] for n in BURN_WINDOWS)])


# --- events SLIs ------------------------------------------------------------------------------------------

_SUMS = "SUM(CASE WHEN s.bucket_start >= b.{lo} AND s.bucket_start < b.{hi} THEN {value} ELSE 0 END)"
_LATERAL = (
    "CROSS JOIN LATERAL (SELECT SUM(s.good), SUM(s.total), COUNT(*) FROM {table} s "
    "WHERE s.slo_id = b.id AND s.bucket_start >= b.{lo} AND s.bucket_start < b.{hi}) AS {name} (g, t, n)"
)


def _statement(vendor: str) -> str:
    """The one statement: per SLO (a row of ``b``), its latest bucket in reach and three sums per window.

    Its columns: id, latest bucket start, then good, total and buckets of the
    window and of each burn window (``BURN_WINDOWS`` order). On PostgreSQL
    each window is its own LATERAL aggregate, an index range scan of exactly
    its buckets (``bench/slo.py``: conditional sums over the whole reach cost
    3x the raw per-window aggregates); SQLite, the embedded default, sums
    conditionally over one join.
    """
    columns = [("id", "bigint"), ("lo", "timestamptz"), ("hi", "timestamptz"), ("ws", "timestamptz")]
    columns += [(f"w{n}", "timestamptz") for n in BURN_WINDOWS] + [("e", "timestamptz")]
    spans = [("ws", "hi")] + [(f"w{n}", "e") for n in BURN_WINDOWS]
    table = connection.ops.quote_name(Sample._meta.db_table)
    if vendor == "postgresql":
        spec = ", ".join(f"{name} {kind}" for name, kind in columns)
        laterals = " ".join(
            _LATERAL.format(table=table, lo=lo, hi=hi, name=f"x{i}") for i, (lo, hi) in enumerate(spans)
        )
        picks = ", ".join(f"x{i}.g, x{i}.t, x{i}.n" for i in range(len(spans)))
        return (
            f"SELECT b.id, m.latest, {picks} "  # noqa: S608 (our own names)
            f"FROM jsonb_to_recordset(%s::jsonb) AS b ({spec}) "
            f"CROSS JOIN LATERAL (SELECT MAX(s.bucket_start) FROM {table} s WHERE s.slo_id = b.id "
            "AND s.bucket_start >= b.lo AND s.bucket_start < b.hi) AS m (latest) "
            f"{laterals} WHERE m.latest IS NOT NULL"
        )
    picks = []
    for lo, hi in spans:
        picks += [_SUMS.format(lo=lo, hi=hi, value=value) for value in ("s.good", "s.total", "1")]
    fields = ", ".join(f"json_extract(value, '$.{name}') AS {name}" for name, _ in columns)
    source = f"(SELECT {fields} FROM json_each(%s)) AS b"  # noqa: S608 (our own column names)
    return (
        f"SELECT b.id, MAX(s.bucket_start), {', '.join(picks)} "  # noqa: S608 (our own names)
        f"FROM {source} JOIN {table} s ON s.slo_id = b.id AND s.bucket_start >= b.lo AND s.bucket_start < b.hi "
        "GROUP BY b.id"
    )


def _time(value: dt.datetime) -> str:
    if connection.vendor == "postgresql":
        return value.isoformat()
    return connection.ops.adapt_datetimefield_value(value)  # as the ORM stores it on SQLite, so text compares


def event_tallies(slos: Sequence[SLO], windows: dict[int, Window], now: dt.datetime) -> dict[int, Held]:
    """What each events SLO's window (``windows[slo.pk]``) and burn windows hold at ``now``. One statement.

    SLOs without any sample in reach are absent from the result.
    """
    rows = []
    for slo in slos:
        window = windows[slo.pk]
        bounds = {n: burn_window_bounds(slo, n, now) for n in BURN_WINDOWS}
        lo = reads_from(slo, window, now)
        row = {"id": slo.pk, "lo": lo, "hi": window.elapsed_end + dt.timedelta(microseconds=1), "ws": window.start}
        row |= {f"w{n}": start for n, (start, _) in bounds.items()}
        row["e"] = bucket_floor(now, slo.bucket_seconds)
        rows.append({key: _time(value) if isinstance(value, dt.datetime) else value for key, value in row.items()})
    if not rows:
        return {}
    by_id = {slo.pk: slo for slo in slos}
    held = {}
    with connection.cursor() as cursor:
        cursor.execute(_statement(connection.vendor), [json.dumps(rows)])
        for pk, latest, *sums in cursor.fetchall():
            slo = by_id[pk]
            tallies = [
                Tally(float(good or 0), float(total or 0), float(count or 0) * slo.bucket_seconds)
                for good, total, count in zip(sums[0::3], sums[1::3], sums[2::3], strict=True)
            ]
            if isinstance(latest, str):  # SQLite hands MAX() back as text
                latest = dt.datetime.fromisoformat(latest).replace(tzinfo=dt.UTC)
            last = latest + dt.timedelta(seconds=slo.bucket_seconds) if latest else None
            held[pk] = Held(tallies[0], dict(zip(BURN_WINDOWS, tallies[1:], strict=True)), last)
    return held


# --- time SLI ---------------------------------------------------------------------------------------------


def merge(intervals: Iterable[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    """Overlapping or touching intervals merged, sorted: two incidents at once are bad time once."""
    merged: list[list[dt.datetime]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def overlap_seconds(intervals: list[tuple[dt.datetime, dt.datetime]], start: dt.datetime, end: dt.datetime) -> float:
    """Seconds of ``[start, end)`` inside the (merged) intervals."""
    total = 0.0
    for a, b in intervals:
        lo, hi = max(a, start), min(b, end)
        if hi > lo:
            total += (hi - lo).total_seconds()
    return total


def time_tally(impact: list[tuple[dt.datetime, dt.datetime]], start: dt.datetime, end: dt.datetime) -> Tally:
    """The time SLI over ``[start, end)``: every second covered, the ones inside an impact window bad."""
    covered = max((end - start).total_seconds(), 0.0)
    bad = overlap_seconds(impact, start, end) if covered else 0.0
    return Tally(good=covered - bad, total=covered, covered_seconds=covered)


def impact_end(incident: Incident, now: dt.datetime) -> dt.datetime:
    """When an incident's impact ended: mitigated, else resolved, else it goes on (``now``)."""
    return incident.mitigated_at or incident.resolved_at or now


def impact_windows(slos: Sequence[SLO], since: dt.datetime, now: dt.datetime) -> dict[int, list]:
    """Per time SLO, the merged impact windows of its service's incidents (primary or affected) at or above its
    ``min_severity`` that overlap ``[since, now)``. Two statements."""
    if not slos:
        return {}
    services = {slo.service_id for slo in slos}
    worst = max(slo.min_severity for slo in slos)
    incidents = list(
        Incident.objects.filter(Q(primary_service__in=services) | Q(services__in=services))
        .filter(severity__lte=worst, started_at__lt=now)
        .filter(Q(mitigated_at__isnull=True, resolved_at__isnull=True) | Q(mitigated_at__gt=since))
        .distinct()
        .only("id", "severity", "started_at", "mitigated_at", "resolved_at", "primary_service_id")
    )
    affected = defaultdict(set)
    for incident_id, service_id in Incident.services.through.objects.filter(
        incident_id__in=[i.pk for i in incidents], service_id__in=services
    ).values_list("incident_id", "service_id"):
        affected[incident_id].add(service_id)
    result = {}
    for slo in slos:
        mine = [
            (i.started_at, impact_end(i, now))
            for i in incidents
            if i.severity <= slo.min_severity
            and (i.primary_service_id == slo.service_id or slo.service_id in affected[i.pk])
        ]
        result[slo.pk] = merge(mine)
    return result


def incident_tallies(slos: Sequence[SLO], windows: dict[int, Window], now: dt.datetime) -> dict[int, Held]:
    """What each time SLO's window and burn windows hold at ``now``; time before ``measured_since`` has no data."""
    if not slos:
        return {}
    since = min(min(windows[s.pk].start for s in slos), now - dt.timedelta(seconds=max(BURN_WINDOWS)))
    impact = impact_windows(slos, since, now)
    held = {}
    for slo in slos:
        window = windows[slo.pk]
        start = max(window.start, slo.measured_since)
        tally = time_tally(impact[slo.pk], start, max(window.elapsed_end, start))
        recent = {}
        for n in BURN_WINDOWS:
            lo, hi = burn_window_bounds(slo, n, now)
            lo = max(lo, slo.measured_since)
            recent[n] = time_tally(impact[slo.pk], lo, max(hi, lo))
        held[slo.pk] = Held(tally, recent, now if tally.covered_seconds else None)
    return held
