"""Read side of on-call: schedules loaded as specs and asked for their final schedule (``oncall.rotation``).

Every door that says who is on call comes through ``schedule_final`` /
``schedules_final`` (one function computes, BR-34). Loading is a fixed number of
queries however many schedules are asked about: schedules, layers, members,
overrides, each one query (overrides only those touching the window).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from .models import Layer, LayerMember, Override, Schedule
from .rotation import FinalSchedule, LayerSpec, MemberSpec, OverrideSpec, ScheduleSpec, final_schedule


def schedule_specs(schedule_ids: Iterable[int], *, start: dt.datetime, end: dt.datetime) -> dict[int, ScheduleSpec]:
    """{schedule id: its spec} for [start, end), in four queries whatever the number of schedules."""
    ids = sorted(set(schedule_ids))
    if not ids:
        return {}
    zones = dict(Schedule.objects.filter(pk__in=ids).values_list("pk", "timezone"))
    layers = list(Layer.objects.filter(schedule_id__in=zones).order_by("id"))
    members = defaultdict(list)
    rows = LayerMember.objects.filter(layer__schedule_id__in=zones, active_from__lt=end).exclude(
        active_until__lte=start
    )
    for m in rows:
        members[m.layer_id].append(MemberSpec(m.user_id, m.position, m.active_from, m.active_until, m.pk))
    overrides = defaultdict(list)
    rows = Override.objects.filter(schedule_id__in=zones, start__lt=end, end__gt=start).order_by("id")
    for pk, schedule_id, kind, user_id, begins, ends, swap in rows.values_list(
        "pk", "schedule_id", "kind", "user_id", "start", "end", "swap__id"
    ):
        source = "swap" if swap is not None else "override"
        overrides[schedule_id].append(OverrideSpec(pk, kind, user_id, begins, ends, source))
    by_schedule = defaultdict(list)
    for layer in layers:
        by_schedule[layer.schedule_id].append(layer_spec(layer, members[layer.pk]))
    return {
        pk: ScheduleSpec(timezone=zone, layers=tuple(by_schedule[pk]), overrides=tuple(overrides[pk]), id=pk)
        for pk, zone in zones.items()
    }


def layer_spec(layer: Layer, members: Iterable[MemberSpec]) -> LayerSpec:
    """A ``Layer`` row as the rotation's spec."""
    return LayerSpec(
        id=layer.pk,
        name=layer.name,
        anchor_date=layer.anchor_date,
        handoff_time=layer.handoff_time,
        turn_unit=layer.turn_unit,
        turn_length=layer.turn_length,
        priority=layer.priority,
        members=tuple(members),
        restrict_days=frozenset(int(d) for d in layer.restrict_days if d.isdigit()),
        restrict_start=layer.restrict_start,
        restrict_end=layer.restrict_end,
    )


def schedules_final(schedule_ids: Iterable[int], *, start: dt.datetime, end: dt.datetime) -> dict[int, FinalSchedule]:
    """{schedule id: its final schedule over [start, end)}; ids that do not exist are left out."""
    return {
        pk: final_schedule(spec, start, end) for pk, spec in schedule_specs(schedule_ids, start=start, end=end).items()
    }


def schedule_final(schedule: Schedule | int, *, start: dt.datetime, end: dt.datetime) -> FinalSchedule:
    """The final schedule of one schedule over [start, end). Raises Schedule.DoesNotExist for an unknown id."""
    pk = schedule if isinstance(schedule, int) else schedule.pk
    found = schedules_final([pk], start=start, end=end)
    if pk not in found:
        raise Schedule.DoesNotExist(pk)
    return found[pk]


def on_call_at(schedule_ids: Iterable[int], at: dt.datetime, *, ahead: dt.timedelta = dt.timedelta(days=14)):
    """{schedule id: (shift now, next shift with someone else or None)} from the final schedule of [at, at + ahead)."""
    finals = schedules_final(schedule_ids, start=at, end=at + ahead)
    return {pk: (final.at(at), final.next_after(at)) for pk, final in finals.items()}


def shifts_of(user_id: int, *, start: dt.datetime, end: dt.datetime) -> list[tuple[Schedule, object]]:
    """[(schedule, shift)] where the final schedules name ``user_id`` in [start, end), by start ("my shifts").

    Asks every schedule that could name them (a place in a layer, or an override) in a fixed number of queries.
    """
    ids = set(LayerMember.objects.filter(user_id=user_id).values_list("layer__schedule_id", flat=True))
    ids |= set(
        Override.objects.filter(user_id=user_id, end__gt=start, start__lt=end).values_list("schedule_id", flat=True)
    )
    schedules = Schedule.objects.in_bulk(ids)
    mine = [(schedules[pk], s) for pk, final in schedules_final(ids, start=start, end=end).items()
            for s in final.shifts if s.user_id == user_id]  # fmt: skip
    return sorted(mine, key=lambda pair: (pair[1].start, pair[0].name))


MY_SHIFTS_AHEAD = dt.timedelta(days=14)


def my_upcoming_shifts(user_id: int, *, now: dt.datetime) -> list[tuple[Schedule, object]]:
    """[(schedule, shift)] naming ``user_id`` in [now, now + 14 days), by start: the "your shifts" list of the
    schedules page and of /me/ (``shifts_of``; a shift's ``origin`` is layer, override or swap)."""
    return shifts_of(user_id, start=now, end=now + MY_SHIFTS_AHEAD)
