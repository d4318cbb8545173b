"""Gaps reported to the team once: a window of the next 14 days where a schedule names nobody is told to the
schedule team's channel, once per (schedule, gap start).

``gaps_report(now)`` (beat, ``oncall.schedules_sweep``, every 5 minutes) asks every schedule's final schedule of
[now − ``BEHIND``, now + ``AHEAD``) (one function, four queries) and, for each gap that has not ended, plans one
``notifications.notify`` keyed on (schedule, gap start): two beats, a redelivered task or every later tick find
the key and send nothing. A gap whose start moves (part of it covered by an override) is a new gap and is told
again; one that began more than ``BEHIND`` ago (its start is the window's own) was told when it came into view.
The schedule page and the service page show the same gaps (``upcoming_gaps``).

The same pass stores each schedule's gap seconds in [now, now + ``AHEAD``) with ``now`` (``ScheduleGapState``),
which ``/metrics`` reads in one query (``gap_states``): every web process reports the same figure, at most one
beat period old, and a scrape never computes a final schedule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from notifications.services import notify

from .models import Schedule, ScheduleGapState
from .rotation import FinalSchedule, Shift
from .selectors import schedules_final

AHEAD = dt.timedelta(days=14)
BEHIND = dt.timedelta(days=1)


def upcoming_gaps(schedule_ids: Iterable[int], *, now: dt.datetime) -> dict[int, list[Shift]]:
    """{schedule id: its gaps in [now, now + 14 days), by start (a gap under way starts at now)}."""
    finals = schedules_final(schedule_ids, start=now, end=now + AHEAD)
    return {pk: final.gaps for pk, final in finals.items()}


def gaps_report(*, now: dt.datetime) -> int:
    """Tell each schedule's team about its gaps in the next 14 days, once per (schedule, gap start), and store
    each schedule's gap seconds ahead for ``/metrics`` (``ScheduleGapState``); returns how many notification rows
    it planned (0 on a repeat)."""
    schedules = Schedule.objects.select_related("team").in_bulk()
    if not schedules:
        return 0
    start = now - BEHIND
    made = 0
    finals = schedules_final(schedules, start=start, end=now + AHEAD)
    for pk, final in finals.items():
        schedule = schedules[pk]
        for gap in final.gaps:
            if gap.end <= now or gap.start == start:
                continue  # over, or began before the window: told when it came into view
            made += _tell(schedule, gap, horizon=final.end)
    _store_gap_seconds(finals, now=now)
    return made


def gap_seconds(final: FinalSchedule, *, now: dt.datetime) -> float:
    """Seconds of [now, now + ``AHEAD``) in which ``final`` (a final schedule covering that span) names nobody."""
    end = now + AHEAD
    return sum(max((min(g.end, end) - max(g.start, now)).total_seconds(), 0.0) for g in final.gaps)


def _store_gap_seconds(finals: dict[int, FinalSchedule], *, now: dt.datetime) -> None:
    """Upsert one ``ScheduleGapState`` per schedule in ``finals`` (one statement). A schedule deleted meanwhile
    fails the foreign key at commit: the rows of those still there are written again without it."""
    rows = [ScheduleGapState(schedule_id=pk, gap_seconds=gap_seconds(f, now=now), computed_at=now)
            for pk, f in finals.items()]  # fmt: skip
    for attempt in range(2):
        try:
            with transaction.atomic():
                ScheduleGapState.objects.bulk_create(rows, update_conflicts=True, unique_fields=["schedule"],
                                                     update_fields=["gap_seconds", "computed_at"])  # fmt: skip
            return
        except IntegrityError:
            if attempt:
                raise
            alive = set(Schedule.objects.filter(pk__in=finals).values_list("pk", flat=True))
            rows = [row for row in rows if row.schedule_id in alive]


def gap_states() -> dict[str, tuple[float, dt.datetime]]:
    """{schedule slug: (gap seconds in the 14 days after it was computed, when it was computed, aware UTC)} as the
    last sweep stored them, in one query; a schedule not swept yet is left out."""
    rows = ScheduleGapState.objects.values_list("schedule__slug", "gap_seconds", "computed_at").order_by("schedule")
    return {slug: (seconds, at) for slug, seconds, at in rows}


def _tell(schedule: Schedule, gap: Shift, *, horizon: dt.datetime) -> int:
    team = schedule.team
    until = "at least " if gap.end == horizon else ""
    subject = f"Nobody on call for {schedule.name} from {gap.start:%Y-%m-%d %H:%M} UTC"
    text = (f"{subject} until {until}{gap.end:%Y-%m-%d %H:%M} UTC: a gap in the schedule. Pages to it go to the "
            f"team's channel meanwhile. Add an override (or ask for a swap) to cover it.")  # fmt: skip
    url = settings.SREDESK_BASE_URL + reverse("oncall:schedule", args=[schedule.slug])
    return notify(key=f"oncall-gap:{schedule.pk}:{gap.start:%Y%m%dT%H%M%S}", topic=schedule.slug, subject=subject,
                  text=text, url=url, slack=[team.slack_channel], outbox=[f"team:{team.slug}"])  # fmt: skip
