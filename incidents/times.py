"""The one rule for a lifecycle time an incident records, whichever door writes it (issue 13, BR-15/BR-22 kind).

Order, as the database enforces it (``Incident.Meta.constraints``):
started ≤ detected ≤ acknowledged ≤ resolved, detected ≤ mitigated ≤ resolved.
Acknowledged and mitigated are not ordered with each other: impact can stop
before anyone acknowledges.

``lifecycle_time`` places one time under the incident's row lock, against the
times already recorded, so the order holds whichever writer commits first:

- A time a person (web, API, admin; Slack later) gives explicitly is checked, not
  changed: out of order it is refused with a ValidationError naming the field
  (a 400 at the API), and so is a naive time or one more than
  ``CLOCK_TOLERANCE`` ahead of our clock (a little ahead is taken as now).
- An alert-made incident starts at the alert's ``startsAt`` and is detected
  when sredesk received the delivery (``ingest.grouping``): a late delivery
  is not backdated, so MTTA (from ``detected_at``) is only the time people
  could have known; its other times are then clamped to at or after it.
- A time observed by a machine (an alert's ``startsAt``/``endsAt``, a
  PagerDuty event) or defaulted to now is clamped to the nearest instant the
  order allows: an alert's resolution that arrives after a person's
  acknowledgement is recorded at the acknowledgement, not before it. A
  machine's time ahead of our clock is its clock running fast: taken as now.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import Incident, Source

# How far ahead of our clock a given time may be: a browser's or a script's clock that runs a little fast.
CLOCK_TOLERANCE = timedelta(minutes=1)

# Each lifecycle time, and the recorded times it must not precede.
NOT_BEFORE = {
    "started_at": (),
    "detected_at": ("started_at",),
    "acknowledged_at": ("detected_at",),
    "mitigated_at": ("detected_at",),
    "resolved_at": ("detected_at", "acknowledged_at", "mitigated_at"),
    # A re-open (recorded on the timeline only) follows everything recorded before it.
    "reopened_at": ("detected_at", "acknowledged_at", "mitigated_at", "resolved_at"),
}
# ... and the recorded times it must not follow (a re-open's time is not stored on the incident).
STORED = ("started_at", "detected_at", "acknowledged_at", "mitigated_at", "resolved_at")
NOT_AFTER = {field: tuple(f for f in STORED if field in NOT_BEFORE[f]) for field in NOT_BEFORE}

# Doors whose times are observations of another system, never typed by a person.
MACHINE_SOURCES = frozenset({Source.ALERT, Source.SYSTEM})


def aware(field: str, value: datetime | None) -> datetime | None:
    """Refuse a naive datetime (ValidationError naming ``field``): every lifecycle time is an absolute instant."""
    if value is not None and timezone.is_naive(value):
        raise ValidationError({field: "Give a time zone (e.g. 2024-05-01T10:05:00Z); naive times are refused."})
    return value


def lifecycle_time(
    incident: Incident, field: str, value: datetime | None, *, source: str, now: datetime | None = None
) -> datetime:
    """The instant to record in ``incident.<field>``: ``value`` (default ``now``) placed by the rule above.

    ``incident`` holds the times already recorded (read under the row lock;
    an unsaved incident at declaration). Raises ValidationError naming
    ``field`` for a person's naive, future or out-of-order time. Aware UTC
    in, the same instant out.
    """
    now = now or timezone.now()
    clamp = value is None or source in MACHINE_SOURCES
    value = aware(field, value) or now
    if value > now:
        if not clamp and value > now + CLOCK_TOLERANCE:
            raise ValidationError(
                {field: f"must not be in the future (got {value.isoformat()}, now {now.isoformat()})."}
            )
        value = now
    before = [(f, getattr(incident, f)) for f in NOT_BEFORE[field] if getattr(incident, f) is not None]
    after = [(f, getattr(incident, f)) for f in NOT_AFTER[field] if getattr(incident, f) is not None]
    if before:
        other, earliest = max(before, key=lambda pair: pair[1])
        if value < earliest:
            if not clamp:
                raise ValidationError(
                    {field: f"must be at or after {other} ({earliest.isoformat()}), got {value.isoformat()}."}
                )
            value = earliest
    if after:
        other, latest = min(after, key=lambda pair: pair[1])
        if value > latest:
            if not clamp:
                raise ValidationError(
                    {field: f"must be at or before {other} ({latest.isoformat()}), got {value.isoformat()}."}
                )
            value = latest
    return value
