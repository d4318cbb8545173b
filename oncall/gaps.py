"""Gaps reported to the team once: a window of the next 14 days where a schedule names nobody is told to the
schedule team's channel, once per (schedule, gap start).

``gaps_report(now)`` (beat, ``oncall.schedules_sweep``, every 5 minutes) asks every schedule's final schedule of
[now − ``BEHIND``, now + ``AHEAD``) (one function, four queries) and, for each gap that has not ended, plans one
``notifications.notify`` keyed on (schedule, gap start): two beats, a redelivered task or every later tick find
the key and send nothing. A gap whose start moves (part of it covered by an override) is a new gap and is told
again; one that began more than ``BEHIND`` ago (its start is the window's own) was told when it came into view.
The schedule page and the service page show the same gaps (``upcoming_gaps``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse

from notifications.services import notify

from .models import Schedule
from .rotation import Shift
from .selectors import schedules_final

AHEAD = dt.timedelta(days=14)
BEHIND = dt.timedelta(days=1)


def upcoming_gaps(schedule_ids: Iterable[int], *, now: dt.datetime) -> dict[int, list[Shift]]:
    """{schedule id: its gaps in [now, now + 14 days), by start (a gap under way starts at now)}."""
    finals = schedules_final(schedule_ids, start=now, end=now + AHEAD)
    return {pk: final.gaps for pk, final in finals.items()}


def gaps_report(*, now: dt.datetime) -> int:
    """Tell each schedule's team about its gaps in the next 14 days, once per (schedule, gap start); returns how
    many notification rows it planned (0 on a repeat)."""
    schedules = Schedule.objects.select_related("team").in_bulk()
    if not schedules:
        return 0
    start = now - BEHIND
    made = 0
    for pk, final in schedules_final(schedules, start=start, end=now + AHEAD).items():
        schedule = schedules[pk]
        for gap in final.gaps:
            if gap.end <= now or gap.start == start:
                continue  # over, or began before the window: told when it came into view
            made += _tell(schedule, gap, horizon=final.end)
    return made


def _tell(schedule: Schedule, gap: Shift, *, horizon: dt.datetime) -> int:
    team = schedule.team
    until = "at least " if gap.end == horizon else ""
    subject = f"Nobody on call for {schedule.name} from {gap.start:%Y-%m-%d %H:%M} UTC"
    text = (f"{subject} until {until}{gap.end:%Y-%m-%d %H:%M} UTC: a gap in the schedule. Pages to it go to the "
            f"team's channel meanwhile. Add an override (or ask for a swap) to cover it.")  # fmt: skip
    url = settings.SREDESK_BASE_URL + reverse("oncall:schedule", args=[schedule.slug])
    return notify(key=f"oncall-gap:{schedule.pk}:{gap.start:%Y%m%dT%H%M%S}", topic=schedule.slug, subject=subject,
                  text=text, url=url, slack=[team.slack_channel], outbox=[f"team:{team.slug}"])  # fmt: skip
