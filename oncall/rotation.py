"""The final schedule: who is on call at every instant of a window, and where that comes from. One function.

``final_schedule(spec, start, end)`` is the only place that decides who is on
call. Paging, the schedule and service pages, the API and every later consumer
(iCal, hand-off notices, "my shifts") ask it, so they cannot disagree
(FIELD-CASES BR-34). It works on plain specs (``ScheduleSpec``), which
``oncall.selectors`` builds from the database in a fixed number of queries.

The rules, at an instant ``t`` (aware UTC):

1. A **take** override covering ``t`` (``start <= t < end``) names its person;
   of several, the one created last (highest id) wins. The shift's origin is
   ``"swap"`` when the override is a taken swap's, else ``"override"``.
2. Otherwise the layers, highest ``priority`` first (ties: lowest id), and the
   first that names someone wins. A layer names nobody at ``t`` when it has a
   restriction and the schedule zone's wall clock at ``t`` is outside it
   (``ownership.hours.wall_inside``), when ``t`` is before its first turn, when
   no member is in effect at ``t``, or when the person it would name has a
   **remove** override covering ``t``. Else, with the members in effect at
   ``t`` ordered by (position, id) and ``k`` the turn containing ``t``, it
   names member ``k mod n``.
3. Otherwise nobody: a **gap**, returned as a shift of its own.

Turns are wall-clock recurrences (FIELD-CASES BR-21): turn ``k`` begins at the
first instant the zone's clock reads ``anchor_date handoff_time + k turns``
(``ownership.hours.first_reading``), each boundary converted to UTC on its own.
So a weekly Monday 09:00 hand-off stays at 09:00 local across DST, and the turn
spanning a change lasts 167 or 169 hours; consecutive turns share their
boundary, so a change never opens a gap between them nor doubles an hour. A
hand-off time the change skips (02:30 on a spring-forward night) hands off at
the change itself; one it repeats hands off at its first pass. Hour turns count
wall-clock hours too (a 12-hour turn from 09:00 ends at 21:00 local).

Cost: the window's pieces are the instants where anything can change (turn
boundaries, restriction edges, zone changes, members' and overrides' ends);
each piece is evaluated once per layer. A 92-day window of hourly turns is
about 2,200 boundaries.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ownership.hours import first_reading, wall_inside, zone_changes

UTC = dt.UTC
UNIT_STEPS = {"hours": dt.timedelta(hours=1), "days": dt.timedelta(days=1), "weeks": dt.timedelta(weeks=1)}
# Wider than any change of a zone's offset (a day, Pacific/Apia 2011): turns this far out are computed too.
_MARGIN = dt.timedelta(hours=26)


@dataclass(frozen=True)
class MemberSpec:
    """A place in a layer: ``user_id`` at ``position``, in effect for [active_from, active_until) (UTC)."""

    user_id: int
    position: int
    active_from: dt.datetime
    active_until: dt.datetime | None = None
    id: int = 0

    def in_effect(self, at: dt.datetime) -> bool:
        return self.active_from <= at and (self.active_until is None or at < self.active_until)


@dataclass(frozen=True)
class LayerSpec:
    """A rotation (see ``oncall.models.Layer``); ``restrict_days`` is a set of ISO weekdays."""

    id: int
    anchor_date: dt.date
    handoff_time: dt.time
    turn_unit: str
    turn_length: int
    priority: int = 0
    members: tuple[MemberSpec, ...] = ()
    restrict_days: frozenset[int] = frozenset()
    restrict_start: dt.time | None = None
    restrict_end: dt.time | None = None
    name: str = ""

    @property
    def step(self) -> dt.timedelta:
        return UNIT_STEPS[self.turn_unit] * self.turn_length


@dataclass(frozen=True)
class OverrideSpec:
    """``user_id`` takes (``kind="take"``) or is removed from (``kind="remove"``) [start, end), UTC.

    ``source`` is ``"swap"`` for the take override a taken swap made, else ``"override"``."""

    id: int
    kind: str
    user_id: int
    start: dt.datetime
    end: dt.datetime
    source: str = "override"

    def covers(self, at: dt.datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class ScheduleSpec:
    timezone: str
    layers: tuple[LayerSpec, ...] = ()
    overrides: tuple[OverrideSpec, ...] = ()
    id: int = 0


@dataclass(frozen=True)
class Shift:
    """[start, end) (aware UTC) with ``user_id`` on call (None: a gap) and where it came from.

    ``origin`` is ``"override"`` or ``"swap"`` (``override_id`` says which override), ``"layer"``
    (``layer_id``) or ``"gap"``.
    """

    start: dt.datetime
    end: dt.datetime
    user_id: int | None
    origin: str
    layer_id: int | None = None
    override_id: int | None = None

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def covers(self, at: dt.datetime) -> bool:
        return self.start <= at < self.end


@dataclass
class FinalSchedule:
    """The final schedule of [start, end): ``shifts`` cover the window end to end, in order, gaps included;
    ``layers`` holds each layer's own shifts (where it names someone, before overrides and priorities)."""

    start: dt.datetime
    end: dt.datetime
    shifts: list[Shift]
    layers: dict[int, list[Shift]] = field(default_factory=dict)

    def at(self, instant: dt.datetime) -> Shift | None:
        """The shift covering ``instant``, or None outside the window."""
        index = bisect.bisect_right([s.start for s in self.shifts], instant) - 1
        if index < 0 or not self.shifts[index].covers(instant):
            return None
        return self.shifts[index]

    def next_after(self, instant: dt.datetime) -> Shift | None:
        """The first shift starting after ``instant`` that names someone other than who is on call at it."""
        now = self.at(instant)
        for shift in self.shifts:
            if shift.start > instant and shift.user_id is not None and (now is None or shift.user_id != now.user_id):
                return shift
        return None

    @property
    def gaps(self) -> list[Shift]:
        return [s for s in self.shifts if s.user_id is None]


def turn_boundaries(
    layer: LayerSpec, zone: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> list[tuple[int, dt.datetime]]:
    """[(k, instant turn k begins)] for every turn that can touch [start, end), k ≥ 0, instants non-decreasing."""
    anchor = dt.datetime.combine(layer.anchor_date, layer.handoff_time)
    step = layer.step
    low = start.astimezone(zone).replace(tzinfo=None) - _MARGIN
    high = end.astimezone(zone).replace(tzinfo=None) + _MARGIN
    first = max(0, (low - anchor) // step)
    last = -((anchor - high) // step)
    return [(k, first_reading(anchor + k * step, zone)) for k in range(first, last + 1)]


def _restriction_edges(layer: LayerSpec, zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> set[dt.datetime]:
    """Instants in (start, end) where the restriction can start or stop holding (zone changes are added apart)."""
    edges = set()
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date() + dt.timedelta(days=1)
    times = {layer.restrict_start, layer.restrict_end, dt.time(0)}
    while day <= last:
        for time in times:
            naive = dt.datetime.combine(day, time)
            for fold in (0, 1):
                instant = naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
                if start < instant < end:
                    edges.add(instant)
        day += dt.timedelta(days=1)
    return edges


class _LayerClock:
    """One layer's answer at any instant of the window (rule 2 of the module docstring)."""

    def __init__(self, layer: LayerSpec, zone: ZoneInfo, start: dt.datetime, end: dt.datetime, removals):
        self.layer, self.zone, self.removals = layer, zone, removals
        bounds = turn_boundaries(layer, zone, start, end)
        self.turns = [k for k, _ in bounds]
        self.instants = [instant for _, instant in bounds]
        self.members = sorted(layer.members, key=lambda m: (m.position, m.id))

    def edges(self, start: dt.datetime, end: dt.datetime) -> set[dt.datetime]:
        edges = {i for i in self.instants if start < i < end}
        for member in self.members:
            edges |= {t for t in (member.active_from, member.active_until) if t is not None and start < t < end}
        if self.layer.restrict_start is not None:
            edges |= _restriction_edges(self.layer, self.zone, start, end)
        return edges

    def user_at(self, at: dt.datetime) -> int | None:
        layer = self.layer
        if layer.restrict_start is not None and not wall_inside(
            at.astimezone(self.zone), layer.restrict_days, layer.restrict_start, layer.restrict_end
        ):
            return None
        index = bisect.bisect_right(self.instants, at) - 1
        if index < 0:
            return None  # before the layer's first turn (the margin keeps earlier turns of the window listed)
        members = [m for m in self.members if m.in_effect(at)]
        if not members:
            return None
        user_id = members[self.turns[index] % len(members)].user_id
        if any(o.user_id == user_id and o.covers(at) for o in self.removals):
            return None
        return user_id


def final_schedule(spec: ScheduleSpec, start: dt.datetime, end: dt.datetime) -> FinalSchedule:
    """The final schedule of ``spec`` over [start, end) (aware datetimes; answered in UTC). The one function.

    Raises ValueError for naive or empty windows. See the module docstring for the rules.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("final_schedule needs aware instants")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise ValueError("final_schedule needs start < end")
    zone = ZoneInfo(spec.timezone)
    removals = [o for o in spec.overrides if o.kind == "remove" and o.end > start and o.start < end]
    takes = sorted((o for o in spec.overrides if o.kind == "take" and o.end > start and o.start < end),
                   key=lambda o: -o.id)  # fmt: skip
    clocks = [_LayerClock(layer, zone, start, end, removals) for layer in spec.layers]
    ranked = sorted(clocks, key=lambda c: (-c.layer.priority, c.layer.id))
    edges = {start} | set(zone_changes(zone, start, end))
    for clock in clocks:
        edges |= clock.edges(start, end)
    for override in (*removals, *takes):
        edges |= {t for t in (override.start, override.end) if start < t < end}
    points = sorted(e for e in edges if start <= e < end)

    final: list[Shift] = []
    per_layer: dict[int, list[Shift]] = {clock.layer.id: [] for clock in clocks}
    for index, at in enumerate(points):
        until = points[index + 1] if index + 1 < len(points) else end
        users = {clock.layer.id: clock.user_at(at) for clock in clocks}
        for layer_id, user_id in users.items():
            if user_id is not None:
                _extend(per_layer[layer_id], Shift(at, until, user_id, "layer", layer_id=layer_id))
        take = next((o for o in takes if o.covers(at)), None)
        if take is not None:
            piece = Shift(at, until, take.user_id, take.source, override_id=take.id)
        else:
            winner = next((c for c in ranked if users[c.layer.id] is not None), None)
            piece = (
                Shift(at, until, users[winner.layer.id], "layer", layer_id=winner.layer.id)
                if winner
                else Shift(at, until, None, "gap")
            )
        _extend(final, piece)
    return FinalSchedule(start=start, end=end, shifts=final, layers=per_layer)


def _extend(shifts: list[Shift], piece: Shift) -> None:
    """Append ``piece``, merged into the last shift when it continues it (same person, same origin)."""
    if shifts:
        last = shifts[-1]
        same = (last.user_id, last.origin, last.layer_id, last.override_id) == (
            piece.user_id, piece.origin, piece.layer_id, piece.override_id)  # fmt: skip
        if same and last.end == piece.start:
            shifts[-1] = Shift(last.start, piece.end, last.user_id, last.origin, last.layer_id, last.override_id)
            return
    shifts.append(piece)
