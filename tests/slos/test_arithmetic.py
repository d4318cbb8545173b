"""SLO arithmetic against hand-computed cases: windows (DST, zones), budgets, burn-rate thresholds, statuses.

Every figure asserted here was worked out by hand in the comment beside it.
"""

import datetime as dt
from decimal import Decimal

import pytest

from ownership.hours import calendar_month
from slos.arithmetic import Tally, figures, rule_verdict
from slos.models import SLO, Status
from slos.windows import BURN_RULES, Window, rules_for, window_name, window_of

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def slo(**fields) -> SLO:
    return SLO(target=Decimal("0.999"), sli_kind=SLO.SLIKind.EVENTS_PUSHED, **fields)


# --- windows ----------------------------------------------------------------------------------------------


def test_a_calendar_month_in_berlin_follows_its_dst_changes():
    # Berlin is UTC+1 in winter, UTC+2 from 29 March 2026 02:00 local (01:00Z) to 25 October 2026 03:00 local.
    start, end = calendar_month(at("2026-03-16T12:00:00"), "Europe/Berlin")
    assert (start, end) == (at("2026-02-28T23:00:00"), at("2026-03-31T22:00:00"))
    assert (end - start) == dt.timedelta(hours=31 * 24 - 1)  # 743 h: the spring-forward hour is missing
    start, end = calendar_month(at("2026-10-10T00:00:00"), "Europe/Berlin")
    assert (start, end) == (at("2026-09-30T22:00:00"), at("2026-10-31T23:00:00"))
    assert (end - start) == dt.timedelta(hours=31 * 24 + 1)  # 745 h


def test_the_month_an_instant_belongs_to_is_the_zones_not_utcs():
    # 2026-11-01T02:00Z is still 31 October (22:00 EDT) in New York.
    start, end = calendar_month(at("2026-11-01T02:00:00"), "America/New_York")
    assert (start, end) == (at("2026-10-01T04:00:00"), at("2026-11-01T04:00:00"))
    # November in New York: 1 Nov 00:00 EDT (04:00Z) to 1 Dec 00:00 EST (05:00Z), 721 h.
    start, end = calendar_month(at("2026-11-15T00:00:00"), "America/New_York")
    assert (end - start) == dt.timedelta(hours=30 * 24 + 1)


def test_a_zone_with_a_half_hour_offset_starts_its_month_on_the_half_hour():
    start, end = calendar_month(at("2026-03-01T00:00:00"), "Asia/Kolkata")  # 05:30 on 1 March in India
    assert (start, end) == (at("2026-02-28T18:30:00"), at("2026-03-31T18:30:00"))


def test_a_rolling_window_is_elapsed_time_across_dst():
    # 30 days back from 2026-04-10 crosses Berlin's spring-forward; a rolling window is 720 h of elapsed time.
    window = window_of(
        slo(window_kind=SLO.WindowKind.ROLLING, window_days=30, timezone="Europe/Berlin"), at("2026-04-10T00:00:00")
    )
    assert window.start == at("2026-03-11T00:00:00")
    assert window.seconds == 30 * 86400
    assert window.future_seconds == 0


# --- burn-rate thresholds -------------------------------------------------------------------------------


def test_thresholds_come_from_the_slos_own_window():
    thirty, seven = 30 * 86400, 7 * 86400
    page_fast, page_slow, ticket = BURN_RULES
    # SRE Workbook table 5-8, 30 days: 2 % in 1 h -> 14.4; 5 % in 6 h -> 6; 10 % in 3 d -> 1.
    assert [round(r.threshold(thirty), 6) for r in BURN_RULES] == [14.4, 6.0, 1.0]
    # 7 days: 0.02 * 168 / 1 = 3.36; 0.05 * 168 / 6 = 1.4; 0.1 * 168 / 72 = 0.2333...
    assert round(page_fast.threshold(seven), 6) == 3.36
    assert round(page_slow.threshold(seven), 6) == 1.4
    assert round(ticket.threshold(seven), 4) == 0.2333
    # March 2026 in Berlin (743 h): 0.02 * 743 = 14.86.
    march = Window(at("2026-02-28T23:00:00"), at("2026-03-31T22:00:00"), at("2026-03-10T00:00:00"))
    assert round(page_fast.threshold(march.seconds), 6) == 14.86
    # A 3-day rule does not watch a 5-day window (its long window is over half of it); a 1-day SLO keeps the pages.
    assert [
        r.name
        for r in rules_for(Window(at("2026-01-01T00:00:00"), at("2026-01-06T00:00:00"), at("2026-01-06T00:00:00")))
    ] == ["page-fast", "page-slow"]
    assert [window_name(n) for n in (300, 1800, 3600, 21600, 259200)] == ["5m", "30m", "1h", "6h", "3d"]


def _recent(**rates) -> dict[int, Tally]:
    """Burn windows each holding 100,000 events with the given error ratio (None: no data)."""
    names = {"m5": 300, "m30": 1800, "h1": 3600, "h6": 21600, "d3": 259200}
    held = {}
    for key, seconds in names.items():
        ratio = rates.get(key, 0.0)
        held[seconds] = Tally() if ratio is None else Tally(100_000 * (1 - ratio), 100_000, seconds)
    return held


def test_a_rule_fires_only_when_both_windows_burn_and_enough_events_are_bad():
    window = Window(at("2026-01-01T00:00:00"), at("2026-01-31T00:00:00"), at("2026-01-31T00:00:00"))
    page_fast = BURN_RULES[0]
    # Error ratio 1.5 % against a 0.1 % budget: burn 15 >= 14.4 in both windows.
    assert rule_verdict(page_fast, target=0.999, window=window, recent=_recent(h1=0.015, m5=0.015), min_bad=10)
    # The short window has recovered (burn 1): the alert clears, which is what the short window is for.
    assert rule_verdict(page_fast, target=0.999, window=window, recent=_recent(h1=0.015, m5=0.001), min_bad=10) is False
    # 1,500 bad events in the long window, but the SLO asks for 2,000 before anything fires.
    assert (
        rule_verdict(page_fast, target=0.999, window=window, recent=_recent(h1=0.015, m5=0.015), min_bad=2000) is False
    )
    # Missing data in either window: neither fire nor clear (BR-36).
    assert rule_verdict(page_fast, target=0.999, window=window, recent=_recent(h1=0.015, m5=None), min_bad=10) is None


# --- figures and status ---------------------------------------------------------------------------------


def test_time_sli_in_a_calendar_month_counts_the_whole_months_budget():
    # March 2026 in Berlin, 99.9 %, at 2026-03-16T00:00Z: elapsed 15 d 1 h = 1,299,600 s; month 2,674,800 s.
    window = Window(at("2026-02-28T23:00:00"), at("2026-03-31T22:00:00"), at("2026-03-16T00:00:00"))
    bad = 2400.0
    result = figures(
        target=0.999,
        events=False,
        window=window,
        tally=Tally(1_299_600 - bad, 1_299_600, 1_299_600),
        recent={},
        min_coverage=0.5,
    )
    assert result.elapsed_seconds == 1_299_600
    assert result.coverage == 1.0
    assert result.budget_total == pytest.approx(2674.8)  # 0.001 * 2,674,800 s = 44 m 34.8 s
    assert result.budget_left == pytest.approx(274.8)
    assert result.budget_left_fraction == pytest.approx(274.8 / 2674.8)  # 10.3 %
    assert result.attainment == pytest.approx(1 - 2400 / 1_299_600)
    assert result.status == Status.AT_RISK  # under a quarter of the budget left


def test_events_budget_is_the_events_seen_and_exhaustion_is_at_zero():
    window = Window(at("2026-01-01T00:00:00"), at("2026-01-31T00:00:00"), at("2026-01-31T00:00:00"))
    # 1,000,000 events, 1,000 bad, 99.9 %: budget 1,000, left 0 -> exhausted.
    result = figures(
        target=0.999,
        events=True,
        window=window,
        tally=Tally(999_000, 1_000_000, window.seconds),
        recent={},
        min_coverage=0.5,
    )
    assert (result.budget_total, result.budget_left, result.budget_left_fraction) == (
        pytest.approx(1000),
        pytest.approx(0),
        pytest.approx(0),
    )
    assert result.status == Status.EXHAUSTED
    paused = figures(
        target=0.999,
        events=True,
        window=window,
        tally=Tally(999_000, 1_000_000, window.seconds),
        recent={},
        min_coverage=0.5,
        paused=True,
    )
    assert paused.status == Status.PAUSED


def test_a_page_rule_firing_makes_an_slo_with_budget_left_at_risk():
    window = Window(at("2026-01-01T00:00:00"), at("2026-01-31T00:00:00"), at("2026-01-31T00:00:00"))
    result = figures(
        target=0.999,
        events=True,
        window=window,
        tally=Tally(999_900, 1_000_000, window.seconds),
        recent={},
        min_coverage=0.5,
        paging=True,
    )
    assert result.budget_left_fraction == pytest.approx(0.9)
    assert result.status == Status.AT_RISK
