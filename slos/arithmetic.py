"""SLO arithmetic: from what a window holds to attainment, budget, burn rates, coverage and status. Pure.

Units: events SLIs count events, the time SLI counts seconds; ``Tally.total``
is then the covered seconds and ``Tally.good`` the covered seconds without
impact. Definitions (DESIGN.md's terms):

- **coverage** = covered seconds ÷ the elapsed part of the window (a bucket
  with a row, ``total = 0`` included, covers its length; for the time SLI the
  time since ``measured_since`` is covered);
- **attainment** = good ÷ total over covered data only;
- **budget** = (1 − target) × total for events SLIs (the events seen), and
  (1 − target) × (covered + future seconds) for the time SLI (a calendar
  month's budget includes the rest of the month; missing past time adds none);
  **budget left** = budget − bad, also as a fraction of the budget;
- **burn rate** over a window = (bad ÷ total) ÷ (1 − target).

Missing data is never good (FIELD-CASES BR-36, every case): a window without
data has status ``no_data`` and an unknown budget (None, never 100 %); one
whose covered buckets all have ``total = 0`` is ``no_traffic`` (never 0 % nor
100 %); a window mostly without data is ``insufficient_data``, its figures
computed over what was measured (no NaN, no division by zero); a burn rate
over a window without data is None, and a rule neither fires nor resolves on
None (``rule_verdict``).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from sredesk.templatetags.sredesk_ui import duration, percent

from .models import Status
from .windows import BurnRule, Window

# Budget left (fraction) under which an SLO is at risk.
AT_RISK_BUDGET_LEFT = 0.25


def allowance(target: float | Decimal) -> float:
    """1 − target, computed in decimal: 1 − 0.999 is 0.001, not 0.0010000000000000009 (so a budget of exactly
    1,000 events is spent by exactly 1,000 bad ones)."""
    return float(Decimal(1) - Decimal(str(target)))


@dataclass(frozen=True)
class Tally:
    """What one window holds: ``good`` and ``total`` (events, or seconds), and how many seconds have data."""

    good: float = 0.0
    total: float = 0.0
    covered_seconds: float = 0.0

    @property
    def bad(self) -> float:
        return self.total - self.good

    def burn_rate(self, target: float) -> float | None:
        """Error ratio ÷ (1 − target); None without data or without traffic (it can say nothing)."""
        if self.covered_seconds <= 0 or self.total <= 0:
            return None
        return (self.bad / self.total) / allowance(target)


@dataclass(frozen=True)
class Figures:
    """An SLO's figures at one instant (the fields of ``SLOState``, which ``slos.evaluate`` stores)."""

    status: str
    elapsed_seconds: float
    covered_seconds: float
    coverage: float
    good: float
    total: float
    attainment: float | None
    budget_total: float | None
    budget_left: float | None
    budget_left_fraction: float | None
    burn_rates: dict[int, float | None] = field(default_factory=dict)
    note: str = ""


def figures(
    *,
    target: float,
    events: bool,
    window: Window,
    tally: Tally,
    recent: dict[int, Tally],
    min_coverage: float,
    paused: bool = False,
    paging: bool = False,
) -> Figures:
    """The figures of a window holding ``tally``; ``recent`` maps a burn window's seconds to what it holds.

    ``events``: an events SLI (else the time SLI). ``paging``: a page-severity
    burn rule is firing (the status is then at least ``at_risk``).
    """
    elapsed = window.elapsed_seconds
    covered = min(tally.covered_seconds, elapsed)
    coverage = covered / elapsed if elapsed > 0 else 0.0
    has_data = covered > 0
    attainment = tally.good / tally.total if has_data and tally.total > 0 else None
    budget_total = budget_left = fraction = None
    if attainment is not None:
        spendable = tally.total if events else covered + window.future_seconds
        budget_total = allowance(target) * spendable
        budget_left = budget_total - tally.bad
        fraction = budget_left / budget_total if budget_total > 0 else None
    burn_rates = {seconds: held.burn_rate(target) for seconds, held in sorted(recent.items())}
    status = status_of(
        paused=paused,
        has_data=has_data,
        has_traffic=tally.total > 0,
        coverage=coverage,
        min_coverage=min_coverage,
        budget_left_fraction=fraction,
        paging=paging,
    )
    return Figures(
        status=status,
        elapsed_seconds=elapsed,
        covered_seconds=covered,
        coverage=coverage,
        good=tally.good,
        total=tally.total,
        attainment=attainment,
        budget_total=budget_total,
        budget_left=budget_left,
        budget_left_fraction=fraction,
        burn_rates=burn_rates,
        note=_note(status, elapsed=elapsed, covered=covered, coverage=coverage, min_coverage=min_coverage),
    )


def status_of(
    *,
    paused: bool,
    has_data: bool,
    has_traffic: bool,
    coverage: float,
    min_coverage: float,
    budget_left_fraction: float | None,
    paging: bool = False,
) -> str:
    """The status, first match wins: paused, no data, no traffic, insufficient data, exhausted, at risk, ok."""
    if paused:
        return Status.PAUSED
    if not has_data:
        return Status.NO_DATA
    if not has_traffic:
        return Status.NO_TRAFFIC
    if coverage < min_coverage:
        return Status.INSUFFICIENT_DATA
    if budget_left_fraction is not None and budget_left_fraction <= 0:
        return Status.EXHAUSTED
    if paging or (budget_left_fraction is not None and budget_left_fraction < AT_RISK_BUDGET_LEFT):
        return Status.AT_RISK
    return Status.OK


def _note(status: str, *, elapsed: float, covered: float, coverage: float, min_coverage: float) -> str:
    if status == Status.PAUSED:
        return "Paused: no figures, no burn alerts."
    if status == Status.NO_DATA:
        return "No SLI data in the window: the budget is unknown (not 100 %). Check the SLI's source."
    if status == Status.NO_TRAFFIC:
        return "Every bucket with data reports zero events: no traffic, so no attainment and no budget."
    if status == Status.INSUFFICIENT_DATA:
        return (
            f"Only {duration(covered)} of the window's elapsed {duration(elapsed)} have data "
            f"(coverage {percent(coverage, 1)}, below {percent(min_coverage, 0)}): the figures count that time only "
            "and are too young or too patchy to judge."
        )
    if covered < elapsed:
        return (
            f"{duration(elapsed - covered)} of the window have no data (coverage {percent(coverage, 1)}): "
            "the figures count covered time only; missing time is not counted as good."
        )
    return ""


def rule_verdict(
    rule: BurnRule, *, target: float, window: Window, recent: dict[int, Tally], min_bad: float
) -> bool | None:
    """Whether ``rule`` fires (True), is clear (False), or cannot say (None: a window without data or traffic).

    It fires when both its long and its short window burn at or above the
    rule's threshold for this window (``BurnRule.threshold``) and the long
    window holds at least ``min_bad`` bad events; it is clear when either
    burns below. Missing data neither fires nor clears an alert.
    """
    long, short = recent[rule.long_seconds], recent[rule.short_seconds]
    long_rate, short_rate = long.burn_rate(target), short.burn_rate(target)
    if long_rate is None or short_rate is None:
        return None
    threshold = rule.threshold(window.seconds)
    return long_rate >= threshold and short_rate >= threshold and long.bad >= min_bad
