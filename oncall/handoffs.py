"""Hand-off notices that carry the follow-ups, and "you go on call in 24 hours": each once per (schedule, shift,
person), from the final schedule.

``handoffs_plan(now)`` (each tick of the escalation planner's beat task) asks every schedule's final schedule
for the shifts that began in
the last ``LOOKBACK`` (a hand-off: the incoming person gets what is open on the team's services: open
incidents, post-mortems owed, regression tests failing or missing in CI, overdue action items) and for those
beginning ``SOON`` from now, within the same look-back (a "you go on call" notice). ``notifications.notify`` is
keyed on (kind, schedule, shift start, person), so overlapping ticks, two beats or a re-run send each once;
the look-back lets a late or missed tick still send it.

The outgoing person's note (``handoff_note_add``, while they are on call or within ``SOON`` of it) rides on the
hand-off notice of whoever takes over from them next: the notice carries the author's pending notes and marks
them handed over.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident
from notifications.services import notify
from ownership.models import User
from ownership.permissions import require_write
from postmortems.selectors import action_items_open, postmortems_owed, postmortems_regression_debt

from .models import HandoffNote, Schedule
from .rotation import Shift
from .selectors import schedule_final, schedules_final

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
                outgoing = final.shifts[index - 1].user_id if index > 0 else None
                notes = _notes_carried(schedule, outgoing, shift.start)
                made += _send("handoff", schedule, shift, person, open_by_team[schedule.team_id], notes)
                HandoffNote.objects.filter(pk__in=[n.pk for n in notes], handed_over_at__isnull=True).update(
                    handed_over_at=shift.start
                )
            elif now + SOON - LOOKBACK < shift.start <= now + SOON:
                # the window ends a minute after the 24 h mark: the shift's end is known only when it ends sooner
                made += _send("soon", schedule, shift, person, [], ends_known=shift.end < final.end)
    return made


def _notes_carried(schedule: Schedule, outgoing: int | None, handoff: dt.datetime) -> list[HandoffNote]:
    """The outgoing person's notes for this hand-off: pending ones written before it (or already carried by it,
    for a repeated tick)."""
    if outgoing is None:
        return []
    rows = HandoffNote.objects.filter(schedule=schedule, author_id=outgoing, created_at__lte=handoff).select_related(
        "author"
    )
    return list(rows.filter(handed_over_at__isnull=True) | rows.filter(handed_over_at=handoff))


def handoff_due(schedule: Schedule | int, user_id: int, *, now: dt.datetime) -> dt.datetime | None:
    """When ``user_id`` next hands off ``schedule``: the end of their shift under way, or of one beginning within
    ``SOON`` (consecutive pieces of theirs count as one), from the final schedule of 14 days; None otherwise."""
    final = schedule_final(schedule, start=now, end=now + dt.timedelta(days=14))
    mine = None
    for shift in final.shifts:
        if mine is None:
            if shift.user_id == user_id and shift.start <= now + SOON:
                mine = shift
        elif shift.user_id == user_id and shift.start == mine.end:
            mine = Shift(mine.start, shift.end, user_id, mine.origin)
        else:
            break
    return mine.end if mine else None


@transaction.atomic
def handoff_note_add(*, schedule_id: int, actor: User | None, text: str, now: dt.datetime | None = None) -> HandoffNote:
    """The actor's note for whoever takes over from them next on the schedule (up to 4,000 characters).

    Raises ValidationError (``schedule``) unless the final schedule has the actor on call now or within 24 hours,
    (``text``) for an empty or long text; PermissionDenied for nobody signed in.
    """
    now = now or timezone.now()
    schedule = Schedule.objects.get(pk=schedule_id)
    if actor is None or not actor.is_authenticated:
        raise ValidationError({"author": "A hand-off note is a person's own: sign in."})
    note = HandoffNote(schedule=schedule, author=actor, text=(text or "").strip(), handoff_at=now, created_at=now)
    require_write(actor, note)
    due = handoff_due(schedule, actor.pk, now=now)
    if due is None:
        raise ValidationError({"schedule": f"You are not on call for {schedule.name} now or within 24 hours: "
                                           "the note is the outgoing person's."})  # fmt: skip
    note.handoff_at = due
    note.full_clean()
    note.save()
    return note


def _send(kind: str, schedule: Schedule, shift: Shift, person: User, lines: list[str],
          notes: list[HandoffNote] = (), *, ends_known: bool = True) -> int:  # fmt: skip
    url = settings.SREDESK_BASE_URL + reverse("oncall:schedule", args=[schedule.slug])
    window = f"{shift.start:%Y-%m-%d %H:%M} UTC" + (f" to {shift.end:%Y-%m-%d %H:%M} UTC" if ends_known else "")
    if kind == "handoff":
        subject = f"You are on call for {schedule.name} now"
        said = [f"Note from {note.author} (going off call): {note.text}" for note in notes]
        text = "\n".join([f"{subject}: {window} (at least; see the schedule).", *said, "Open on the team's services:",
                          *lines])  # fmt: skip
    else:
        subject = f"You go on call for {schedule.name} in 24 hours"
        text = f"{subject}: {window}."
    return notify(key=f"oncall-{kind}:{schedule.pk}:{shift.start:%Y%m%dT%H%M%S}:{person.pk}", topic=schedule.slug,
                  subject=subject, text=text, url=url, slack=[person.slack_user_id],
                  outbox=[f"user:{person.username}"], email=[person.email])  # fmt: skip
