"""An SLO's error budget burned down over its window, drawn on the server with pygal (as ``ownership.charts``).

The line starts at 100 % at the window's start and falls by each step's bad
events (or bad seconds) as a share of the window's budget as the last
evaluation computed it, so it ends at the budget left the page shows. A
dashed line burns evenly from 100 % to 0 % over the whole window: above it
the SLO is on track. Steps are hours for windows up to 7 days, else days;
missing data adds nothing (it is neither good nor bad: the coverage says how
much there is).
"""

import datetime as dt
import itertools
import math
from dataclasses import dataclass

import pygal
from django.db.models import Sum
from django.db.models.functions import TruncHour
from pygal.style import Style

from ownership.charts import CONFIG, STYLE, Chart, inline_svg
from sredesk.templatetags.sredesk_ui import percent

from .models import SLO, Sample, SLOState
from .tallies import impact_windows, overlap_seconds
from .windows import window_of


@dataclass(frozen=True)
class BurnDown:
    """Budget left (fraction of the window's budget) after each step: ``points`` of (step end, fraction)."""

    points: list[tuple[dt.datetime, float]]
    ideal: list[float]


def _step(window_seconds: float) -> dt.timedelta:
    return dt.timedelta(hours=1) if window_seconds <= 7 * 86400 else dt.timedelta(days=1)


def _bad_by_hour(slo: SLO, start: dt.datetime, end: dt.datetime) -> dict[dt.datetime, float]:
    """Bad events per UTC hour of ``[start, end)``: one grouped query."""
    rows = (
        Sample.objects.filter(slo=slo, bucket_start__gte=start, bucket_start__lt=end)
        .annotate(hour=TruncHour("bucket_start", tzinfo=dt.UTC))
        .values("hour")
        .annotate(good=Sum("good"), total=Sum("total"))
        .values_list("hour", "good", "total")
    )
    return {hour: total - good for hour, good, total in rows}


def burn_down(slo: SLO, state: SLOState | None) -> BurnDown | None:
    """The SLO's budget over its current window, step by step; None while its budget is unknown."""
    if state is None or not state.budget_total:
        return None
    window = window_of(slo, state.computed_at)
    step = _step(window.seconds)
    ends, at = [], window.start
    while at < window.elapsed_end:
        at = min(at + step, window.elapsed_end)
        ends.append(at)
    if slo.is_events:
        hours = _bad_by_hour(slo, window.start, window.elapsed_end)
        bad = [0.0] * len(ends)
        for hour, value in hours.items():
            index = min(int((hour - window.start) / step), len(ends) - 1) if hour >= window.start else 0
            bad[index] += value
    else:
        impact = impact_windows([slo], window.start, state.computed_at)[slo.pk]
        starts = [window.start, *ends[:-1]]
        measured = [(max(s, slo.measured_since), e) for s, e in zip(starts, ends, strict=True)]
        bad = [overlap_seconds(impact, s, e) if e > s else 0.0 for s, e in measured]
    points, spent = [], 0.0
    for end, value in zip(ends, bad, strict=True):
        spent += value
        points.append((end, 1.0 - spent / state.budget_total))
    ideal = [1.0 - (end - window.start).total_seconds() / window.seconds for end in ends]
    return BurnDown(points, ideal)


# Room for the x-axis labels, in the SVG's own units (CONFIG's 560-wide drawing, scaled as a whole to the page's
# width, so what fits here fits at 390 px as at 1366 px): the plot is at least this wide once the y-axis labels
# ("-500 %") and title take their part, and a label is about this many font sizes wide per character.
PLOT_WIDTH = 380
GLYPH_WIDTH = 0.62
LABEL_GAP = 24


def _label_format(data: BurnDown) -> str:
    """Dates for day steps; hours too for hour steps, without the date when the window is one day or less."""
    first, last = data.points[0][0], data.points[-1][0]
    if len(data.points) > 1 and data.points[1][0] - first >= dt.timedelta(days=1):
        return "%d %b"
    return "%H:%M" if last - first <= dt.timedelta(days=1) else "%d %b %H:%M"


def major_label_indices(count: int, chars: int, *, font_size: float) -> list[int]:
    """Indices of the points (of ``count``, evenly spread over the plot) that get an x label of ``chars``
    characters, so that no two labels overlap and the last one does not run off the drawing's right edge."""
    if count <= 1:
        return [0] if count else []
    width = chars * font_size * GLYPH_WIDTH
    unit = PLOT_WIDTH / (count - 1)
    stride = max(1, math.ceil((width + LABEL_GAP) / unit))
    return [i for i in range(0, count, stride) if i * unit + width / 2 <= PLOT_WIDTH + CONFIG["margin"]]


# At most this many steps of the y axis from its lowest label to its top; each step is one of these times a power of 10.
Y_STEPS = 10
NICE_STEPS = (1, 2, 2.5, 5)


def y_axis(values: list[float]) -> tuple[list[float], tuple[float, float]]:
    """The y axis (percent) of a burn-down drawing ``values``: its labels and its range (bottom, top).

    The top is 100 % (a budget left is never more); the bottom is the first label at or below the lowest value
    and 0 %, so an overspent budget (−534 %) is drawn inside the plot, above its lowest gridline. Labels are
    every step from there (a round step: 10, 20, 25, 50, 100, 200, ... %, at most ``Y_STEPS`` of them), 0 %
    always among them; 100 % too while the step divides it, else the plot's top is left unlabelled (a label
    there would touch the 0 % one).
    """
    low, high = min([0.0, *values]), max([100.0, *values])
    step = next(
        nice * 10**power
        for power in itertools.count(1)
        for nice in NICE_STEPS
        if (high - low) / (nice * 10**power) <= Y_STEPS
    )
    bottom = math.floor(low / step) * step
    labels = [bottom + i * step for i in range(math.floor((high - bottom) / step) + 1)]
    return labels, (bottom, high)


def burn_down_chart(slo: SLO, data: BurnDown) -> Chart:
    """The burn-down as a line chart (percent of the window's budget left) with the even-burn line beside it.

    The x axis labels a few steps, as many as fit without touching (``major_label_indices``); the table under
    the chart has every step. The y axis spans the whole line (``y_axis``).
    """
    chart = pygal.Line(
        **{
            **CONFIG,
            "style": Style(**{**STYLE.to_dict(), "colors": ("#1565c0", "#8a94a3")}),
            "legend_at_bottom_columns": 2,  # two entries, named in full
            "truncate_legend": -1,
        },
        title=None,
        show_dots=False,
        stroke_style={"width": 3},
        y_title="budget left, %",
        value_formatter=lambda v: percent(v / 100, 0),  # the chart's values are in percent
        include_x_axis=True,
    )
    chart.show_minor_x_labels = False
    form = _label_format(data)
    labels = [end.strftime(form) for end, _ in data.points]
    chart.x_labels = labels
    majors = major_label_indices(len(labels), max(map(len, labels)), font_size=STYLE.major_label_font_size)
    chart.x_labels_major = [labels[i] for i in majors]
    left, even = [round(value * 100, 2) for _, value in data.points], [round(value * 100, 2) for value in data.ideal]
    chart.y_labels, chart.range = y_axis(left + even)
    chart.add("Budget left", left)
    chart.add("Even burn", even, stroke_style={"width": 2, "dasharray": "6,4"})
    return Chart(
        title="Error budget burn-down",
        svg=inline_svg(chart, f"Error budget of {slo.name} left over its window, in percent"),
        header=("Until", "Budget left"),
        rows=[(end, value) for end, value in data.points],
    )
