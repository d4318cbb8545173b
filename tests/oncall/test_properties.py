"""The final schedule against an independent oracle, over random layers, restrictions, overrides and DST zones.

The oracle shares no code with ``oncall.rotation`` or ``ownership.hours``: it
answers "who is on call at t" for one instant from the rules as the module
docstring states them. A hand-off instant is found by trying every UTC offset
the zone uses within two days (the readings of the wall time), and for a wall
time the clock skips by walking UTC minute by minute to the first minute whose
reading is later. The turn containing t is the largest k whose hand-off is at
or before t. Windows are placed around each zone's 2026 DST changes, hand-off
times and restrictions on the hours those changes skip or repeat.

Checked at every shift's edges and on a 10-minute grid: the final schedule
names exactly whom the rules name (or says gap), with the right origin; its
shifts cover the window end to end without overlapping; each layer's shifts
never overlap.
"""

import datetime as dt
import functools
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall.rotation import UNIT_STEPS, LayerSpec, MemberSpec, OverrideSpec, ScheduleSpec, final_schedule

UTC = dt.UTC
EPOCH = dt.datetime(2000, 1, 1, tzinfo=UTC)
MINUTE = dt.timedelta(minutes=1)
ZONES = ["Europe/Berlin", "America/Chicago", "Australia/Sydney", "Australia/Lord_Howe", "America/Santiago",
         "Europe/London", "UTC"]  # fmt: skip
# Each zone's 2026 changes, found by the oracle's own hourly walk (UTC has none: a plain window in June).
HOURS_2026 = [dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(hours=h) for h in range(365 * 24)]


@functools.cache
def changes(zone_name: str) -> list[dt.datetime]:
    zone = ZoneInfo(zone_name)
    found = [
        b for a, b in itertools.pairwise(HOURS_2026) if a.astimezone(zone).utcoffset() != b.astimezone(zone).utcoffset()
    ]
    return found or [dt.datetime(2026, 6, 15, tzinfo=UTC)]


@functools.cache
def hand_off(wall: dt.datetime, zone_name: str) -> dt.datetime:
    """The first instant the clock of ``zone_name`` reads ``wall`` (naive) or later."""
    zone = ZoneInfo(zone_name)
    as_utc = wall.replace(tzinfo=UTC)
    offsets = {(as_utc + dt.timedelta(hours=h)).astimezone(zone).utcoffset() for h in range(-48, 49)}
    readings = [as_utc - o for o in offsets if (as_utc - o).astimezone(zone).replace(tzinfo=None) == wall]
    if readings:
        return min(readings)
    t = min(as_utc - o for o in offsets)
    while t.astimezone(zone).replace(tzinfo=None) < wall:
        t += dt.timedelta(minutes=1)
    return t


def restricted_out(layer: LayerSpec, local: dt.datetime) -> bool:
    if layer.restrict_start is None:
        return False
    day, yesterday, now = local.isoweekday(), (local.isoweekday() + 5) % 7 + 1, local.time()
    start, end, days = layer.restrict_start, layer.restrict_end, layer.restrict_days
    if start == end:
        inside = day in days
    elif start < end:
        inside = day in days and start <= now < end
    else:
        inside = (day in days and now >= start) or (yesterday in days and now < end)
    return not inside


def layer_names(spec: ScheduleSpec, layer: LayerSpec, t: dt.datetime) -> int | None:
    zone = ZoneInfo(spec.timezone)
    local = t.astimezone(zone)
    if restricted_out(layer, local):
        return None
    anchor = dt.datetime.combine(layer.anchor_date, layer.handoff_time)
    step = UNIT_STEPS[layer.turn_unit] * layer.turn_length
    guess = (local.replace(tzinfo=None) - anchor) // step
    turns = [k for k in range(guess - 3, guess + 4) if k >= 0 and hand_off(anchor + k * step, spec.timezone) <= t]
    if not turns:
        return None
    members = [m for m in layer.members if m.active_from <= t and (m.active_until is None or t < m.active_until)]
    members.sort(key=lambda m: (m.position, m.id))
    if not members:
        return None
    user = members[max(turns) % len(members)].user_id
    if any(o.kind == "remove" and o.user_id == user and o.start <= t < o.end for o in spec.overrides):
        return None
    return user


def oracle(spec: ScheduleSpec, t: dt.datetime) -> tuple[int | None, str, int | None]:
    takes = [o for o in spec.overrides if o.kind == "take" and o.start <= t < o.end]
    if takes:
        latest = max(takes, key=lambda o: o.id)
        return latest.user_id, latest.source, latest.id
    for layer in sorted(spec.layers, key=lambda la: (-la.priority, la.id)):
        user = layer_names(spec, layer, t)
        if user is not None:
            return user, "layer", layer.id
    return None, "gap", None


@st.composite
def schedules(draw):
    zone = draw(st.sampled_from(ZONES))
    change = draw(st.sampled_from(changes(zone)))
    start = change - dt.timedelta(minutes=30 * draw(st.integers(0, 144)))
    end = start + dt.timedelta(minutes=30 * draw(st.integers(2, 192)))
    local_start = start.astimezone(ZoneInfo(zone)).date()
    minutes = st.integers(0, 4 * 96).map(lambda n: start + dt.timedelta(minutes=30 * n))
    # Wall times the change skips or repeats, and around them, half the time.
    wall = (change - dt.timedelta(minutes=1)).astimezone(ZoneInfo(zone)).replace(tzinfo=None) + dt.timedelta(minutes=1)
    hot = sorted({(wall + dt.timedelta(minutes=m)).time() for m in range(-90, 91, 30)})
    clock = st.one_of(st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 30])), st.sampled_from(hot))
    layers = []
    for layer_id in range(1, draw(st.integers(1, 3)) + 1):
        unit = draw(st.sampled_from(["hours", "days", "weeks"]))
        members = []
        for member_id in range(draw(st.integers(0, 4))):
            since = draw(st.one_of(st.just(EPOCH), minutes))
            until = draw(
                st.one_of(st.none(), st.integers(1, 96).map(lambda h, s=since: max(s, start) + dt.timedelta(hours=h)))
            )
            members.append(
                MemberSpec(draw(st.integers(1, 5)), draw(st.integers(0, 3)), since, until, member_id + 10 * layer_id)
            )
        restricted = draw(st.booleans())
        opens = draw(clock)
        closes = draw(st.one_of(clock, st.just(opens)))  # equal: the whole of each listed day
        layer = LayerSpec(
            id=layer_id,
            anchor_date=local_start + dt.timedelta(days=draw(st.integers(-30, 2))),
            handoff_time=draw(clock),
            turn_unit=unit,
            turn_length=draw(st.integers(1, 12 if unit == "hours" else 3)),
            priority=draw(st.integers(0, 2)),
            members=tuple(members),
            restrict_days=frozenset(draw(st.sets(st.integers(1, 7), min_size=1))) if restricted else frozenset(),
            restrict_start=opens if restricted else None,
            restrict_end=closes if restricted else None,
        )  # fmt: skip
        layers.append(layer)
    overrides = []
    for override_id in range(1, draw(st.integers(0, 3)) + 1):
        begin = draw(minutes)
        kind = draw(st.sampled_from(["take", "remove"]))
        # A taken swap is a take override of the taker's whose origin says "swap".
        source = draw(st.sampled_from(["override", "swap"])) if kind == "take" else "override"
        overrides.append(OverrideSpec(override_id, kind, draw(st.integers(1, 5)), begin,
                                      begin + dt.timedelta(minutes=30 * draw(st.integers(1, 96))), source))  # fmt: skip
    return ScheduleSpec(timezone=zone, layers=tuple(layers), overrides=tuple(overrides)), start, end


@settings(max_examples=250, deadline=None, derandomize=True)
@given(schedules())
def test_the_final_schedule_names_whom_the_rules_name_at_every_instant(case):
    spec, start, end = case
    final = final_schedule(spec, start, end)

    assert final.shifts[0].start == start and final.shifts[-1].end == end
    for a, b in itertools.pairwise(final.shifts):
        assert a.end == b.start  # end to end: no overlap, no hole (a gap is a shift of its own)
    assert all(s.start < s.end for s in final.shifts)
    for shifts in final.layers.values():
        assert all(s.start < s.end for s in shifts)
        assert all(a.end <= b.start for a, b in itertools.pairwise(shifts))  # never overlapping within a layer

    samples = {start + dt.timedelta(minutes=10 * n) for n in range(int((end - start).total_seconds() // 600) + 1)}
    for shift in final.shifts:
        samples |= {shift.start, shift.end - dt.timedelta(seconds=1)}
    for t in sorted(s for s in samples if start <= s < end):
        shift = final.at(t)
        said = (shift.user_id, shift.origin, shift.override_id if shift.override_id else shift.layer_id)
        assert said == oracle(spec, t), t
        for layer in spec.layers:  # each layer's own shifts say what the layer says
            own = next((s.user_id for s in final.layers[layer.id] if s.covers(t)), None)
            assert own == layer_names(spec, layer, t), (t, layer.id)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(schedules(), st.data())
def test_a_taken_swap_hands_over_exactly_its_window(case, data):
    """A swap of part of someone's shift, taken by another person: inside its window the taker is on call (origin
    swap), outside it the final schedule is what it was, instant by instant, and the oracle agrees everywhere."""
    spec, start, end = case
    before = final_schedule(spec, start, end)
    named = [s for s in before.shifts if s.user_id is not None]
    if not named:
        return
    shift = data.draw(st.sampled_from(named))
    halves = int(shift.seconds // 1800)
    a = shift.start + dt.timedelta(minutes=30 * data.draw(st.integers(0, max(halves - 1, 0))))
    b = data.draw(st.sampled_from(sorted({shift.end, min(shift.end, a + dt.timedelta(minutes=30))})))
    taker = data.draw(st.integers(1, 6).filter(lambda u: u != shift.user_id))
    swap = OverrideSpec(max((o.id for o in spec.overrides), default=0) + 1, "take", taker, a, b, "swap")
    after_spec = ScheduleSpec(spec.timezone, spec.layers, (*spec.overrides, swap))
    after = final_schedule(after_spec, start, end)

    samples = {start + dt.timedelta(minutes=10 * n) for n in range(int((end - start).total_seconds() // 600) + 1)}
    samples |= {a, b, a - dt.timedelta(seconds=1), b - dt.timedelta(seconds=1)}
    for t in sorted(x for x in samples if start <= x < end):
        now, was = after.at(t), before.at(t)
        if a <= t < b:
            assert (now.user_id, now.origin, now.override_id) == (taker, "swap", swap.id), t
        else:
            assert (now.user_id, now.origin, now.override_id, now.layer_id) == (
                was.user_id, was.origin, was.override_id, was.layer_id), t  # fmt: skip
        said = (now.user_id, now.origin, now.override_id if now.override_id else now.layer_id)
        assert said == oracle(after_spec, t), t


@settings(max_examples=100, deadline=None, derandomize=True)
@given(schedules(), st.data())
def test_your_shifts_changed_names_exactly_the_instants_that_changed_hands(case, data):
    """The 'your shifts changed' pieces (``oncall.changes``) between a schedule and the same with one more override:
    at every instant, a person has a 'lost' piece there iff they were on call and are not any more, a 'gained'
    piece iff the reverse."""
    from oncall.changes import changes

    spec, start, end = case
    begin = start + dt.timedelta(minutes=30 * data.draw(st.integers(0, int((end - start) / dt.timedelta(minutes=30)))))
    extra = OverrideSpec(99, data.draw(st.sampled_from(["take", "remove"])), data.draw(st.integers(1, 5)), begin,
                         begin + dt.timedelta(minutes=30 * data.draw(st.integers(1, 96))),
                         data.draw(st.sampled_from(["override", "swap"])))  # fmt: skip
    before = final_schedule(spec, start, end)
    after = final_schedule(ScheduleSpec(spec.timezone, spec.layers, (*spec.overrides, extra)), start, end)
    found = changes(before, after)
    samples = {start + dt.timedelta(minutes=10 * n) for n in range(int((end - start).total_seconds() // 600) + 1)}
    samples |= {s.start for s in before.shifts + after.shifts}
    for t in sorted(x for x in samples if start <= x < end):
        was, now = before.at(t).user_id, after.at(t).user_id
        said = {(user, direction) for user, direction, a, b in found if a <= t < b}
        expected = set() if was == now else {(u, d) for u, d in ((was, "lost"), (now, "gained")) if u is not None}
        assert said == expected, t


def sweep(spec: ScheduleSpec, start: dt.datetime, end: dt.datetime, every: dt.timedelta) -> None:
    final = final_schedule(spec, start, end)
    t = start
    while t < end:
        shift = final.at(t)
        said = (shift.user_id, shift.origin, shift.override_id if shift.override_id else shift.layer_id)
        assert said == oracle(spec, t), t
        t += every


HOT = [(zone, change) for zone in ZONES if zone != "UTC" for change in changes(zone)]


@pytest.mark.parametrize(("zone", "change"), HOT, ids=[f"{z}-{c:%m-%d}" for z, c in HOT])
@pytest.mark.parametrize("unit", ["hours", "days", "weeks"])
def test_every_hand_off_time_around_each_change_against_the_oracle(zone, change, unit):
    """Hand-offs at every half hour from 90 minutes before each 2026 change's wall time to 90 after, each minute."""
    wall = (change - dt.timedelta(minutes=1)).astimezone(ZoneInfo(zone)).replace(tzinfo=None) + dt.timedelta(minutes=1)
    members = tuple(MemberSpec(user, user, EPOCH, id=user) for user in (1, 2, 3))
    for minutes in range(-90, 91, 30):
        handoff = (wall + dt.timedelta(minutes=minutes)).time()
        length = 1 if unit != "hours" else 5
        layer = LayerSpec(id=1, anchor_date=wall.date() - dt.timedelta(days=7), handoff_time=handoff, turn_unit=unit,
                          turn_length=length, members=members)  # fmt: skip
        sweep(ScheduleSpec(zone, (layer,)), change - dt.timedelta(hours=6), change + dt.timedelta(hours=6), MINUTE)


def test_a_whole_day_restriction_changes_at_local_midnight():
    """start == end covers whole listed days: the layer stops at Saturday 00:00 local, not at the hand-off time."""
    weekdays = LayerSpec(id=1, anchor_date=dt.date(2026, 3, 2), handoff_time=dt.time(12), turn_unit="days",
                         turn_length=1, members=(MemberSpec(1, 0, EPOCH, id=1),), restrict_days=frozenset(range(1, 6)),
                         restrict_start=dt.time(12), restrict_end=dt.time(12))  # fmt: skip
    spec = ScheduleSpec("Europe/Berlin", (weekdays,))
    friday = dt.datetime(2026, 3, 6, 12, tzinfo=ZoneInfo("Europe/Berlin"))
    final = final_schedule(spec, friday, friday + dt.timedelta(days=3))
    assert [(s.user_id, s.start.astimezone(ZoneInfo("Europe/Berlin")).strftime("%a %H:%M")) for s in final.shifts] == [
        (1, "Fri 12:00"), (None, "Sat 00:00"), (1, "Mon 00:00")]  # fmt: skip
    sweep(spec, friday, friday + dt.timedelta(days=3), 10 * MINUTE)
