"""The burn-down chart's labels stay apart at any window length (the SVG scales as a whole, so at 390 px too).

Before, the x axis labelled every fifth of the steps with "06 Nov 03:50": 12 characters of 17-unit type
83 units apart, overlapping at every width, and the legend ran off the bottom of the drawing.
"""

import datetime as dt
import re

import pytest

from ownership.charts import CONFIG, STYLE
from slos.charts import GLYPH_WIDTH, BurnDown, burn_down_chart
from slos.models import SLO

START = dt.datetime(2026, 11, 5, 3, 50, tzinfo=dt.UTC)


def burn_down(steps: int, step: dt.timedelta) -> BurnDown:
    points = [(START + step * (i + 1), 1 - 6 * i / steps) for i in range(steps)]  # down to -500 %
    return BurnDown(points, [1 - (i + 1) / steps for i in range(steps)])


def drawn(data: BurnDown) -> tuple[str, float, list[tuple[float, str]]]:
    """The SVG, the plot's left offset, and the x-axis labels shown (x in plot units, text)."""
    svg = str(burn_down_chart(SLO(name="Checkout"), data).svg)
    plot_x = float(re.search(r'<g transform="translate\(([\d.]+), [\d.]+\)" class="plot">', svg).group(1))
    x_axis = svg[svg.index('<g class="axis x') :]
    labels = [
        (float(x), text) for x, text in re.findall(r'<text x="([\d.]+)" y="[\d.]+" class="major">([^<]+)<', x_axis)
    ]
    return svg, plot_x, labels


@pytest.mark.parametrize(
    ("steps", "step", "form"),
    [
        (30, dt.timedelta(days=1), "06 Nov"),  # rolling 30 days
        (90, dt.timedelta(days=1), "06 Nov"),
        (168, dt.timedelta(hours=1), "05 Nov 04:50"),  # rolling 7 days, hourly
        (24, dt.timedelta(hours=1), "04:50"),  # one day
        (3, dt.timedelta(hours=1), "04:50"),  # a window that just began
    ],
)
def test_x_labels_never_touch_and_stay_inside_the_drawing(steps, step, form):
    _, plot_x, labels = drawn(burn_down(steps, step))

    assert len(labels) >= 2 and labels[0][1] == form
    width = [len(text) * STYLE.major_label_font_size * GLYPH_WIDTH for _, text in labels]
    for (x, _), (next_x, _), w, next_w in zip(labels, labels[1:], width, width[1:], strict=False):
        assert next_x - x >= (w + next_w) / 2, labels
    assert plot_x + labels[-1][0] + width[-1] / 2 <= CONFIG["width"], labels


def test_the_legend_is_whole_and_inside_the_drawing():
    svg, _, _ = drawn(burn_down(30, dt.timedelta(days=1)))
    legend_y = float(re.search(r'translate\([\d.]+, ([\d.]+)\)" class="legends"', svg).group(1))
    assert legend_y + STYLE.legend_font_size <= CONFIG["height"]
    assert re.findall(r'class="legend[^>]*>.*?<text[^>]*>([^<]*)', svg) == ["Budget left", "Even burn"]


def y_axis(svg: str) -> tuple[list[tuple[float, float]], list[float]]:
    """The y axis's gridlines (value in percent, y in plot units; "−600 %" -> -600.0) and the y of each point of
    the "Budget left" line (the first series)."""
    y_axis = svg[svg.index('<g class="axis y') : svg.index('<g class="axis x')]
    grid = [
        (float(text.replace("−", "-")), float(y))
        for y, text in re.findall(r'<path d="M[\d.]+ ([\d.]+) h[\d.]+"[^>]*/><text[^>]*>([−\d.]+) %</text>', y_axis)
    ]
    line = re.search(r'<path d="M([^"]+)" class="line', svg).group(1).replace("L", " ").split()
    return grid, [float(y) for y in line[1::2]]


@pytest.mark.parametrize(
    "left",
    [
        [1, 1, 0.5, -4.5, -5.343],  # the demo's SLO 12: overspent to −534.3 %, past the last hundred
        [1, 0.6, -35.412],  # the demo's SLO 17: −3541.2 %
        [1, 0.96, 0.93],  # nothing overspent: the plot still runs from 0 % (the x axis) to 100 %
        [1, 0.2, -0.004],  # just below zero
        [1, -30, -123.45],  # far below: −12,345 %
    ],
)
def test_the_line_stays_inside_the_y_axis(left):
    """The walk's SLO 12 drew its line past the lowest gridline (−500 %) down to −534 %, under the plot: the lowest
    gridline must be at or below the lowest value, and none above 100 % (a budget left is never more)."""
    data = BurnDown([(START + dt.timedelta(days=i + 1), v) for i, v in enumerate(left)], [1.0] * len(left))

    grid, line = y_axis(str(burn_down_chart(SLO(name="Checkout"), data).svg))

    values = [value for value, _ in grid]
    assert min(values) <= min(left) * 100 and 0 in values and max(values) <= 100, values
    assert len(values) <= 11, values  # still a readable axis
    bottom = max(y for _, y in grid)  # SVG y grows downwards
    assert all(0 <= y <= bottom + 0.01 for y in line), (line, grid)
