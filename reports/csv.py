"""A report as CSV: one row per team or service, every figure a column, safe to open in a spreadsheet.

Columns (``COLUMNS``): the group, the period (UTC, ISO 8601), the
post-mortem and regression-test figures, then per severity its incident
count and each duration's count, mean, median and p90 (seconds). An empty
cell is a figure with nothing to measure.

Formula injection: a spreadsheet runs a cell that starts with ``=``, ``+``,
``-`` or ``@`` (and tab or carriage return, which some read past) as a
formula, and names are typed by people. Every such text cell is prefixed
with ``'``, which spreadsheets show as text and do not evaluate. Numbers are
written as numbers (none of the figures is negative).
"""

import csv
import io

from incidents.querysets import DURATIONS

from .figures import SEVERITIES
from .period import Period

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SHORT = {"time_to_acknowledge": "tta", "time_to_mitigate": "ttm", "time_to_resolve": "ttr"}

COLUMNS = [
    "group_by", "id", "slug", "name", "period_start", "period_end",
    "postmortems_published", "postmortems_declined", "postmortems_with_verified_test",
    "postmortems_owing_regression_test", "published_to_verified_count", "published_to_verified_median_seconds",
    "published_to_verified_p90_seconds", "regression_tests_turned_red", "regression_tests_green_again",
    "time_to_green_median_seconds", "time_to_green_p90_seconds", "incidents",
    *[
        column
        for sev in SEVERITIES
        for column in [
            f"{sev.lower()}_incidents",
            *[
                f"{sev.lower()}_{_SHORT[name]}_{stat}"
                for name in DURATIONS
                for stat in ("count", "mean_seconds", "median_seconds", "p90_seconds")
            ],
        ]
    ],
]  # fmt: skip


def safe_cell(value):
    """``value`` for a CSV cell: text that a spreadsheet would run as a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def _row(figures: dict, period: Period) -> list:
    group, pm, rt = figures["group"], figures["postmortems"], figures["regression_tests"]
    wait, green = pm["published_to_verified_seconds"], rt["time_to_green_seconds"]
    row = [
        group["kind"], group["id"], group["slug"], group["name"],
        period.start.isoformat(), period.end.isoformat(),
        pm["published"], pm["declined"], pm["with_verified_test"], pm["owing_regression_test"],
        wait["count"], wait["median"], wait["p90"],
        rt["turned_red"], rt["green_again"], green["median"], green["p90"],
        figures["incidents"]["count"],
    ]  # fmt: skip
    for severity in figures["incidents"]["by_severity"]:
        row.append(severity["count"])
        for name in DURATIONS:
            stats = severity[f"{name}_seconds"]
            row += [stats["count"], stats["mean"], stats["median"], stats["p90"]]
    return row


def report_csv(rows: list[dict], period: Period) -> str:
    """``reports.figures.report``'s ``rows`` for ``period`` as CSV text (header line first, CRLF line ends)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for figures in rows:
        writer.writerow([safe_cell(v) for v in _row(figures, period)])
    return out.getvalue()
