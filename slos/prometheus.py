"""The Prometheus-pulled SLI: each SLO's good and total PromQL, evaluated over Prometheus' HTTP API into buckets.

For an SLO of kind ``events_prometheus``, ``pull`` asks Prometheus
(``PROMETHEUS_URL``, ``POST /api/v1/query_range``) for both expressions with
``$window`` replaced by the bucket length (``increase(x[5m])``), one point per
bucket end (step = the bucket length), and stores the point at ``end`` as the
bucket ``[end − bucket, end)``: a ``Sample``, one per bucket, replaced when
pulled again, exactly as a pushed bucket. It pulls the complete buckets that
ended at least ``PROMETHEUS_DELAY_SECONDS`` ago (so their last scrape has
landed), from the bucket after the latest stored one, or from the start of
what the evaluation reads (a new SLO gets its whole window from Prometheus'
history), at most ``MAX_STEPS`` points per request.

Missing is never good (FIELD-CASES BR-36's kind, at this boundary). A bucket
is stored only when both expressions give one finite, non-negative value for
it with good ≤ total; otherwise it stays missing, lowers coverage and the
SLO's state says why (``PullResult.problem``, shown as the state's note):

- Prometheus unreachable or slower than ``PROMETHEUS_TIMEOUT_SECONDS``:
  nothing stored, and the evaluation's other SLOs are not asked (one outage
  costs one timeout, not one per SLO);
- an error answer (PromQL that does not parse, an execution error, HTTP
  4xx/5xx, a body that is not Prometheus' JSON): nothing stored for that SLO,
  with Prometheus' own message;
- more than one series from an expression (it lacks a ``sum()``): nothing
  stored for that SLO: adding or picking series would be a guess;
- no series, or no value at some steps (a selector matching nothing, an
  exporter that was down), NaN or ±Inf (0/0), a negative value, or good >
  total: those buckets are missing, and the note counts them.
"""

import datetime as dt
import http.client
import json
import logging
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from .models import SLO, WINDOW_PLACEHOLDER, Sample, bucket_floor
from .windows import window_name

logger = logging.getLogger(__name__)

# Prometheus refuses a range query of more than 11,000 points per series.
MAX_STEPS = 10_000
USER_AGENT = "sredesk-slo-evaluator"
MAX_BODY_BYTES = 64 * 1024 * 1024
SAMPLE_BATCH = 5000
# Why a bucket stays missing, as the state's note says it ("12 without a total value").
NO_TOTAL = "without a total value"
NO_GOOD = "without a good value"
NOT_A_NUMBER = "NaN or infinite"
NEGATIVE = "negative"
GOOD_OVER_TOTAL = "with good above total"
MISSING = (NO_TOTAL, NO_GOOD, NOT_A_NUMBER, NEGATIVE, GOOD_OVER_TOTAL)


class PrometheusError(Exception):
    """Prometheus answered, but not with one usable series: the message says what, for people to read."""


class PrometheusUnreachable(PrometheusError):
    """Prometheus did not answer (connection refused, DNS, timeout): no other SLO is asked in this evaluation."""


@dataclass(frozen=True)
class PullResult:
    """What one SLO's pull did: buckets stored, and what kept buckets missing (None: nothing did)."""

    stored: int = 0
    problem: str | None = None


def expression(query: str, bucket_seconds: int) -> str:
    """The PromQL sent: ``$window`` replaced by the bucket length as Prometheus writes it (``5m``, ``10s``)."""
    return query.replace(WINDOW_PLACEHOLDER, window_name(bucket_seconds))


def query_range(query: str, start: float, end: float, step: int) -> dict[float, float | None]:
    """Prometheus' answer to a range query, as {point time (Unix seconds): value}; None where not a number.

    Steps without a value are absent. Raises ``PrometheusUnreachable`` when
    Prometheus does not answer in ``PROMETHEUS_TIMEOUT_SECONDS``, and
    ``PrometheusError`` for an error answer or more than one series.
    """
    base = settings.PROMETHEUS_URL
    if not base:
        raise PrometheusUnreachable("PROMETHEUS_URL is not set")
    url = base.rstrip("/") + "/api/v1/query_range"
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise PrometheusUnreachable(f"PROMETHEUS_URL must be an http(s) URL, not {base!r}")
    timeout = settings.PROMETHEUS_TIMEOUT_SECONDS
    form = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": str(step), "timeout": f"{timeout:g}"}
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, body = response.status, response.read(MAX_BODY_BYTES)
    except urllib.error.HTTPError as exc:  # Prometheus sends its error JSON with 400, 422 and 503
        status, body = exc.code, exc.read(MAX_BODY_BYTES)
    except (OSError, http.client.HTTPException) as exc:  # refused, unresolvable, reset, timed out, cut short
        reason = getattr(exc, "reason", exc)
        raise PrometheusUnreachable(f"Prometheus at {base} did not answer: {reason}") from exc
    return _matrix(status, body)


def _matrix(status: int, body: bytes) -> dict[float, float | None]:
    try:
        answer = json.loads(body)
        return _points(status, answer)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        raise PrometheusError(f"Prometheus answered HTTP {status} without its JSON") from None


def _points(status: int, answer) -> dict[float, float | None]:
    """The one series' points of a query_range answer; raises PrometheusError, or a lookup error when malformed."""
    if not isinstance(answer, dict) or answer.get("status") != "success":
        error = answer.get("error") if isinstance(answer, dict) else None
        kind = answer.get("errorType") if isinstance(answer, dict) else None
        error = error or "no message"
        raise PrometheusError(f"Prometheus refused the query (HTTP {status}, {kind or 'error'}): {error}")
    data = answer.get("data") or {}
    if data.get("resultType") != "matrix" or not isinstance(data.get("result"), list):
        raise PrometheusError(f"Prometheus answered a {data.get('resultType')!r}, not a range of values")
    series = data["result"]
    if len(series) > 1:
        labels = ", ".join(json.dumps(s.get("metric", {}), sort_keys=True) for s in series[:3])
        raise PrometheusError(
            f"the expression gives {len(series)} series ({labels}{', …' if len(series) > 3 else ''}), not one: "
            "aggregate it, e.g. sum(increase(x[$window]))"
        )
    points: dict[float, float | None] = {}
    for stamp, text in series[0]["values"] if series else []:
        value = float(text)  # Prometheus writes NaN and ±Inf as "NaN", "+Inf", "-Inf"
        points[float(stamp)] = value if math.isfinite(value) else None
    return points


def pull_bounds(slo: SLO, reads_from: dt.datetime, latest: dt.datetime | None, now: dt.datetime):
    """(first, last) bucket starts to pull at ``now``, or None when no complete bucket is due.

    From the bucket after ``latest`` (the latest stored), or from the bucket
    holding ``reads_from`` (the earliest instant the evaluation reads), to the
    last bucket that ended ``PROMETHEUS_DELAY_SECONDS`` ago.
    """
    step = dt.timedelta(seconds=slo.bucket_seconds)
    first = bucket_floor(reads_from, slo.bucket_seconds)
    if latest is not None:
        first = max(first, latest + step)
    last = bucket_floor(now - dt.timedelta(seconds=settings.PROMETHEUS_DELAY_SECONDS), slo.bucket_seconds) - step
    return (first, last) if first <= last else None


def _buckets(slo: SLO, first: dt.datetime, last: dt.datetime) -> tuple[list[Sample], list[str]]:
    """The samples of ``[first, last]``'s buckets that both expressions answer, and why the others are missing."""
    good_query = expression(slo.good_query, slo.bucket_seconds)
    total_query = expression(slo.total_query, slo.bucket_seconds)
    b = slo.bucket_seconds
    samples, missing = [], dict.fromkeys(MISSING, 0)
    received = timezone.now()
    start = first
    while start <= last:
        end = min(last, start + dt.timedelta(seconds=b * (MAX_STEPS - 1)))
        # Points at bucket ends: the point at t holds the bucket [t − b, t).
        lo, hi = start.timestamp() + b, end.timestamp() + b
        totals = query_range(total_query, lo, hi, b)
        goods = query_range(good_query, lo, hi, b)
        for i in range(int((hi - lo) // b) + 1):
            stamp = lo + i * b
            if stamp not in totals:
                missing[NO_TOTAL] += 1
                continue
            if stamp not in goods:
                missing[NO_GOOD] += 1
                continue
            good, total = goods[stamp], totals[stamp]
            if good is None or total is None:
                missing[NOT_A_NUMBER] += 1
            elif good < 0 or total < 0:
                missing[NEGATIVE] += 1
            elif good > total:
                missing[GOOD_OVER_TOTAL] += 1
            else:
                bucket = dt.datetime.fromtimestamp(stamp - b, tz=dt.UTC)
                samples.append(Sample(slo=slo, bucket_start=bucket, good=good, total=total, received_at=received))
        start = end + dt.timedelta(seconds=b)
    reasons = [f"{count} {reason}" for reason, count in missing.items() if count]
    return samples, reasons


def pull(slos: Sequence[SLO], reads_from: dict[int, dt.datetime], now: dt.datetime) -> dict[int, PullResult]:
    """Pull the due buckets of these Prometheus SLOs and store them; returns {slo id: PullResult}.

    ``reads_from[slo.pk]`` is the earliest instant the evaluation reads for
    that SLO (its window's start, or a burn window's, whichever is earlier).
    One statement reads the latest stored buckets, and the samples are
    upserted in batches; Prometheus gets two requests per SLO (more for a
    first pull longer than ``MAX_STEPS`` buckets). Never raises for what
    Prometheus does: every problem becomes the SLO's ``problem``.
    """
    if not slos:
        return {}
    latest = dict(
        Sample.objects.filter(slo__in=[s.pk for s in slos])
        .values("slo")
        .annotate(latest=Max("bucket_start"))
        .values_list("slo", "latest")
    )
    results: dict[int, PullResult] = {}
    samples: list[Sample] = []
    down: str | None = None
    for slo in slos:
        if down is not None:
            results[slo.pk] = PullResult(problem=down)
            continue
        bounds = pull_bounds(slo, reads_from[slo.pk], latest.get(slo.pk), now)
        if bounds is None:
            results[slo.pk] = PullResult()
            continue
        try:
            pulled, reasons = _buckets(slo, *bounds)
        except PrometheusUnreachable as exc:
            down = f"Not pulled: {exc}."
            results[slo.pk] = PullResult(problem=down)
            logger.warning("Prometheus unreachable; SLOs not pulled", extra={"slo_id": slo.pk, "error": str(exc)})
            continue
        except PrometheusError as exc:
            results[slo.pk] = PullResult(problem=f"Not pulled: {exc}.")
            logger.info("Prometheus SLI not pulled", extra={"slo_id": slo.pk, "error": str(exc)})
            continue
        samples += pulled
        problem = None
        if reasons:
            problem = f"Prometheus buckets left missing (never counted as good): {', '.join(reasons)}."
        results[slo.pk] = PullResult(stored=len(pulled), problem=problem)
    for start in range(0, len(samples), SAMPLE_BATCH):
        Sample.objects.bulk_create(
            samples[start : start + SAMPLE_BATCH],
            update_conflicts=True,
            unique_fields=["slo", "bucket_start"],
            update_fields=["good", "total", "received_at"],
        )
    return results
