"""Pushed SLI samples: good and total events per bucket, checked strictly, stored one row per bucket.

``POST /api/v1/slos/{id}/samples/`` is the door; the rules are here. A resent
bucket **replaces** the stored one, never adds to it (one upsert on the
``(slo, bucket_start)`` unique constraint, so two deliveries of the same
bucket at once leave one row with the values of the last). What is refused,
each naming its member (``samples.3.good``):

- anything but a list of 1 to ``MAX_SAMPLES_PER_REQUEST`` objects with exactly
  ``bucket_start``, ``good`` and ``total``;
- ``good`` and ``total`` that are not whole numbers from 0 to ``MAX_COUNT``
  (JSON numbers or ASCII digits; ``1.5``, ``true``, ``"٣"`` are not), or more
  good events than total;
- a ``bucket_start`` that is not an ISO 8601 instant with its offset, not the
  start of one of the SLO's buckets (aligned on the Unix epoch, as
  ``slos.models.bucket_floor``), in the future, or older than the longest
  window (``MAX_WINDOW_DAYS``: nothing would ever count it);
- the same bucket twice in one request (which one would win?).

A request with any bad sample stores nothing.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ownership.models import User
from ownership.permissions import require_write
from sredesk.exceptions import StateConflict
from sredesk.inputs import InputError, parse_int, text_problem

from .models import MAX_WINDOW_DAYS, SLO, Sample

MAX_SAMPLES_PER_REQUEST = 10_000  # 35 days of 5-minute buckets; about 700 KB of JSON, under the API's body limit
MAX_COUNT = 2**53  # counts are stored as double precision, exact up to here
MAX_ERRORS = 50  # field errors reported per request; the rest are summed up in one message
FIELDS = ("bucket_start", "good", "total")


@dataclass(frozen=True)
class SampleIn:
    """One checked sample."""

    bucket_start: dt.datetime
    good: int
    total: int


@dataclass(frozen=True)
class Stored:
    """What a push did: samples received, buckets that were new, buckets whose stored values were replaced."""

    received: int
    created: int
    replaced: int


def _instant(value: Any, bucket_seconds: int, now: dt.datetime) -> dt.datetime:
    """The bucket start ``value`` names, or ``ValueError`` with the sentence to answer."""
    if not isinstance(value, str) or not value.isascii() or text_problem(value, 64):
        raise ValueError("Give an ISO 8601 time in ASCII with its offset, e.g. 2024-05-01T10:05:00Z.")
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError("Give an ISO 8601 time with its offset, e.g. 2024-05-01T10:05:00Z.")
    if timezone.is_naive(parsed):
        raise ValueError("Give a time zone offset (e.g. 2024-05-01T10:05:00Z); times without one are refused.")
    try:
        start = parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise ValueError("Out of range.") from None
    if start.microsecond or int(start.timestamp()) % bucket_seconds:
        floor = dt.datetime.fromtimestamp(int(start.timestamp()) // bucket_seconds * bucket_seconds, tz=dt.UTC)
        raise ValueError(
            f"Not the start of a {bucket_seconds}-second bucket (the bucket holding it starts at "
            f"{floor:%Y-%m-%dT%H:%M:%SZ})."
        )
    if start > now:
        raise ValueError("In the future: send a bucket once it has started.")
    if start < now - dt.timedelta(days=MAX_WINDOW_DAYS):
        raise ValueError(f"Older than the longest window ({MAX_WINDOW_DAYS} days): nothing would count it.")
    return start


def parse_samples(raw: Any, *, bucket_seconds: int, now: dt.datetime) -> list[SampleIn]:
    """``raw`` (the request's ``samples``) checked; ``ValidationError`` by member path for everything wrong."""
    if not isinstance(raw, list) or not raw:
        raise ValidationError({"samples": ["Give a list of one or more {bucket_start, good, total} objects."]})
    if len(raw) > MAX_SAMPLES_PER_REQUEST:
        raise ValidationError(
            {"samples": [f"At most {MAX_SAMPLES_PER_REQUEST:,} samples per request (this has {len(raw):,})."]}
        )
    errors: dict[str, list[str]] = {}
    seen: dict[dt.datetime, int] = {}
    parsed = []
    for index, item in enumerate(raw):
        at = f"samples.{index}"
        if not isinstance(item, dict):
            errors[at] = ["Give an object with bucket_start, good and total."]
            continue
        for key in sorted(set(item) - set(FIELDS)):
            errors[f"{at}.{key}"[:200]] = ["Unknown field; known: bucket_start, good, total."]
        for key in FIELDS:
            if key not in item:
                errors[f"{at}.{key}"] = ["This field is required."]
        counts = {}
        for key in ("good", "total"):
            if key in item:
                try:
                    counts[key] = parse_int(item[key], field=key, min_value=0, max_value=MAX_COUNT)
                except InputError as exc:
                    errors[f"{at}.{key}"] = [exc.message]
        if len(counts) == 2 and counts["good"] > counts["total"]:
            errors[f"{at}.good"] = [f"More good events than total ({counts['good']} > {counts['total']})."]
        start = None
        if "bucket_start" in item:
            try:
                start = _instant(item["bucket_start"], bucket_seconds, now)
            except ValueError as exc:
                errors[f"{at}.bucket_start"] = [str(exc)]
            else:
                if start in seen:
                    errors[f"{at}.bucket_start"] = [f"The same bucket as samples.{seen[start]}: send each bucket once."]
                seen.setdefault(start, index)
        if start is not None and len(counts) == 2 and f"{at}.good" not in errors:
            parsed.append(SampleIn(start, counts["good"], counts["total"]))
    if errors:
        shown = dict(list(errors.items())[:MAX_ERRORS])
        if len(errors) > MAX_ERRORS:
            shown["samples"] = [f"{len(errors):,} problems; the first {MAX_ERRORS} are listed. Nothing was stored."]
        raise ValidationError(shown)
    return parsed


def samples_store(*, slo_id: int, actor: User | None, samples: Any, now: dt.datetime | None = None) -> Stored:
    """Check and store pushed samples of an ``events_pushed`` SLO; each bucket replaces its stored row.

    All or nothing. Raises ``SLO.DoesNotExist``, ``PermissionDenied`` (the
    SLO's write rule), ``StateConflict`` (code ``not_pushed``: the SLO's SLI
    is not pushed) and ``ValidationError`` by member path (module docstring).
    """
    now = now or timezone.now()
    slo = SLO.objects.select_related("service").get(pk=slo_id)
    require_write(actor, slo)
    if slo.sli_kind != SLO.SLIKind.EVENTS_PUSHED:
        raise StateConflict(
            f"This SLO's SLI is {slo.get_sli_kind_display().lower()}: it takes no pushed samples.", code="not_pushed"
        )
    checked = parse_samples(samples, bucket_seconds=slo.bucket_seconds, now=now)
    starts = [s.bucket_start for s in checked]
    with transaction.atomic():
        existing = 0
        for i in range(0, len(starts), 2000):
            existing += Sample.objects.filter(slo=slo, bucket_start__in=starts[i : i + 2000]).count()
        rows = [
            Sample(slo=slo, bucket_start=c.bucket_start, good=c.good, total=c.total, received_at=now) for c in checked
        ]
        Sample.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["slo", "bucket_start"],
            update_fields=["good", "total", "received_at"],
            batch_size=2000,
        )
    return Stored(received=len(checked), created=len(checked) - existing, replaced=existing)
