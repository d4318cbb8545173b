"""The sweep at any size: bounded statements, chunks that fail alone, and a sweep backlog that skips nothing silently.

PostgreSQL refuses a statement with more than 65,535 parameters; the sweep used to bind one per due
post-mortem. Here the chunk size is lowered (``SREDESK_REMINDER_PLAN_CHUNK``) so that a few dozen post-mortems
span many chunks; ``bench/sweep.py --scale 10`` plans 100,000 due reminders at the real size.
"""

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from incidents.models import Incident
from notifications.models import OutboxMessage
from ownership.models import Membership, User
from postmortems import reminders
from postmortems.models import PostMortem, Reminder, ReminderDelivery
from postmortems.reminders import planning
from tests.factories import MembershipFactory, PostMortemFactory, TeamFactory

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def due_postmortems(count: int, *, now: dt.datetime, first: int = 0) -> list[PostMortem]:
    """``count`` post-mortems published a minute before ``now``, each with its own owner (awake around the clock)."""
    team = TeamFactory()
    MembershipFactory(team=team, role=Membership.Role.LEAD)
    owners = User.objects.bulk_create(
        User(
            username=f"owner{i}",
            email=f"owner{i}@example.test",
            work_start=dt.time(0),
            work_end=dt.time(0),
            working_days="1234567",
        )
        for i in range(first, first + count)
    )
    began = now - 3 * DAY
    incidents = Incident.objects.bulk_create(
        Incident(
            title=f"Outage {i}",
            severity=2,
            status=Incident.Status.RESOLVED,
            started_at=began,
            detected_at=began,
            resolved_at=began + dt.timedelta(hours=1),
            owning_team=team,
        )
        for i in range(first, first + count)
    )
    return PostMortem.objects.bulk_create(
        PostMortem(
            incident=incident,
            owner=owner,
            status=PostMortem.Status.PUBLISHED,
            due_at=now + 5 * DAY,
            published_at=now - dt.timedelta(minutes=1),
        )
        for incident, owner in zip(incidents, owners, strict=True)
    )


@contextmanager
def statement_sizes() -> Iterator[list[int]]:
    """The number of bound parameters of every statement run inside (an array counts as one)."""
    sizes: list[int] = []

    def record(execute, sql, params, many, context):
        sizes.append(len(params or ()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield sizes


def test_no_planning_statement_grows_with_the_number_of_due_postmortems(settings):
    """The largest statement of a sweep (and of "send reminder now") binds as many parameters for 60 due
    post-mortems as for 12: nothing is bound once per post-mortem, so no backlog reaches PostgreSQL's 65,535."""
    settings.SREDESK_REMINDER_PLAN_CHUNK = 5
    now = timezone.now()
    due_postmortems(12, now=now)
    with statement_sizes() as small:
        assert reminders.reminders_plan_due(now=now) == 12
    Reminder.objects.all().delete()
    later = due_postmortems(48, now=now, first=12)
    with statement_sizes() as large:
        assert reminders.reminders_plan_due(now=now) == 60
    assert ReminderDelivery.objects.filter(status="pending").count() == 60
    assert max(large) == max(small), f"largest statement: {max(small)} parameters for 12, {max(large)} for 60"

    Reminder.objects.filter(postmortem__in=later).delete()
    with statement_sizes() as now_sizes:
        result = reminders.reminders_send_now(postmortem_ids=[pm.pk for pm in later], now=now)
    assert (result.planned, result.queued) == (48, 48)
    assert max(now_sizes) < len(later), "a statement of send-now binds a parameter per post-mortem"


def test_a_chunk_that_fails_does_not_stop_the_others(settings, monkeypatch, caplog):
    """One post-mortem whose planning raises (here: its owner cannot be reached by any rule) costs only its own
    reminder: every other due post-mortem, in its chunk and the following ones, is planned; the failure is
    logged and counted, and the next sweep plans it once the cause is gone."""
    settings.SREDESK_REMINDER_PLAN_CHUNK = 4
    now = timezone.now()
    postmortems = due_postmortems(10, now=now)
    broken = postmortems[5]
    real = planning.person_reach

    def person_reach(person):
        if person.pk == broken.owner_id:
            raise ValueError("this person's channels cannot be read")
        return real(person)

    monkeypatch.setattr(planning, "person_reach", person_reach)
    with caplog.at_level(logging.ERROR), time_machine.travel(now, tick=False):
        result = reminders.reminders_sweep(now=now)

    assert (result.planned, result.failed) == (9, 1)
    assert set(Reminder.objects.values_list("postmortem_id", flat=True)) == {pm.pk for pm in postmortems} - {broken.pk}
    assert f"post-mortem {broken.pk} failed" in caplog.text
    assert reminders.sweep_figures()["oldest_failed_due_at"] == now - dt.timedelta(minutes=1)

    monkeypatch.setattr(planning, "person_reach", real)
    with time_machine.travel(now + dt.timedelta(minutes=1), tick=False):
        result = reminders.reminders_sweep(now=now + dt.timedelta(minutes=1))
    assert (result.planned, result.failed) == (1, 0)
    assert Reminder.objects.count() == 10


def sweep(capture, now: dt.datetime) -> reminders.SweepResult:
    with time_machine.travel(now, tick=False), capture(execute=True):
        return reminders.reminders_sweep(now=now)


def test_after_a_sweep_backlog_every_due_step_is_sent_or_recorded_as_superseded(django_capture_on_commit_callbacks):
    """Beat ticks expire while the workers are down for four days (``expires`` drops them). The first sweep after
    sends each debt's latest step, and records every step that fell due in the gap, the first reminder of a
    post-mortem published during the outage included, as superseded with the reason: none is skipped silently."""
    t0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    around_the_clock = {"work_start": dt.time(0), "work_end": dt.time(0), "working_days": "1234567"}
    before = PostMortemFactory(published=True, published_at=t0 - dt.timedelta(minutes=5), owner__username="before")
    during = PostMortemFactory(published=True, published_at=t0 + dt.timedelta(hours=1), owner__username="during")
    late = PostMortemFactory(published=True, published_at=t0 + 4 * DAY - dt.timedelta(hours=1))
    User.objects.update(**around_the_clock)

    sweep(django_capture_on_commit_callbacks, t0)  # the last sweep before the outage: before's first reminder
    result = sweep(django_capture_on_commit_callbacks, t0 + 4 * DAY)  # the first one after it

    def ledger(postmortem: PostMortem) -> list[tuple[int, str, str]]:
        return sorted(
            (d.reminder.step, d.status, d.last_error)
            for d in ReminderDelivery.objects.filter(reminder__postmortem=postmortem, recipient_user=postmortem.owner)
        )

    gap = "while no reminder sweep ran (none between 2026-03-02 12:00 and 2026-03-06 12:00 UTC)"
    assert ledger(before) == [
        (0, "sent", ""),
        (1, "skipped", f"superseded by reminder step 3: step 2 fell due at 2026-03-03 11:55 UTC {gap}"),
        (2, "sent", ""),
    ]
    assert ledger(during) == [
        (0, "skipped", f"superseded by reminder step 3: step 1 fell due at 2026-03-02 13:00 UTC {gap}"),
        (1, "skipped", f"superseded by reminder step 3: step 2 fell due at 2026-03-03 13:00 UTC {gap}"),
        (2, "sent", ""),
    ]
    assert ledger(late) == [(0, "sent", "")]
    assert (result.planned, result.superseded) == (3, 3)
    # The reminder that went out does not pretend earlier ones reached the owner.
    during_text = OutboxMessage.objects.get(recipient="user:during").text
    assert "(reminder" not in during_text
    assert "(reminder 2)" in OutboxMessage.objects.filter(recipient="user:before").latest("id").text
