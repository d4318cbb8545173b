"""An SLO's window at an instant, and the burn-rate rules that watch it.

A rolling window of N days is the last N × 24 hours (an elapsed-time window,
as Prometheus' ``[30d]``: a DST change neither lengthens nor shortens it). A
calendar month runs from local midnight on the 1st to local midnight on the
next 1st in the SLO's zone (``ownership.hours.calendar_month``), so its
length follows the zone's DST changes: March 2026 in Europe/Berlin lasts 743
hours, and its budget is (1 − target) of those.

Burn-rate rules follow the multi-window, multi-burn-rate alerts of the Google
SRE Workbook (chapter 5, "Alerting on SLOs", table 5-8): page when 2 % of the
budget burns within 1 hour (checked against 5 minutes too) or 5 % within 6
hours (30 minutes), open a ticket when 10 % burns within 3 days (6 hours). A
rule's burn-rate threshold is derived from the SLO's own window, as budget
fraction × window length ÷ long window (the Workbook's 14.4, 6 and 1 for 30
days; 3.36, 1.4 and 0.23 for 7 days); a rule whose long window is more than
half the SLO's window does not apply to it.
"""

import datetime as dt
from dataclasses import dataclass

from ownership.hours import calendar_month

from .models import SLO


@dataclass(frozen=True)
class Window:
    """``[start, end)`` of an SLO's window, aware UTC, and the instant it was taken at (``now``)."""

    start: dt.datetime
    end: dt.datetime
    now: dt.datetime

    @property
    def seconds(self) -> float:
        """The whole window's length."""
        return (self.end - self.start).total_seconds()

    @property
    def elapsed_end(self) -> dt.datetime:
        return min(self.now, self.end)

    @property
    def elapsed_seconds(self) -> float:
        """The part of the window that has passed at ``now``."""
        return max((self.elapsed_end - self.start).total_seconds(), 0.0)

    @property
    def future_seconds(self) -> float:
        """The part still to come (a calendar month's rest; 0 for a rolling window)."""
        return self.seconds - self.elapsed_seconds


def window_of(slo: SLO, now: dt.datetime) -> Window:
    """The SLO's window at ``now``: the last ``window_days`` × 24 h, or the calendar month containing ``now``."""
    if slo.window_kind == SLO.WindowKind.CALENDAR_MONTH:
        start, end = calendar_month(now, slo.timezone)
        return Window(start, end, now)
    return Window(now - dt.timedelta(days=slo.window_days), now, now)


@dataclass(frozen=True)
class BurnRule:
    """One multi-window burn-rate rule: fires when ``budget_fraction`` of the budget burns within ``long_seconds``.

    Both the long and the short window must burn at or above the threshold;
    the short one lets the alert resolve soon after the burning stops.
    ``severity`` is the alert's severity label (``page`` or ``ticket``).
    """

    name: str
    severity: str
    budget_fraction: float
    long_seconds: int
    short_seconds: int

    def threshold(self, window_seconds: float) -> float:
        """The burn rate that spends ``budget_fraction`` of a ``window_seconds`` window's budget in the long window."""
        return self.budget_fraction * window_seconds / self.long_seconds

    def applies_to(self, window_seconds: float) -> bool:
        return self.long_seconds * 2 <= window_seconds


# SRE Workbook, table 5-8 (recommended parameters for a 99.9 % SLO alerting configuration).
BURN_RULES = (
    BurnRule("page-fast", "page", 0.02, 3600, 300),
    BurnRule("page-slow", "page", 0.05, 6 * 3600, 1800),
    BurnRule("ticket", "ticket", 0.10, 3 * 86400, 6 * 3600),
)
# Every length a burn rate is reported for, shortest first (seconds).
BURN_WINDOWS = tuple(sorted({s for rule in BURN_RULES for s in (rule.long_seconds, rule.short_seconds)}))


def rules_for(window: Window) -> list[BurnRule]:
    """The burn rules that apply to a window of this length."""
    return [rule for rule in BURN_RULES if rule.applies_to(window.seconds)]


def window_name(seconds: int) -> str:
    """``300`` -> ``5m``, ``3600`` -> ``1h``, ``259200`` -> ``3d``: the names Prometheus users read."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
