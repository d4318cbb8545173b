"""Building SLO data for tests: buckets of samples, SLOs created at a given time."""

import datetime as dt

from slos.models import SLO, Sample


def fill(slo: SLO, start: dt.datetime, buckets: int, *, total: float, bad: float = 0.0) -> None:
    """``buckets`` consecutive samples from ``start``, each of ``total`` events, ``bad`` of them bad."""
    step = dt.timedelta(seconds=slo.bucket_seconds)
    Sample.objects.bulk_create(
        [Sample(slo=slo, bucket_start=start + i * step, good=total - bad, total=total) for i in range(buckets)],
        batch_size=5000,
    )


def created(slo: SLO, at: dt.datetime) -> SLO:
    """The SLO as if created at ``at`` (``created_at`` is set on insert)."""
    SLO.objects.filter(pk=slo.pk).update(created_at=at)
    slo.refresh_from_db()
    return slo
