"""'Your shifts changed': when a write alters who is on call in the next 14 days, each person whose time on call
changed is told, once per (schedule, changed piece of a shift, person).

Every write that can change a final schedule (an override made or withdrawn, a swap taken, a place in a layer
added or ended; from the API, the web or the admin) runs inside ``shifts_watched(schedule_id)``: the final
schedule of [now, now + ``AHEAD``) is computed before and after (one function, ``oncall.rotation``), each
person's time on call is merged across layers, overrides and swaps, and the differences are what they gained
and lost. A person who keeps the same hours (a layer's shift becoming an override of their own) hears nothing.
The notices are ``notifications.notify`` rows written in the write's transaction (so a refused write tells
nobody), keyed on (schedule, piece start, piece end, person, gained/lost) and the write's instant: one notice per
changed piece of a shift and person for each write, and a later write that changes the same piece again (an
override withdrawn) is news again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from notifications.services import notify
from ownership.models import User

from .models import Schedule
from .rotation import FinalSchedule
from .selectors import schedule_final

AHEAD = dt.timedelta(days=14)

Intervals = list[tuple[dt.datetime, dt.datetime]]


def time_on_call(final: FinalSchedule) -> dict[int, Intervals]:
    """{user id: their merged [start, end) intervals} of a final schedule, whatever each piece's origin."""
    out: dict[int, Intervals] = defaultdict(list)
    for shift in final.shifts:
        if shift.user_id is None:
            continue
        mine = out[shift.user_id]
        if mine and mine[-1][1] == shift.start:
            mine[-1] = (mine[-1][0], shift.end)
        else:
            mine.append((shift.start, shift.end))
    return out


def subtract(these: Intervals, those: Intervals) -> Intervals:
    """The parts of ``these`` not covered by ``those`` (both sorted, non-overlapping)."""
    out = []
    for start, end in these:
        cursor = start
        for a, b in those:
            if b <= cursor or a >= end:
                continue
            if a > cursor:
                out.append((cursor, a))
            cursor = max(cursor, b)
        if cursor < end:
            out.append((cursor, end))
    return out


def changes(before: FinalSchedule, after: FinalSchedule) -> list[tuple[int, str, dt.datetime, dt.datetime]]:
    """[(user id, "gained" | "lost", start, end)] between two final schedules of the same window, by start."""
    old, new = time_on_call(before), time_on_call(after)
    found = []
    for user_id in set(old) | set(new):
        found += [(user_id, "gained", a, b) for a, b in subtract(new.get(user_id, []), old.get(user_id, []))]
        found += [(user_id, "lost", a, b) for a, b in subtract(old.get(user_id, []), new.get(user_id, []))]
    return sorted(found, key=lambda c: (c[2], c[0], c[1]))


@contextmanager
def shifts_watched(schedule_id: int, *, now: dt.datetime | None = None) -> Iterator[None]:
    """Run a write; then tell each person whose time on call in [now, now + 14 days) it changed. Call it inside the
    write's transaction (the notices are written with it)."""
    now = now or timezone.now()
    before = schedule_final(schedule_id, start=now, end=now + AHEAD)
    yield
    after = schedule_final(schedule_id, start=now, end=now + AHEAD)
    found = changes(before, after)
    if found:
        shifts_changed_notify(Schedule.objects.get(pk=schedule_id), found, now=now)


def shifts_changed_notify(
    schedule: Schedule, found: list[tuple[int, str, dt.datetime, dt.datetime]], *, now: dt.datetime
) -> int:
    """One notice per (schedule, piece, person, direction) of the write at ``now``: 'you are now on call' / 'you
    are no longer on call' for the piece; returns how many notification rows it made."""
    people = User.objects.in_bulk({user_id for user_id, *_ in found})
    url = settings.SREDESK_BASE_URL + reverse("oncall:schedule", args=[schedule.slug])
    made = 0
    for user_id, direction, start, end in found:
        person = people.get(user_id)
        if person is None:
            continue
        window = f"{start:%Y-%m-%d %H:%M} UTC to {end:%Y-%m-%d %H:%M} UTC"
        subject = f"Your shifts on {schedule.name} changed"
        said = "you are now on call" if direction == "gained" else "you are no longer on call"
        text = f"{subject}: {said} from {window}. See the schedule for who covers what."
        key = (f"oncall-changed:{schedule.pk}:{start:%Y%m%dT%H%M%S}:{end:%Y%m%dT%H%M%S}:{person.pk}:{direction}"
               f":{now:%Y%m%dT%H%M%S%f}")  # fmt: skip
        made += notify(key=key, topic=schedule.slug, subject=subject, text=text, url=url, slack=[person.slack_user_id],
                       outbox=[f"user:{person.username}"], email=[person.email])  # fmt: skip
    return made
