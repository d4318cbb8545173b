"""Members and overrides change only from now on, and only for the schedule's team and staff."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from oncall.models import LayerMember, Override
from oncall.selectors import schedule_final
from oncall.services import member_add, member_end, override_cancel, override_create
from ownership.models import Membership
from sredesk.exceptions import PermissionDenied
from tests.factories import LayerFactory, MembershipFactory, ScheduleFactory, UserFactory

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 4, 12, tzinfo=UTC)  # a Wednesday; the layer hands off Mondays 09:00 Berlin


@pytest.fixture
def layer(db):
    """Weekly from Monday 2026-02-23 09:00 Berlin: ana, then ben (whose turn is under way at NOW)."""
    layer = LayerFactory(schedule=ScheduleFactory(timezone="Europe/Berlin"), anchor_date=dt.date(2026, 2, 23))
    for position, name in enumerate(("ana", "ben")):
        LayerMember.objects.create(layer=layer, user=UserFactory(username=name), position=position,
                                   active_from=NOW - dt.timedelta(days=30))  # fmt: skip
    return layer


def names(layer, start, end):
    final = schedule_final(layer.schedule_id, start=start, end=end)
    users = {m.user_id: m.user.username for m in LayerMember.objects.select_related("user")}
    return [(users.get(s.user_id), s.start) for s in final.shifts]


def test_adding_a_member_starts_at_the_next_hand_off_and_never_rewrites_the_past(layer):
    week = (dt.datetime(2026, 3, 2, 8, tzinfo=UTC), dt.datetime(2026, 3, 30, 7, tzinfo=UTC))  # 09:00 CET to CEST
    before = names(layer, *week)
    cleo = member_add(layer_id=layer.pk, user=UserFactory(username="cleo"), actor=None, now=NOW)
    assert cleo.active_from == dt.datetime(2026, 3, 9, 8, tzinfo=UTC)  # Monday 09:00 CET
    after = names(layer, *week)
    assert after[0] == before[0] == ("ben", week[0])  # the week under way keeps its person
    assert [n for n, _ in before] == ["ben", "ana", "ben", "ana"]
    assert [n for n, _ in after] == ["ben", "cleo", "ana", "ben"]
    with pytest.raises(ValidationError) as caught:
        member_add(layer_id=layer.pk, user=UserFactory(), actor=None, now=NOW, active_from=NOW - dt.timedelta(hours=1))
    assert "active_from" in caught.value.message_dict


def test_ending_a_member_keeps_their_past_turns(layer):
    ben = LayerMember.objects.get(user__username="ben")
    member_end(member_id=ben.pk, actor=None, now=NOW)
    ben.refresh_from_db()
    assert ben.active_until == NOW
    shown = names(layer, dt.datetime(2026, 2, 23, 8, tzinfo=UTC), dt.datetime(2026, 3, 9, 8, tzinfo=UTC))
    assert shown == [  # his turn is his until now; from now on the layer is ana alone
        ("ana", dt.datetime(2026, 2, 23, 8, tzinfo=UTC)),
        ("ben", dt.datetime(2026, 3, 2, 8, tzinfo=UTC)),
        ("ana", NOW),
    ]


def test_overrides_are_refused_in_the_past_and_withdrawn_without_rewriting_it(layer):
    dana = UserFactory(username="dana")
    with pytest.raises(ValidationError) as caught:
        override_create(schedule_id=layer.schedule_id, user=dana, actor=None, now=NOW,
                        start=NOW - dt.timedelta(hours=2), end=NOW + dt.timedelta(hours=2))  # fmt: skip
    assert "start" in caught.value.message_dict
    ongoing = override_create(schedule_id=layer.schedule_id, user=dana, actor=None, now=NOW,
                              start=NOW, end=NOW + dt.timedelta(hours=4))  # fmt: skip
    later = NOW + dt.timedelta(hours=1)
    assert override_cancel(override_id=ongoing.pk, actor=None, now=later).end == later
    future = override_create(schedule_id=layer.schedule_id, user=dana, actor=None, now=NOW,
                             start=NOW + dt.timedelta(days=1), end=NOW + dt.timedelta(days=2))  # fmt: skip
    assert override_cancel(override_id=future.pk, actor=None, now=later) is None
    assert list(Override.objects.values_list("end", flat=True)) == [later]
    with pytest.raises(ValidationError):
        override_cancel(override_id=ongoing.pk, actor=None, now=NOW + dt.timedelta(days=1))


def test_only_the_schedules_team_and_staff_may_change_it(layer):
    outsider, member, staff = UserFactory(), UserFactory(), UserFactory(is_staff=True)
    MembershipFactory(team=layer.schedule.team, user=member, role=Membership.Role.MEMBER)
    window = {"start": NOW + dt.timedelta(days=1), "end": NOW + dt.timedelta(days=2), "now": NOW}
    with pytest.raises(PermissionDenied):
        override_create(schedule_id=layer.schedule_id, user=outsider, actor=outsider, **window)
    with pytest.raises(PermissionDenied):
        member_add(layer_id=layer.pk, user=outsider, actor=outsider, now=NOW)
    assert override_create(schedule_id=layer.schedule_id, user=member, actor=member, **window).created_by == member
    assert member_add(layer_id=layer.pk, user=staff, actor=staff, now=NOW).user == staff
