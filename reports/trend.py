"""Figures beside those of the period before: the headline tiles the web pages show (overview, service, team).

Each :class:`Tile` holds a figure of ``reports.figures`` for the period and
the previous one, already formatted, and which way it moved and whether that
is better (fewer owed, faster) or worse. No query: it reads two reports.
"""

from dataclasses import dataclass

from sredesk.templatetags.sredesk_ui import duration, percent


@dataclass(frozen=True)
class Tile:
    """One headline figure: ``key`` (a stable id for pages and tests), label, the two values shown, the move."""

    key: str
    label: str
    value: str
    previous: str
    direction: str  # "up", "down", "same" or "" (nothing to compare)
    better: bool | None  # None: neither (a count of work done is no better for being higher)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _percent(value: float | None) -> str:
    """A share in whole percent ("—" for none): the UI's one format (``sredesk_ui.percent``)."""
    return percent(value, 0)


def _all_severities(figures: dict, name: str) -> float | None:
    """The mean of duration ``name`` over every severity (the count-weighted mean of the severities' means)."""
    rows = [s[f"{name}_seconds"] for s in figures["incidents"]["by_severity"] if s[f"{name}_seconds"]["count"]]
    total = sum(r["count"] for r in rows)
    return sum(r["mean"] * r["count"] for r in rows) / total if total else None


def _tile(key, label, now, before, fmt, *, lower_is_better: bool | None) -> Tile:
    if now is None or before is None or now == before:
        direction = "same" if now is not None and now == before else ""
        better = None
    else:
        direction = "up" if now > before else "down"
        better = None if lower_is_better is None else (direction == "down") == lower_is_better
    return Tile(key, label, fmt(now), fmt(before), direction, better)


def tiles(current: dict, previous: dict) -> list[Tile]:
    """The headline tiles of one group's figures (``reports.figures.report`` row) beside the previous period's."""
    pm, pm0 = current["postmortems"], previous["postmortems"]
    rt, rt0 = current["regression_tests"], previous["regression_tests"]

    def count(value):
        return "—" if value is None else str(value)

    return [
        _tile("published", "Post-mortems published", pm["published"], pm0["published"], count, lower_is_better=None),
        _tile(
            "verified_share",
            "Published with a verified test",
            _share(pm["with_verified_test"], pm["published"]),
            _share(pm0["with_verified_test"], pm0["published"]),
            _percent,
            lower_is_better=False,
        ),
        _tile(
            "owing",
            "Still owing a test",
            pm["owing_regression_test"],
            pm0["owing_regression_test"],
            count,
            lower_is_better=True,
        ),
        _tile(
            "published_to_verified",
            "Published → verified (median)",
            pm["published_to_verified_seconds"]["median"],
            pm0["published_to_verified_seconds"]["median"],
            duration,
            lower_is_better=True,
        ),
        _tile(
            "turned_red",
            "Tests turned failing/missing",
            rt["turned_red"],
            rt0["turned_red"],
            count,
            lower_is_better=True,
        ),
        _tile(
            "time_to_green",
            "Time to green again (median)",
            rt["time_to_green_seconds"]["median"],
            rt0["time_to_green_seconds"]["median"],
            duration,
            lower_is_better=True,
        ),
        _tile(
            "mtta",
            "MTTA (all severities)",
            _all_severities(current, "time_to_acknowledge"),
            _all_severities(previous, "time_to_acknowledge"),
            duration,
            lower_is_better=True,
        ),
        _tile(
            "mttr",
            "MTTR (all severities)",
            _all_severities(current, "time_to_resolve"),
            _all_severities(previous, "time_to_resolve"),
            duration,
            lower_is_better=True,
        ),
    ]
