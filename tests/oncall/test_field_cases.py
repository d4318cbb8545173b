"""BR-21 (hand-offs across DST) and BR-34 (every answer from one final schedule), as FIELD-CASES gives them."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from oncall.models import Override
from oncall.rotation import LayerSpec, MemberSpec, OverrideSpec, ScheduleSpec, final_schedule
from oncall.selectors import on_call_at, schedule_final
from oncall.services import member_add, override_create
from oncall.swaps import swap_ask, swap_take
from tests.factories import LayerFactory, ScheduleFactory, UserFactory

UTC = dt.UTC
CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
EPOCH = dt.datetime(2000, 1, 1, tzinfo=UTC)


def local(zone, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)


def br21_spec() -> ScheduleSpec:
    members = (MemberSpec(1, 0, EPOCH, id=1), MemberSpec(2, 1, EPOCH, id=2))  # oncall-1, oncall-2
    layer = LayerSpec(id=1, anchor_date=dt.date(2024, 10, 7), handoff_time=dt.time(9), turn_unit="weeks",
                      turn_length=1, members=members)  # fmt: skip
    return ScheduleSpec(timezone="America/Chicago", layers=(layer,))


@pytest.mark.parametrize(
    ("wall", "user_id"),
    [
        ((2024, 11, 4, 8, 30), 2),
        ((2024, 11, 4, 8, 59), 2),
        ((2024, 11, 4, 9, 0), 1),
        ((2024, 11, 4, 9, 30), 1),
        ((2025, 3, 10, 8, 59), 2),
        ((2025, 3, 10, 9, 0), 1),
    ],
)
def test_br21_hand_off_at_nine_local_before_and_after_dst(wall, user_id):
    at = local(CHICAGO, *wall)
    final = final_schedule(br21_spec(), at - dt.timedelta(days=1), at + dt.timedelta(days=1))
    assert final.at(at).user_id == user_id
    assert final.gaps == []


def test_br21_the_shifts_spanning_the_changes_last_169_and_167_hours():
    final = final_schedule(br21_spec(), local(CHICAGO, 2024, 10, 7, 9), local(CHICAGO, 2025, 3, 24, 9))
    lengths = {s.start.astimezone(CHICAGO).date(): s.seconds / 3600 for s in final.shifts}
    assert lengths[dt.date(2024, 10, 28)] == 169  # across 3 November (CDT to CST)
    assert lengths[dt.date(2025, 3, 3)] == 167  # across 9 March (CST to CDT)
    assert {v for d, v in lengths.items() if d not in (dt.date(2024, 10, 28), dt.date(2025, 3, 3))} == {168}
    for shift in final.shifts:  # every hand-off Monday 09:00 local; exactly one person at every instant
        assert shift.start.astimezone(CHICAGO).strftime("%a %H:%M") == "Mon 09:00"
        assert shift.user_id in (1, 2)
    assert all(a.end == b.start and a.user_id != b.user_id for a, b in zip(final.shifts, final.shifts[1:]))


@pytest.fixture
def br34(db):
    """payments-primary in Berlin, weekly [U-A, U-B, U-C] from Monday 2026-03-02 09:00, S1 and O1, set up the day
    before, through the services."""
    before = local(BERLIN, 2026, 3, 1, 12)
    people = {name: UserFactory(username=name) for name in ("U-A", "U-B", "U-C", "U-D")}
    schedule = ScheduleFactory(name="payments-primary", slug="payments-primary", timezone="Europe/Berlin")
    layer = LayerFactory(schedule=schedule, anchor_date=dt.date(2026, 3, 2), handoff_time=dt.time(9))
    for name in ("U-A", "U-B", "U-C"):
        member_add(layer_id=layer.pk, user=people[name], actor=None, now=before)
    # S1 is a swap: U-A asks for the end of their week, U-C takes it (an override of origin "swap")
    asked = swap_ask(schedule_id=schedule.pk, actor=people["U-A"], now=before, note="swap S1",
                     start=local(BERLIN, 2026, 3, 9, 5), end=local(BERLIN, 2026, 3, 9, 9))  # fmt: skip
    s1 = swap_take(swap_id=asked.pk, actor=people["U-C"], now=before).override
    o1 = override_create(schedule_id=schedule.pk, user=people["U-D"], actor=None, now=before,
                         start=local(BERLIN, 2026, 3, 11, 18), end=local(BERLIN, 2026, 3, 12, 9))  # fmt: skip
    ids = {name: person.pk for name, person in people.items()}
    return schedule, ids, s1, o1


def test_br34_the_override_is_who_is_on_call_and_who_is_next(br34):
    schedule, ids, _, o1 = br34
    final = schedule_final(schedule, start=local(BERLIN, 2026, 3, 2, 9), end=local(BERLIN, 2026, 3, 16, 9))
    at = local(BERLIN, 2026, 3, 11, 20)
    assert (final.at(at).user_id, final.at(at).override_id) == (ids["U-D"], o1.pk)
    assert final.at(dt.datetime(2026, 3, 11, 19, tzinfo=UTC)).user_id == ids["U-D"]
    now, upcoming = on_call_at([schedule.pk], local(BERLIN, 2026, 3, 11, 17))[schedule.pk]
    assert now.user_id == ids["U-B"]
    assert (upcoming.user_id, upcoming.start) == (ids["U-D"], local(BERLIN, 2026, 3, 11, 18))


def test_br34_the_week_shows_the_swap_and_the_override(br34):
    schedule, ids, s1, o1 = br34
    final = schedule_final(schedule, start=local(BERLIN, 2026, 3, 2, 9), end=local(BERLIN, 2026, 3, 16, 9))
    names = {pk: name for name, pk in ids.items()}
    shown = [(names[s.user_id], s.start.astimezone(BERLIN).strftime("%m-%d %H:%M"), s.origin) for s in final.shifts]
    assert shown == [
        ("U-A", "03-02 09:00", "layer"),
        ("U-C", "03-09 05:00", "swap"),  # the swap: U-A's shift ends at 05:00
        ("U-B", "03-09 09:00", "layer"),
        ("U-D", "03-11 18:00", "override"),
        ("U-B", "03-12 09:00", "layer"),
    ]
    assert final.shifts[-1].end == local(BERLIN, 2026, 3, 16, 9)
    assert [s.override_id for s in final.shifts if s.override_id] == [s1.pk, o1.pk]
    layer_shifts = next(iter(final.layers.values()))  # the layer alone still says U-B all week
    assert [(names[s.user_id], s.start.astimezone(BERLIN).day) for s in layer_shifts] == [("U-A", 2), ("U-B", 9)]
    assert Override.objects.count() == 2


def test_br34_the_swap_is_told_to_both_and_u_c_is_told_of_05_00(br34):
    """Point 7: U-A and U-C were told when S1 was taken (what each lost and gained), and U-C gets "you go on call"
    for 05:00 the day before; U-A's hand-off notice is not sent at 09:00 (their shift ended at 05:00)."""
    from notifications.models import Notification
    from oncall.handoffs import handoffs_plan

    changed = Notification.objects.filter(channel="outbox", dedup_key__startswith="oncall-changed:").order_by("id")
    rows = changed.filter(dedup_key__contains=":20260309T040000:20260309T080000:")  # S1's window (the members' own
    # notices, from setting the rotation up, come before)
    assert [(n.address, n.text.split(": ", 1)[1].split(" See")[0]) for n in rows] == [
        ("user:U-A", "you are no longer on call from 2026-03-09 04:00 UTC to 2026-03-09 08:00 UTC."),
        ("user:U-C", "you are now on call from 2026-03-09 04:00 UTC to 2026-03-09 08:00 UTC."),
    ]
    handoffs_plan(now=local(BERLIN, 2026, 3, 8, 5, 5))
    soon = Notification.objects.filter(channel="outbox", dedup_key__startswith="oncall-soon:")
    assert [(n.address, n.subject) for n in soon] == [("user:U-C", "You go on call for payments-primary in 24 hours")]
    # from 05:00 local (its end lies past the planner's 24-hour window: not made up from the window's edge)
    assert soon.get().text == "You go on call for payments-primary in 24 hours: 2026-03-09 04:00 UTC."


def test_br34_a_person_removed_from_a_window_leaves_a_gap_that_is_said():
    members = (MemberSpec(7, 0, EPOCH, id=1),)
    layer = LayerSpec(id=1, anchor_date=dt.date(2026, 3, 2), handoff_time=dt.time(9), turn_unit="days",
                      turn_length=1, members=members)  # fmt: skip
    away = OverrideSpec(1, "remove", 7, local(BERLIN, 2026, 3, 4, 12), local(BERLIN, 2026, 3, 4, 14))
    final = final_schedule(ScheduleSpec("Europe/Berlin", (layer,), (away,)), local(BERLIN, 2026, 3, 4, 0),
                           local(BERLIN, 2026, 3, 5, 0))  # fmt: skip
    assert [(s.user_id, s.origin, s.start.astimezone(BERLIN).hour) for s in final.shifts] == [
        (7, "layer", 0), (None, "gap", 12), (7, "layer", 14)]  # fmt: skip
