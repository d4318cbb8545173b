"""Hand-off notices that carry the follow-ups, and "you go on call in 24 hours": each once per (schedule, shift,
person), from the final schedule.

``handoffs_plan(now)`` (each tick of the escalation planner's beat task) asks every schedule's final schedule
for the shifts that began in
the last ``LOOKBACK`` (a hand-off: the incoming person gets what is open on the team's services: open
incidents, post-mortems owed, regression tests failing or missing in CI, overdue action items) and for those
beginning ``SOON`` from now, within the same look-back (a "you go on call" notice). ``notifications.notify`` is
keyed on (kind, schedule, shift start, person), so overlapping ticks, two beats or a re-run send each once;
the look-back lets a late or missed tick still send it.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse

from incidents.models import Incident
from notifications.services import notify
from ownership.models import User
from postmortems.selectors import action_items_open, postmortems_owed, postmortems_regression_debt

from .models import Schedule
from .rotation import Shift
from .selectors import schedules_final

LOOKBACK = dt.timedelta(minutes=15)
SOON = dt.timedelta(hours=24)


def follow_ups(team_id: int, *, now: dt.datetime) -> list[str]:
    """Lines saying what is open on the team's plate: incidents, post-mortems owed, red regression tests,
    overdue action items (each with a count and up to three examples)."""
    lines = []
    incidents = Incident.objects.filter(owning_team_id=team_id).exclude(status=Incident.Status.RESOLVED)
    drafts = postmortems_owed(now=now).filter(incident__owning_team_id=team_id)
    red = postmortems_regression_debt(now=now).filter(incident__owning_team_id=team_id, tests_regressed__gt=0)
    overdue = [i for i in action_items_open(now=now).filter(postmortem__incident__owning_team_id=team_id)
               if i.is_overdue]  # fmt: skip
    incidents = list(incidents.order_by("severity", "detected_at")[:50])
    for label, rows, show in (
        ("open incidents", incidents, lambda i: f"{i.public_id} {i.title}"),
        ("post-mortems owed", list(drafts[:50]), lambda p: f"{p.incident.public_id} {p.incident.title}"),
        ("regression tests failing or missing in CI", list(red[:50]), lambda p: p.incident.public_id),
        ("overdue action items", overdue, lambda a: a.title),
    ):  # fmt: skip
        if rows:
            examples = "; ".join(show(r) for r in rows[:3])
            lines.append(f"{len(rows)}{'+' if len(rows) == 50 else ''} {label}: {examples}")
    return lines or ["Nothing open on the team's services."]


def handoffs_plan(*, now: dt.datetime) -> int:
    """Plan the hand-off and "on call in 24 h" notices due at ``now``; returns how many notification rows it made."""
    schedules = Schedule.objects.select_related("team").in_bulk()
    if not schedules:
        return 0
    finals = schedules_final(schedules, start=now - LOOKBACK, end=now + SOON + dt.timedelta(minutes=1))
    made, open_by_team = 0, {}
    people = User.objects.in_bulk({s.user_id for f in finals.values() for s in f.shifts if s.user_id})
    for pk, final in finals.items():
        schedule = schedules[pk]
        for index, shift in enumerate(final.shifts):
            person = people.get(shift.user_id)
            if person is None or (index > 0 and final.shifts[index - 1].user_id == shift.user_id):
                continue  # nobody, or the same person carrying on (a merge cut by the window's edges)
            if now - LOOKBACK < shift.start <= now:
                if schedule.team_id not in open_by_team:
                    open_by_team[schedule.team_id] = follow_ups(schedule.team_id, now=now)
                made += _send("handoff", schedule, shift, person, open_by_team[schedule.team_id])
            elif now + SOON - LOOKBACK < shift.start <= now + SOON:
                made += _send("soon", schedule, shift, person, [])
    return made


def _send(kind: str, schedule: Schedule, shift: Shift, person: User, lines: list[str]) -> int:
    url = settings.SREDESK_BASE_URL + reverse("oncall:schedule", args=[schedule.slug])
    window = f"{shift.start:%Y-%m-%d %H:%M} UTC to {shift.end:%Y-%m-%d %H:%M} UTC"
    if kind == "handoff":
        subject = f"You are on call for {schedule.name} now"
        text = "\n".join([f"{subject}: {window} (at least; see the schedule).", "Open on the team's services:", *lines])
    else:
        subject = f"You go on call for {schedule.name} in 24 hours"
        text = f"{subject}: {window}."
    return notify(key=f"oncall-{kind}:{schedule.pk}:{shift.start:%Y%m%dT%H%M%S}:{person.pk}", topic=schedule.slug,
                  subject=subject, text=text, url=url, slack=[person.slack_user_id],
                  outbox=[f"user:{person.username}"], email=[person.email])  # fmt: skip
