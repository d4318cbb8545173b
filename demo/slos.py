"""The demo's SLOs and their pushed samples (``demo.data.slos``), then one evaluation so pages show statuses.

Idempotent like the rest of the loader: an SLO is looked up by (service,
slug) and only a missing one is created (through ``slos.services``) with its
samples; existing SLOs and their data are left as they are.
"""

import datetime as dt
import math

from slos.evaluate import evaluate
from slos.models import SLO, Sample, bucket_floor
from slos.services import slo_create

from .data import slos as data

STEADY_SHARE = 0.2  # steady errors burn a fifth of the budget's rate
BURSTS = {"spent": (dt.timedelta(days=5), 0.8), "overspent": (dt.timedelta(days=10), 1.3)}  # (when, budget share)
BURST_HOURS = 2
EVENTS_PER_HOUR = 40_000


def demo_samples(spec: data.DemoSLO, now: dt.datetime) -> list[tuple[dt.datetime, int, int]]:
    """(bucket start, good, total) for a pushed profile: complete buckets of the window before ``now``."""
    step = dt.timedelta(seconds=spec.bucket_seconds)
    end = bucket_floor(now, spec.bucket_seconds)
    first = end - dt.timedelta(days=spec.window_days)
    if spec.profile == "silent":
        return []
    if spec.profile == "young":
        first = end - dt.timedelta(hours=36)
    if spec.profile == "gap":
        end -= dt.timedelta(hours=6)
    rate = STEADY_SHARE * float(1 - spec.target)
    starts, totals, bads = [], [], []
    cumulative = 0.0
    at = first
    while at < end:
        hour = at.hour + at.minute / 60
        total = 0 if spec.profile == "idle" else round(
            EVENTS_PER_HOUR * spec.bucket_seconds / 3600 * (1 + 0.5 * math.sin(2 * math.pi * (hour - 9) / 24))
        )  # fmt: skip
        bad = math.floor((cumulative + total) * rate) - math.floor(cumulative * rate)
        cumulative += total
        starts.append(at)
        totals.append(total)
        bads.append(bad)
        at += step
    if spec.profile in BURSTS:
        ago, share = BURSTS[spec.profile]
        budget = float(1 - spec.target) * sum(totals)
        burst = [
            i for i, start in enumerate(starts) if end - ago <= start < end - ago + dt.timedelta(hours=BURST_HOURS)
        ]
        extra = max(share * budget - sum(bads), 0)
        for i in burst:
            bads[i] = min(totals[i], bads[i] + math.ceil(extra / len(burst)))
    return [(start, total - bad, total) for start, total, bad in zip(starts, totals, bads, strict=True)]


def demo_slos_load(result, services: dict, now: dt.datetime) -> list[SLO]:
    """Create the missing demo SLOs with their samples and evaluate them at ``now`` (the beat evaluates every SLO
    each minute after that; existing ones are left to it); returns every demo SLO."""
    slos, created = [], []
    for spec in data.SLOS:
        service = services[spec.service]
        slo = SLO.objects.filter(service=service, slug=spec.slug).first()
        if slo is None:
            incidents = spec.profile == "incidents"
            fields = {
                "slug": spec.slug,
                "name": spec.name,
                "description": spec.description,
                "target": spec.target,
                "window_days": spec.window_days,
                "paused": spec.paused,
                "sli_kind": SLO.SLIKind.INCIDENT_TIME if incidents else SLO.SLIKind.EVENTS_PUSHED,
            }
            if incidents:
                fields |= {"measured_since": now - dt.timedelta(days=data.HISTORY_DAYS), "min_severity": 2}
            else:
                silent = spec.profile == "silent"
                fields |= {
                    "bucket_seconds": spec.bucket_seconds,
                    "absent_after_seconds": data.SILENT_ABSENT_AFTER_SECONDS if silent else data.ABSENT_AFTER_SECONDS,
                }
            slo = slo_create(actor=None, service=service, **fields)
            Sample.objects.bulk_create(
                [
                    Sample(slo=slo, bucket_start=s, good=g, total=t, received_at=now)
                    for s, g, t in demo_samples(spec, now)
                ],
                batch_size=2000,
            )
            result.created["SLOs"] += 1
            created.append(slo.pk)
        slos.append(slo)
    if created:
        evaluate(now, slo_ids=created)
    result.totals["SLOs"] = len(slos)
    return slos
