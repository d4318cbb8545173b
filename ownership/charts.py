"""Service dashboard charts, drawn on the server as SVG with pygal (no JavaScript, nothing from a CDN).

Each chart comes with the numbers it draws (``Chart.rows``), which the page
also shows as a table: readable without the picture, and testable.

Incidents are bucketed by the week (Monday to Sunday, in the viewer's time
zone) of their detection. MTTA (acknowledged - detected) and MTTR (resolved -
started) are weekly medians over the incidents of a week that have both end points;
an incident with a missing end point is left out, and a negative duration
(which the database constraints already forbid) would be too (BR-22).
"""

import datetime as dt
import math
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

import pygal
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

from incidents.models import Incident, Severity

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1d2330",
    foreground_strong="#1d2330",
    foreground_subtle="#8a94a3",
    font_family="system-ui, -apple-system, 'Segoe UI', sans-serif",
    label_font_size=17,
    major_label_font_size=17,
    legend_font_size=17,
    title_font_size=18,
    value_font_size=15,
    tooltip_font_size=15,
    opacity=".9",
    opacity_hover="1",
    # SEV1 .. SEV4, then the trend lines' colours.
    colors=("#c62828", "#ef6c00", "#f9a825", "#78909c", "#1565c0", "#6a1b9a"),
)
CONFIG = {
    "style": STYLE,
    "js": [],  # pygal's tooltips load a script from a CDN: the UI must work offline
    "disable_xml_declaration": True,
    "width": 560,
    "height": 340,
    "legend_at_bottom": True,
    "legend_at_bottom_columns": 4,
    "margin": 12,
    "x_label_rotation": 0,
    "show_minor_x_labels": True,
    "truncate_label": -1,
    "no_data_text": "No incidents",
}


@dataclass(frozen=True)
class Chart:
    """An SVG chart and the numbers behind it: ``header`` names the columns of each row in ``rows``."""

    title: str
    svg: SafeString
    header: tuple[str, ...]
    rows: list[tuple]


def week_starts(*, now: dt.datetime, weeks: int) -> list[dt.date]:
    """The Mondays (in the current time zone) of the last ``weeks`` weeks, oldest first, this week last."""
    today = timezone.localtime(now).date()
    monday = today - dt.timedelta(days=today.weekday())
    return [monday - dt.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def week_of(value: dt.datetime) -> dt.date:
    local = timezone.localtime(value).date()
    return local - dt.timedelta(days=local.weekday())


def window_start(*, now: dt.datetime, weeks: int) -> dt.datetime:
    """The aware instant the first of ``week_starts`` begins (local midnight)."""
    first = week_starts(now=now, weeks=weeks)[0]
    return timezone.make_aware(dt.datetime.combine(first, dt.time()))


def nice_ticks(top: float, *, count: int = 5) -> list[float]:
    """Round y-axis ticks from 0 covering ``top``, in steps of 1, 2 or 5 times a power of ten (0, 0.2, …; 0, 5, …)."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if top >= 1:
        step = max(step, 1)  # whole numbers when the data allows
    ticks = [0]
    while ticks[-1] < top:
        ticks.append(round(ticks[-1] + step, 10))
    return [int(t) if float(t).is_integer() else t for t in ticks]


def _label(monday: dt.date) -> str:
    return monday.strftime("%d %b")


SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)


def inline_svg(chart, label: str) -> SafeString:
    """The chart as inline SVG, without pygal's tooltip-config script (the UI draws charts with no JavaScript)."""
    svg = SCRIPT.sub("", chart.render(is_unicode=True))
    # The (unused) tooltip's style attribute, which the Content-Security-Policy would refuse; its box is empty.
    svg = svg.replace(' style="opacity: 0" class="tooltip"', ' class="tooltip"')
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return mark_safe(svg)  # noqa: S308 - pygal escapes its text; labels are ours


def incidents_per_week(incidents: Iterable[Incident], *, now: dt.datetime, weeks: int = 12) -> Chart:
    """Stacked bars: incidents detected per week, by severity."""
    mondays = week_starts(now=now, weeks=weeks)
    index = {monday: i for i, monday in enumerate(mondays)}
    counts = {severity: [0] * weeks for severity in Severity.values}
    for incident in incidents:
        i = index.get(week_of(incident.detected_at))
        if i is not None:
            counts[incident.severity][i] += 1
    totals = [sum(counts[s][i] for s in Severity.values) for i in range(weeks)]
    chart = pygal.StackedBar(**CONFIG, title=None, show_y_guides=True, y_title="incidents")
    chart.y_labels = nice_ticks(max(totals, default=0))
    chart.x_labels = [_label(m) for m in mondays]
    chart.x_labels_major = chart.x_labels[::4]
    chart.show_minor_x_labels = False
    for severity in Severity.values:
        chart.add(Severity(severity).label, counts[severity])
    rows = [(monday, *(counts[s][i] for s in Severity.values), totals[i]) for i, monday in enumerate(mondays)]
    return Chart(
        title="Incidents per week",
        svg=inline_svg(chart, "Incidents per week, by severity"),
        header=("Week of", *Severity.labels, "Total"),
        rows=rows,
    )


def _median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None and v >= 0]
    return statistics.median(values) if values else None


def weekly_medians(
    incidents: Iterable[Incident], *, now: dt.datetime, weeks: int = 12
) -> tuple[list[dt.date], list[float | None], list[float | None]]:
    """(Mondays, median MTTA seconds per week, median MTTR seconds per week); None for a week without data."""
    mondays = week_starts(now=now, weeks=weeks)
    index = {monday: i for i, monday in enumerate(mondays)}
    mtta: list[list[float]] = [[] for _ in mondays]
    mttr: list[list[float]] = [[] for _ in mondays]
    for incident in incidents:
        i = index.get(week_of(incident.detected_at))
        if i is None:
            continue
        if incident.mtta_seconds is not None:
            mtta[i].append(incident.mtta_seconds)
        if incident.mttr_seconds is not None:
            mttr[i].append(incident.mttr_seconds)
    return mondays, [_median(v) for v in mtta], [_median(v) for v in mttr]


def _trend(title: str, mondays: list[dt.date], seconds: list[float | None], *, unit: str, colour: str) -> Chart:
    divisor = {"minutes": 60, "hours": 3600}[unit]
    chart = pygal.Line(
        **{**CONFIG, "style": Style(**{**STYLE.to_dict(), "colors": (colour,)})},
        title=None,
        show_legend=False,
        allow_interruptions=True,
        include_x_axis=True,
        dots_size=5,
        stroke_style={"width": 3},
        y_title=unit,
        value_formatter=lambda v: f"{v:g}",
    )
    chart.x_labels = [_label(m) for m in mondays]
    chart.x_labels_major = chart.x_labels[::4]
    chart.show_minor_x_labels = False
    values = [round(v / divisor, 1) if v is not None else None for v in seconds]
    chart.y_labels = nice_ticks(max((v for v in values if v is not None), default=0))
    chart.add(title, values)
    return Chart(
        title=title,
        svg=inline_svg(chart, f"{title} per week, median, in {unit}"),
        header=("Week of", f"{title} (median)"),
        rows=list(zip(mondays, seconds, strict=True)),
    )


def response_trends(incidents: Iterable[Incident], *, now: dt.datetime, weeks: int = 12) -> tuple[Chart, Chart]:
    """Two line charts: weekly median time to acknowledge (minutes) and to resolve (hours)."""
    mondays, mtta, mttr = weekly_medians(list(incidents), now=now, weeks=weeks)
    return (
        _trend("MTTA", mondays, mtta, unit="minutes", colour="#1565c0"),
        _trend("MTTR", mondays, mttr, unit="hours", colour="#6a1b9a"),
    )
