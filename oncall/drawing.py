"""The schedule page's picture of the next weeks, drawn on the server as SVG from the final schedule.

One row per local day of the schedule's zone (a DST day is 23 or 25 hours long and its row is scaled to its own
length, so every hand-off sits where the zone's clock says), one bar per shift piece: a colour per person, gaps
in red, overrides outlined. Presentation attributes only (no ``style``), so the page's Content-Security-Policy
holds without a nonce.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ownership.hours import first_reading

from .rotation import FinalSchedule

PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#bab0ac", "#ff9da7"]
GAP = "#e15759"
LABEL_W, ROW_H, BAR_W = 110, 22, 720


@dataclass
class Legend:
    name: str
    colour: str


def person_colours(final: FinalSchedule) -> dict[int, str]:
    """A stable colour per person, in the order they first appear."""
    colours: dict[int, str] = {}
    for shift in final.shifts:
        if shift.user_id is not None and shift.user_id not in colours:
            colours[shift.user_id] = PALETTE[len(colours) % len(PALETTE)]
    return colours


def local_days(final: FinalSchedule, zone: ZoneInfo) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
    """[(local date, its first instant, the next day's first instant)] covering the window, aware UTC."""
    day = final.start.astimezone(zone).date()
    days = []
    while True:
        begin = first_reading(dt.datetime.combine(day, dt.time(0)), zone)
        if begin >= final.end:
            return days
        end = first_reading(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0)), zone)
        days.append((day, begin, end))
        day += dt.timedelta(days=1)


def draw(final: FinalSchedule, zone_name: str, names: dict[int, str]) -> SafeString:
    """The SVG of ``final``: a row per local day, hours 0-24 across, each shift piece a titled bar."""
    zone = ZoneInfo(zone_name)
    colours = person_colours(final)
    days = local_days(final, zone)
    rects, labels = [], []
    for row, (day, begin, end) in enumerate(days):
        y = 20 + row * ROW_H
        labels.append((LABEL_W - 6, y + 15, f"{day:%a %d %b}"))
        span = (end - begin).total_seconds()
        for shift in final.shifts:
            start, stop = max(shift.start, begin, final.start), min(shift.end, end, final.end)
            if start >= stop:
                continue
            x = LABEL_W + (start - begin).total_seconds() / span * BAR_W
            width = max((stop - start).total_seconds() / span * BAR_W, 0.5)
            who = names.get(shift.user_id, "nobody (gap)") if shift.user_id else "nobody (gap)"
            fill = colours.get(shift.user_id, GAP) if shift.user_id else GAP
            stroke = "#222" if shift.origin in ("override", "swap") else "none"
            begins, ends = shift.start.astimezone(zone), shift.end.astimezone(zone)
            title = f"{who}: {begins:%a %d %b %H:%M} – {ends:%a %d %b %H:%M} {zone_name} ({shift.origin})"
            rects.append((f"{x:.1f}", y + 2, f"{width:.1f}", ROW_H - 4, fill, stroke, title))
    height = 30 + len(days) * ROW_H
    ticks = format_html_join(
        "",
        '<text x="{}" y="14" text-anchor="middle" font-size="10">{}</text>',
        ((f"{LABEL_W + h / 24 * BAR_W:.1f}", f"{h:02d}") for h in range(0, 25, 3)),
    )
    day_labels = format_html_join("", '<text x="{}" y="{}" text-anchor="end" font-size="11">{}</text>', labels)
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}" stroke-width="2"><title>{}</title></rect>',
        rects,
    )
    return format_html(
        '<svg class="oncall-week" role="img" aria-label="Who is on call, day by day" viewBox="0 0 {} {}" '
        'width="100%" xmlns="http://www.w3.org/2000/svg">{}{}{}</svg>',
        LABEL_W + BAR_W + 10, height, ticks, day_labels, bars,
    )  # fmt: skip


def legend(final: FinalSchedule, names: dict[int, str]) -> list[Legend]:
    colours = person_colours(final)
    items = [Legend(names.get(pk, f"#{pk}"), colour) for pk, colour in colours.items()]
    if final.gaps:
        items.append(Legend("nobody (gap)", GAP))
    return items
