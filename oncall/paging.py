"""Who is paged for a service at an instant: its ``paged`` responsibility, asked of the final schedule when it
names a schedule. Paging (``incidents.effects.paged_person``), ``GET /api/v1/oncall/`` and the service page use
these functions, so they agree with the schedule page and with each other (BR-34).

Queries are flat in the number of services and schedules: the responsibilities (with their users, teams and
team leads) in three queries, every named schedule's final schedule in four (``oncall.selectors``), the people
on call in one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch

from ownership.models import Membership, Responsibility, Service, User

from .models import Schedule
from .rotation import Shift
from .selectors import on_call_at

AHEAD = dt.timedelta(days=14)  # how far "next" looks


@dataclass
class Paged:
    """The answer for one service (or one schedule): ``source`` is schedule / person / team / none."""

    service: Service | None
    schedule: Schedule | None
    at: dt.datetime
    source: str
    person: User | None
    shift: Shift | None = None
    next: Shift | None = None
    next_person: User | None = None


def _responsibilities(service_ids: list[int]) -> dict[int, Responsibility]:
    rows = Responsibility.objects.filter(service_id__in=service_ids, role=Responsibility.Role.PAGED).select_related(
        "user", "team", "schedule"
    )
    rows = rows.prefetch_related(Prefetch("team__memberships", Membership.objects.select_related("user")))
    return {r.service_id: r for r in rows}


def paged_for_services(services: list[Service], at: dt.datetime) -> list[Paged]:
    """For each of ``services`` (in order): who is paged at ``at``, and where that comes from."""
    by_service = _responsibilities([s.pk for s in services])
    schedule_ids = {r.schedule_id for r in by_service.values() if r.schedule_id}
    answers = on_call_at(schedule_ids, at, ahead=AHEAD)
    people = _people(answers)
    out = []
    for service in services:
        responsibility = by_service.get(service.pk)
        if responsibility is None:
            out.append(Paged(service, None, at, "none", None))
        elif responsibility.schedule_id:
            out.append(_from_schedule(service, responsibility.schedule, at, answers, people))
        elif responsibility.user_id:
            out.append(Paged(service, None, at, "person", responsibility.user))
        else:
            out.append(Paged(service, None, at, "team", responsibility.team.lead))
    return out


def paged_for_schedule(schedule: Schedule, at: dt.datetime) -> Paged:
    """Who a page to ``schedule``'s on-call reaches at ``at``."""
    answers = on_call_at([schedule.pk], at, ahead=AHEAD)
    return _from_schedule(None, schedule, at, answers, _people(answers))


def paged_person(service_id: int, at: dt.datetime) -> User | None:
    """The person paged for the service at ``at`` (None: nobody, or a gap in its schedule)."""
    service = Service.objects.filter(pk=service_id).first()
    return paged_for_services([service], at)[0].person if service else None


def _people(answers) -> dict[int, User]:
    ids = {s.user_id for pair in answers.values() for s in pair if s is not None and s.user_id is not None}
    return User.objects.in_bulk(ids) if ids else {}


def _from_schedule(service, schedule, at, answers, people) -> Paged:
    shift, upcoming = answers.get(schedule.pk, (None, None))
    person = people.get(shift.user_id) if shift and shift.user_id else None
    following = people.get(upcoming.user_id) if upcoming else None
    return Paged(service, schedule, at, "schedule", person, shift, upcoming, following)
