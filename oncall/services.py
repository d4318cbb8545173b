"""Writes to on-call schedules shared by every door (admin, API, web): members and overrides, never the past.

Each service takes the acting person (``actor``; ``None`` is sredesk itself)
and raises ``sredesk.exceptions.PermissionDenied`` under
``ownership.permissions`` (the schedule's team and staff), and
``django.core.exceptions.ValidationError`` naming the field for a bad value.
The past is never rewritten: a change takes effect at an instant not before
now (a time up to ``CLOCK_TOLERANCE`` ago is taken as now, a browser's clock a
little behind), so shifts already served stay as they were. Each write that changes who is on call in the next
14 days tells the people whose shifts it changed (``oncall.changes.shifts_watched``, in the same transaction).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ownership.models import User
from ownership.permissions import require_write
from sredesk.tokens import new_token

from .changes import shifts_watched
from .models import Layer, LayerMember, Override, PersonCalendar, Schedule
from .rotation import turn_boundaries
from .selectors import layer_spec

CLOCK_TOLERANCE = dt.timedelta(minutes=1)


def not_past(field: str, value: dt.datetime, now: dt.datetime) -> dt.datetime:
    """``value`` if aware and not before ``now`` (within ``CLOCK_TOLERANCE``, then ``now``); else ValidationError."""
    if timezone.is_naive(value):
        raise ValidationError({field: "Give a time zone (e.g. 2026-03-09T08:00:00Z); naive times are refused."})
    if value < now - CLOCK_TOLERANCE:
        raise ValidationError({field: f"must not be in the past (got {value.isoformat()}, now {now.isoformat()}): "
                                      "shifts already served are not rewritten."})  # fmt: skip
    return max(value, now)


def next_handoff(layer: Layer, after: dt.datetime) -> dt.datetime:
    """The first instant after ``after`` at which ``layer`` hands off (its first turn's start if later), UTC."""
    spec = layer_spec(layer, ())
    zone = ZoneInfo(layer.schedule.timezone)
    horizon = after + spec.step + dt.timedelta(days=2)
    return next(instant for _, instant in turn_boundaries(spec, zone, after, horizon) if instant > after)


@transaction.atomic
def member_add(
    *, layer_id: int, user: User, actor: User | None, position: int | None = None,
    active_from: dt.datetime | None = None, now: dt.datetime | None = None,
) -> LayerMember:  # fmt: skip
    """Put ``user`` in the layer's order at ``position`` (default: last) from ``active_from``.

    ``active_from`` defaults to the layer's next hand-off, so the turn under way keeps its person;
    it may not be in the past. The layer row is locked, so two additions get distinct default positions.
    """
    now = now or timezone.now()
    layer = Layer.objects.select_for_update().select_related("schedule").get(pk=layer_id)
    require_write(actor, layer)
    start = not_past("active_from", active_from, now) if active_from else next_handoff(layer, now)
    if position is None:
        last = layer.members.order_by("-position").values_list("position", flat=True).first()
        position = 0 if last is None else last + 1
    with shifts_watched(layer.schedule_id, now=now):
        return LayerMember.objects.create(layer=layer, user=user, position=position, active_from=start)


@transaction.atomic
def member_end(
    *, member_id: int, actor: User | None, at: dt.datetime | None = None, now: dt.datetime | None = None
) -> LayerMember | None:
    """Take a person out of a layer's order from ``at`` (default now); their past turns stay theirs.

    A place that has not begun by then is deleted (returns None): it never named anyone.
    """
    now = now or timezone.now()
    member = LayerMember.objects.select_for_update().select_related("layer__schedule").get(pk=member_id)
    require_write(actor, member)
    until = not_past("active_until", at, now) if at else now
    if member.active_until is not None and member.active_until <= until:
        return member  # already out by then
    with shifts_watched(member.layer.schedule_id, now=now):
        if member.active_from >= until:
            member.delete()
            return None
        member.active_until = until
        member.save(update_fields=["active_until"])
    return member


@transaction.atomic
def override_create(
    *, schedule_id: int, user: User, start: dt.datetime, end: dt.datetime, actor: User | None,
    kind: str = Override.Kind.TAKE, note: str = "", now: dt.datetime | None = None,
) -> Override:  # fmt: skip
    """``user`` takes [start, end) of the schedule (``kind="take"``) or is removed from it (``"remove"``).

    ``start`` may not be in the past; ``end`` must follow it. Raises ValidationError naming the field.
    """
    now = now or timezone.now()
    schedule = Schedule.objects.get(pk=schedule_id)
    require_write(actor, schedule)
    if kind not in Override.Kind.values:
        raise ValidationError({"kind": f"Give one of {', '.join(Override.Kind.values)}."})
    start = not_past("start", start, now)
    if timezone.is_naive(end) or end <= start:
        raise ValidationError({"end": "must be an aware time after start."})
    created_by = actor if actor is not None and actor.is_authenticated else None
    override = Override(schedule=schedule, kind=kind, user=user, start=start, end=end, note=note, created_by=created_by)
    override.full_clean()
    with shifts_watched(schedule.pk, now=now):
        override.save()
    return override


@transaction.atomic
def override_cancel(*, override_id: int, actor: User | None, now: dt.datetime | None = None) -> Override | None:
    """Withdraw an override: one not begun is deleted (None); one under way ends now; one over is refused."""
    now = now or timezone.now()
    override = Override.objects.select_for_update().select_related("schedule").get(pk=override_id)
    require_write(actor, override)
    if override.end <= now:
        raise ValidationError({"end": "This override is over: shifts already served are not rewritten."})
    with shifts_watched(override.schedule_id, now=now):
        if override.start >= now:
            override.delete()
            return None
        override.end = now
        override.save(update_fields=["end"])
    return override


@transaction.atomic
def calendar_token_issue(*, schedule_id: int, actor: User | None) -> tuple[Schedule, str]:
    """A new iCal feed token for the schedule, returned once (only its SHA-256 is kept); the old one stops working."""
    schedule = Schedule.objects.select_for_update().get(pk=schedule_id)
    require_write(actor, schedule)
    token, schedule.calendar_token_hash = new_token("sdcal")
    schedule.save(update_fields=["calendar_token_hash"])
    return schedule, token


@transaction.atomic
def calendar_token_revoke(*, schedule_id: int, actor: User | None) -> bool:
    """Stop the schedule's iCal feed; returns whether it had one."""
    schedule = Schedule.objects.select_for_update().get(pk=schedule_id)
    require_write(actor, schedule)
    had = bool(schedule.calendar_token_hash)
    schedule.calendar_token_hash = ""
    schedule.save(update_fields=["calendar_token_hash"])
    return had


@transaction.atomic
def person_calendar_issue(*, user: User, actor: User | None) -> str:
    """A new token for ``user``'s own iCal feed (their shifts across schedules), returned once; the old one stops."""
    feed = PersonCalendar.objects.select_for_update().filter(user=user).first() or PersonCalendar(user=user)
    require_write(actor, feed)
    token, feed.token_hash = new_token("sdmycal")
    feed.save()
    return token


@transaction.atomic
def person_calendar_revoke(*, user: User, actor: User | None) -> bool:
    """Stop ``user``'s own iCal feed; returns whether there was one."""
    feed = PersonCalendar.objects.select_for_update().filter(user=user).first()
    if feed is None:
        return False
    require_write(actor, feed)
    feed.delete()
    return True
