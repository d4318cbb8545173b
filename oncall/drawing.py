"""The schedule page's picture of the next weeks, drawn on the server as SVG from the final schedule.

One row per local day of the schedule's zone (a DST day is 23 or 25 hours long and its row is scaled to its own
length, so every hand-off sits where the zone's clock says), one bar per shift piece: a colour per person, gaps
in red, overrides outlined. Presentation attributes only (no ``style``), so the page's Content-Security-Policy
holds without a nonce.

Drawn twice, in two layouts the stylesheet picks between by the page's width (``.oncall-week-wide`` /
``-narrow``): an SVG scales as a whole, and the laptop's drawing, squeezed to a phone's 320 px, set its
text at 4 px. The phone's has the same rows in a drawing sized for it: shorter day labels, fewer hour ticks.
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


@dataclass(frozen=True)
class Layout:
    """One drawing's measures, in its own units (the SVG is scaled to the width the page gives it)."""

    name: str
    label_w: int
    row_h: int
    bar_w: int
    label_font: int
    tick_font: int
    tick_hours: int
    day_format: str


# About the page's width in px at each: the text comes out near its font size.
WIDE = Layout(
    "wide", label_w=110, row_h=22, bar_w=720, label_font=11, tick_font=10, tick_hours=3, day_format="%a %d %b"
)
NARROW = Layout(
    "narrow", label_w=58, row_h=22, bar_w=262, label_font=11, tick_font=10, tick_hours=6, day_format="%a %d"
)


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
    """The SVGs of ``final`` (``WIDE`` then ``NARROW``): a row per local day, hours 0-24 across, each shift piece a
    titled bar."""
    return format_html("{}{}", _draw(final, zone_name, names, WIDE), _draw(final, zone_name, names, NARROW))


def _draw(final: FinalSchedule, zone_name: str, names: dict[int, str], layout: Layout) -> SafeString:
    zone = ZoneInfo(zone_name)
    colours = person_colours(final)
    days = local_days(final, zone)
    label_w, row_h, bar_w = layout.label_w, layout.row_h, layout.bar_w
    rects, labels = [], []
    for row, (day, begin, end) in enumerate(days):
        y = 20 + row * row_h
        labels.append((label_w - 6, y + 15, layout.label_font, f"{day:{layout.day_format}}"))
        span = (end - begin).total_seconds()
        for shift in final.shifts:
            start, stop = max(shift.start, begin, final.start), min(shift.end, end, final.end)
            if start >= stop:
                continue
            x = label_w + (start - begin).total_seconds() / span * bar_w
            width = max((stop - start).total_seconds() / span * bar_w, 0.5)
            who = names.get(shift.user_id, "nobody (gap)") if shift.user_id else "nobody (gap)"
            fill = colours.get(shift.user_id, GAP) if shift.user_id else GAP
            stroke = "#222" if shift.origin in ("override", "swap") else "none"
            begins, ends = shift.start.astimezone(zone), shift.end.astimezone(zone)
            title = f"{who}: {begins:%a %d %b %H:%M} – {ends:%a %d %b %H:%M} {zone_name} ({shift.origin})"
            rects.append((f"{x:.1f}", y + 2, f"{width:.1f}", row_h - 4, fill, stroke, title))
    height = 30 + len(days) * row_h
    ticks = format_html_join(
        "",
        '<text x="{}" y="14" text-anchor="middle" font-size="{}">{}</text>',
        ((f"{label_w + h / 24 * bar_w:.1f}", layout.tick_font, f"{h:02d}") for h in range(0, 25, layout.tick_hours)),
    )
    day_labels = format_html_join("", '<text x="{}" y="{}" text-anchor="end" font-size="{}">{}</text>', labels)
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}" stroke-width="2"><title>{}</title></rect>',
        rects,
    )
    return format_html(
        '<svg class="oncall-week oncall-week-{}" role="img" aria-label="Who is on call, day by day" '
        'viewBox="0 0 {} {}" width="100%" xmlns="http://www.w3.org/2000/svg">{}{}{}</svg>',
        layout.name, label_w + bar_w + 10, height, ticks, day_labels, bars,
    )  # fmt: skip


def legend(final: FinalSchedule, names: dict[int, str]) -> list[Legend]:
    colours = person_colours(final)
    items = [Legend(names.get(pk, f"#{pk}"), colour) for pk, colour in colours.items()]
    if final.gaps:
        items.append(Legend("nobody (gap)", GAP))
    return items
