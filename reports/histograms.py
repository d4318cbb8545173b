"""Prometheus histograms of response and loop-closure times, counted once as they happen, read cheaply at scrape.

Series (all in seconds, the Prometheus base unit):

* ``sredesk_incident_time_to_acknowledge_seconds{severity}``,
  ``sredesk_incident_time_to_mitigate_seconds{severity}``,
  ``sredesk_incident_time_to_resolve_seconds{severity}``: each incident
  once, when the end of that duration is first recorded
  (``incidents.querysets.DURATIONS``; a re-open and second resolution is
  not counted again), labelled with its severity then;
* ``sredesk_postmortem_published_to_verified_seconds{team}``: each
  post-mortem once, when it first has an accepted regression test
  (``PostMortemQuerySet.annotate_accepted_at``), from its publication (0
  when the test came first), labelled with the owning team's slug.

:func:`histograms_observe` (beat, every minute) finds what is not counted
yet (at most ``BATCH`` per metric and run), records it in the
``ObservedDuration`` ledger (``INSERT … ON CONFLICT DO NOTHING RETURNING``:
a concurrent run's rows come back to one of them only) and adds what it
inserted to the ``HistogramSeries`` rows under their row lock, in one
transaction. A scrape reads the series rows: one query however many
incidents (``HistogramCollector``).
"""

import bisect
import math
from collections import defaultdict

from django.db import transaction
from django.db.models import Exists, F, OuterRef
from prometheus_client.core import HistogramMetricFamily

from incidents.models import Incident, Severity
from incidents.querysets import DURATIONS, duration_seconds
from postmortems.models import PostMortem
from sredesk.aggregates import Seconds, round_seconds
from sredesk.sql import insert

from .models import HistogramSeries, ObservedDuration

BATCH = 5000
INCIDENT_BOUNDS = (60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, 259200, 604800)
POSTMORTEM_BOUNDS = (3600, 21600, 86400, 259200, 604800, 1209600, 2592000, 7776000)
PUBLISHED_TO_VERIFIED = "sredesk_postmortem_published_to_verified_seconds"


def incident_metric(name: str) -> str:
    return f"sredesk_incident_{name}_seconds"


METRICS = {
    **{
        incident_metric(name): (INCIDENT_BOUNDS, "severity", f"Incidents' {name.replace('_', ' ')} ({a} → {b}).")
        for name, (a, b) in DURATIONS.items()
    },
    PUBLISHED_TO_VERIFIED: (
        POSTMORTEM_BOUNDS,
        "team",
        "Post-mortems' time from publication to their first accepted regression test, by owning team.",
    ),
}


def _unobserved(queryset, metric: str):
    return queryset.exclude(Exists(ObservedDuration.objects.filter(metric=metric, subject_id=OuterRef("pk"))))


def _pending() -> list[dict]:
    """Durations not counted yet: rows of metric, subject_id, label, seconds (at most BATCH per metric)."""
    rows = []
    labels = dict(zip(Severity.values, Severity.labels, strict=True))
    for name, (_, end) in DURATIONS.items():
        metric = incident_metric(name)
        found = (
            _unobserved(Incident.objects.filter(**{f"{end}__isnull": False}), metric)
            .annotate(seconds=duration_seconds(name))
            .order_by("pk")
            .values_list("pk", "severity", "seconds")[:BATCH]
        )
        rows += [
            {"metric": metric, "subject_id": pk, "label": labels[sev], "seconds": max(round_seconds(s), 0.0)}
            for pk, sev, s in found
        ]
    accepted = (
        _unobserved(PostMortem.objects.filter(published_at__isnull=False), PUBLISHED_TO_VERIFIED)
        .annotate_accepted_at()
        .filter(accepted_at__isnull=False)
        .annotate(seconds=Seconds("published_at", "accepted_at"), team=F("incident__owning_team__slug"))
        .order_by("pk")
        .values_list("pk", "team", "seconds")[:BATCH]
    )
    rows += [
        {"metric": PUBLISHED_TO_VERIFIED, "subject_id": pk, "label": team or "", "seconds": max(round_seconds(s), 0.0)}
        for pk, team, s in accepted
    ]
    return rows


def histograms_observe(*, now) -> int:
    """Count every duration not counted yet into its series, once (module docstring). Returns how many."""
    rows = _pending()
    if not rows:
        return 0
    with transaction.atomic():
        for row in rows:
            row["observed_at"] = now
        inserted = insert(ObservedDuration, rows, returning=("metric", "label", "seconds"), ignore_conflicts=True)
        added: dict[tuple[str, str], list[float]] = defaultdict(list)
        for metric, label, seconds in inserted:
            added[(metric, label)].append(seconds)
        for (metric, label), values in sorted(added.items()):
            bounds = METRICS[metric][0]
            HistogramSeries.objects.get_or_create(
                metric=metric, label=label, defaults={"buckets": [0] * (len(bounds) + 1)}
            )
            series = HistogramSeries.objects.select_for_update().get(metric=metric, label=label)
            for value in values:
                series.buckets[bisect.bisect_left(bounds, value)] += 1
            series.sum_seconds += sum(values)
            series.count += len(values)
            series.save(update_fields=["buckets", "sum_seconds", "count"])
    return len(inserted)


class HistogramCollector:
    """The stored series as Prometheus histograms (cumulative buckets, ``le`` in seconds): one query."""

    def collect(self):
        families = {
            metric: HistogramMetricFamily(metric, help_text, labels=[label])
            for metric, (_, label, help_text) in METRICS.items()
        }
        for series in HistogramSeries.objects.order_by("metric", "label"):
            if series.metric not in METRICS:
                continue
            bounds = METRICS[series.metric][0]
            cumulative, buckets = 0, []
            for bound, n in zip([*bounds, math.inf], series.buckets, strict=True):
                cumulative += n
                buckets.append(("+Inf" if bound == math.inf else str(float(bound)), cumulative))
            families[series.metric].add_metric([series.label], buckets, series.sum_seconds)
        yield from families.values()
