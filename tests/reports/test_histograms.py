"""/metrics histograms: each duration counted once, by a beat task; a scrape reads stored series, never a scan."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Severity
from reports.histograms import histograms_observe
from reports.models import HistogramSeries
from reports.tasks import histograms_observe_task
from tests.reports.test_figures import NOW, at, incident, world  # noqa: F401 - the hand-computed fixture

pytestmark = pytest.mark.django_db


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample of the exposition ``text``."""
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    match = re.search(rf"^{re.escape(name)}\{{{re.escape(inner)}\}} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{{{inner}}} not in /metrics"
    return float(match.group(1))


def test_durations_are_counted_once_into_buckets(client, world):  # noqa: F811
    assert histograms_observe_task.delay().get() > 0
    assert histograms_observe(now=NOW) == 0  # a second run (another worker, another beat) adds nothing
    text = client.get("/metrics").content.decode()
    name = "sredesk_incident_time_to_acknowledge_seconds"
    # Payments SEV1 (in and out of the period alike): 600, 300, 1800 s.
    assert sample(text, f"{name}_bucket", le="300.0", severity="SEV1") == 1
    assert sample(text, f"{name}_bucket", le="900.0", severity="SEV1") == 2
    assert sample(text, f"{name}_bucket", le="1800.0", severity="SEV1") == 3
    assert sample(text, f"{name}_count", severity="SEV1") == 3
    assert sample(text, f"{name}_sum", severity="SEV1") == 2700
    # SEV2: the search incident (60 s) and the one detected on 1 Nov (1 min: 23:59 → 00:00).
    assert sample(text, f"{name}_bucket", le="60.0", severity="SEV2") == 2
    resolve = "sredesk_incident_time_to_resolve_seconds"
    assert sample(text, f"{resolve}_count", severity="SEV1") == 2  # the third SEV1 is not resolved
    verified = "sredesk_postmortem_published_to_verified_seconds"
    # Payments: 86400 and 21600 s, and p4 (published 20 Oct, verified 21 Oct: 86400 s).
    assert sample(text, f"{verified}_count", team="payments") == 3
    assert sample(text, f"{verified}_bucket", le="21600.0", team="payments") == 1
    assert sample(text, f"{verified}_sum", team="search") == 0  # verified before publication


def test_a_newly_acknowledged_incident_is_counted_at_the_next_run(world):  # noqa: F811
    histograms_observe(now=NOW)
    late = incident(world["pay"], Severity.SEV1, at(9), at(9))
    assert histograms_observe(now=NOW) == 0
    late.acknowledged_at = at(9) + dt.timedelta(hours=5)
    late.save()
    assert histograms_observe(now=NOW) == 1
    series = HistogramSeries.objects.get(metric="sredesk_incident_time_to_acknowledge_seconds", label="SEV1")
    assert series.count == 4 and series.buckets[-1] == 0 and series.buckets[7] == 1  # 18000 s: le 43200


def test_a_scrape_reads_the_same_few_rows_whatever_the_incidents(client, world):  # noqa: F811
    def scrape_queries() -> int:
        histograms_observe(now=NOW)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/metrics").status_code == 200
        return len(queries)

    before = scrape_queries()
    for hour in range(12):
        incident(world["pay"], Severity.SEV2, at(3, hour), at(3, hour), at(3, hour, 30), None, at(3, hour, 50))
    assert scrape_queries() == before


def test_beat_counts_every_minute(settings):
    from sredesk.celery import app

    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks
    entry = settings.CELERY_BEAT_SCHEDULE["reports-histograms-observe"]
    assert entry["schedule"].run_every == dt.timedelta(seconds=60)
    assert entry["task"] in app.tasks
