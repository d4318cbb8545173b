"""iCalendar (RFC 5545) feeds of a schedule's final schedule (every shift, or one person's), and a person's own
feed of their shifts across every schedule.

A feed is one ``VCALENDAR`` of ``VEVENT``s with UTC times (``...Z``), so calendar
apps place each shift by its instants and show it in their own zone; a gap is an
event of its own in the schedule's feed ("nobody on call"). UIDs are stable per
(schedule, person, start), so a refreshed feed updates the same events. Lines end
with CRLF and are folded at 75 octets; text is escaped (backslash, comma,
semicolon, newline).
"""

from __future__ import annotations

import datetime as dt

from ownership.models import User

from .models import Schedule
from .rotation import FinalSchedule, Shift

PAST = dt.timedelta(days=7)  # the feed's window: a week back (what just happened), ...
AHEAD = dt.timedelta(days=60)  # ... two months ahead


def _text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def render(schedule: Schedule, final: FinalSchedule, people: dict[int, User], *, person: User | None = None,
           now: dt.datetime) -> str:  # fmt: skip
    """The feed of ``final`` (all shifts and gaps, or only ``person``'s shifts) as iCalendar text."""
    name = f"On call: {schedule.name}" + (f" ({person})" if person else "")
    shifts = [(schedule, s) for s in final.shifts if person is None or s.user_id == person.pk]
    return _calendar(name, shifts, people, now=now)


def render_person(person: User, shifts: list[tuple[Schedule, Shift]], *, now: dt.datetime) -> str:
    """``person``'s own feed: their shifts across schedules (``oncall.selectors.shifts_of``) as iCalendar text."""
    return _calendar(f"On call: {person}", shifts, {person.pk: person}, now=now)


def _calendar(name: str, shifts: list[tuple[Schedule, Shift]], people: dict[int, User], *, now: dt.datetime) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//sredesk//on-call//EN", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{_text(name)}"]  # fmt: skip
    for schedule, shift in shifts:
        who = str(people[shift.user_id]) if shift.user_id in people else None
        summary = f"On call: {who} ({schedule.name})" if who else f"Nobody on call ({schedule.name}): a gap"
        description = f"From {shift.origin}" + (f" {shift.override_id}" if shift.override_id else "")
        lines += [
            "BEGIN:VEVENT",
            f"UID:oncall-{schedule.pk}-{shift.user_id or 'gap'}-{_stamp(shift.start)}@sredesk",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART:{_stamp(shift.start)}",
            f"DTEND:{_stamp(shift.end)}",
            f"SUMMARY:{_text(summary)}",
            f"DESCRIPTION:{_text(description)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
