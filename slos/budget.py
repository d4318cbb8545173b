"""The error budget one incident consumed, per SLO of its services: the one home of that figure.

An incident's **impact window** is ``started_at`` to ``mitigated_at``, else
``resolved_at``, else now (``slos.tallies.impact_end``, as the time SLI
counts it). For each SLO (not paused) of its primary or affected services,
``incident_budget`` splits the impact window at the SLO's window bounds —
an incident across midnight on the 1st of a calendar-month SLO uses budget
of two months, each said separately — and for each part gives what the
incident used, the window's budget, and the fraction:

- **time SLI**: the incident's impact seconds since ``measured_since``
  (time before it has no data), if its severity is ``min_severity`` or
  worse (else it is not counted: 0 s); the window's budget is
  (1 − target) × its length (DESIGN's "(1 − target) of the window": a
  young SLO's figure is not inflated by a budget of its few measured hours).
- **events SLIs**: the bad events (total − good) of the buckets whose start
  lies in the impact part (the bucket containing ``started_at`` included);
  the window's budget is (1 − target) × the events of its buckets so far.

A rolling window is the ``window_days`` × 24 h ending where the impact ends;
impact before it is outside it. **Coverage** is the part of the impact that
has data (buckets present; time since ``measured_since``). Missing data is
never counted as good: with partial coverage the use is what the data shows
("at least"), and without any data it is unknown (None), never 0.

Queries: two, whatever the number of SLOs: one for the SLOs, one aggregate over every events SLO's samples.
"""

import datetime as dt
import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When
from django.utils import timezone

from incidents.models import Incident
from ownership.hours import calendar_month
from sredesk.templatetags.sredesk_ui import duration, percent

from .arithmetic import allowance
from .models import SLO, Sample, bucket_floor
from .tallies import impact_end
from .templatetags.slos_ui import events


@dataclass(frozen=True)
class WindowUse:
    """What an incident used of one window's budget. Units: seconds (time SLI) or events.

    ``impact_start``/``impact_end``: the part of the impact window inside this
    SLO window (aware UTC). ``used``: bad seconds or events the data shows in
    it (None: no data at all). ``budget``: the window's budget (None: no data
    or no traffic in it). ``fraction`` = used ÷ budget (None when either is).
    ``coverage``: the part of the impact with data, 0..1.
    """

    window_start: dt.datetime
    window_end: dt.datetime
    label: str
    impact_start: dt.datetime
    impact_end: dt.datetime
    used: float | None
    budget: float | None
    coverage: float

    @property
    def fraction(self) -> float | None:
        if self.used is None or not self.budget:
            return None
        return self.used / self.budget

    @property
    def complete(self) -> bool:
        return self.coverage >= 1.0


@dataclass(frozen=True)
class BudgetUse:
    """What an incident used of one SLO's error budget, per window it touches (oldest first)."""

    slo: SLO
    unit: str  # "seconds" or "events"
    counted: bool  # False: a time SLI for worse incidents than this one; it used nothing
    ongoing: bool  # the impact has not ended: the figures grow
    windows: list[WindowUse] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        """``this incident used 37 % of the month's budget (16 m of 43 m)``, each window said, and what is missing."""
        return budget_sentence(self)


def _percent(fraction: float) -> str:
    """Whole percent from 10 % on, else to a tenth without a trailing ".0" (``37 %``, ``5.4 %``, ``5 %``), in the
    UI's one format (``sredesk_ui.percent``: a negative with "−")."""
    tenths = round(abs(fraction) * 1000)
    return percent(fraction, 0 if tenths >= 100 or tenths % 10 == 0 else 1)


def _amount(value: float, unit: str) -> str:
    if unit == "seconds":
        return duration(value)
    return events(value)


def budget_sentence(use: BudgetUse) -> str:
    """The figure as people read it on the incident and post-mortem pages and in the Markdown export:
    ``this incident used 37 % of the month's budget (November 2026 in Europe/Berlin: 16 m of 43 m)``."""
    if not use.counted:
        return (
            f"not counted: this SLO counts incidents of SEV{use.slo.min_severity} or worse, so this incident used "
            "none of its budget"
        )
    months = use.slo.window_kind == SLO.WindowKind.CALENDAR_MONTH
    parts = []
    for part in use.windows:
        if not months:
            whose, where = f"the {use.slo.window_days}-day window's budget", ""
        elif len(use.windows) == 1:
            whose, where = "the month's budget", f"{part.label}: "
        else:
            whose, where = f"the budget of {part.label}", ""
        if part.used is None:
            parts.append(f"an unknown part of {whose} (no SLI data during the impact)")
            continue
        if part.fraction is None:
            parts.append(f"{_amount(part.used, use.unit)} of {whose}, which is unknown (no data or no traffic)")
            continue
        least = "" if part.complete else "at least "
        text = (
            f"{least}{_percent(part.fraction)} of {whose} "
            f"({where}{_amount(part.used, use.unit)} of {_amount(part.budget, use.unit)})"
        )
        if not part.complete:
            text += f"; {_percent(1 - part.coverage)} of that impact has no SLI data, which is not counted as good"
        parts.append(text)
    verb = "has used so far" if use.ongoing else "used"
    return f"this incident {verb} " + " and ".join(parts)


def _month_label(start: dt.datetime, zone: str) -> str:
    local = start.astimezone(ZoneInfo(zone))
    return f"{local:%B %Y} in {zone}"


def _windows(slo: SLO, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime, str]]:
    """The SLO windows the impact ``[start, end)`` falls in, each (start, end, label), oldest first."""
    if slo.window_kind == SLO.WindowKind.CALENDAR_MONTH:
        windows, cursor = [], start
        while True:
            lo, hi = calendar_month(cursor, slo.timezone)
            windows.append((lo, hi, _month_label(lo, slo.timezone)))
            if hi >= end:
                return windows
            cursor = hi
    return [(end - dt.timedelta(days=slo.window_days), end, f"{slo.window_days} days to {end:%Y-%m-%d %H:%M} UTC")]


def _time_use(slo: SLO, incident: Incident, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> BudgetUse:
    counted = incident.severity <= slo.min_severity
    parts = []
    for lo, hi, label in _windows(slo, start, end):
        a, b = max(start, lo), min(end, hi)
        impact = max((b - a).total_seconds(), 0.0)
        covered = max((b - max(a, slo.measured_since)).total_seconds(), 0.0) if impact else 0.0
        budget = allowance(slo.target) * (hi - lo).total_seconds()
        used = (covered if counted else 0.0) if covered or not impact else None
        coverage = covered / impact if impact else 1.0
        parts.append(WindowUse(lo, hi, label, a, b, used, budget, coverage))
    return BudgetUse(slo, "seconds", counted, ongoing=_ongoing(incident), windows=parts)


def _expected_buckets(lo: dt.datetime, hi: dt.datetime, seconds: int) -> int:
    """How many epoch-aligned bucket starts lie in ``[lo, hi)``."""
    first = math.ceil(lo.timestamp() / seconds)
    last = math.ceil(hi.timestamp() / seconds)
    return max(last - first, 0)


@dataclass(frozen=True)
class _Part:
    """One window part of an events SLO: the window ``[lo, hi)`` and the impact's buckets ``[a, b)`` in it."""

    slo: SLO
    lo: dt.datetime
    hi: dt.datetime
    label: str
    a: dt.datetime
    b: dt.datetime


def _event_sums(parts: list[_Part], now: dt.datetime) -> dict[int, dict]:
    """Per part (by index): the window's events, the impact's bad events and buckets present. One statement for
    every part of every events SLO (a bucket of an SLO lies in one of its windows at most)."""
    if not parts:
        return {}
    where, which, hit = Q(pk__in=[]), [], Q(pk__in=[])
    for index, part in enumerate(parts):
        mine = Q(slo_id=part.slo.pk, bucket_start__gte=part.lo, bucket_start__lt=min(part.hi, now))
        where |= mine
        which.append(When(mine, then=Value(index)))
        hit |= Q(slo_id=part.slo.pk, bucket_start__gte=part.a, bucket_start__lt=part.b)
    rows = (
        Sample.objects.filter(where)
        .annotate(part=Case(*which, output_field=IntegerField()))
        .values("part")
        .annotate(
            events=Sum("total"), bad_events=Sum(F("total") - F("good"), filter=hit), present=Count("pk", filter=hit)
        )
        .order_by()
    )
    return {row["part"]: row for row in rows}


def _events_uses(slos: list[SLO], incident: Incident, start: dt.datetime, end: dt.datetime, now: dt.datetime):
    parts = [
        _Part(slo, lo, hi, label, max(bucket_floor(start, slo.bucket_seconds), lo), min(end, hi))
        for slo in slos
        for lo, hi, label in _windows(slo, start, end)
    ]
    sums = _event_sums(parts, now)
    uses = {slo.pk: BudgetUse(slo, "events", True, ongoing=_ongoing(incident)) for slo in slos}
    for index, part in enumerate(parts):
        row = sums.get(index, {"events": None, "bad_events": None, "present": 0})
        expected = _expected_buckets(part.a, part.b, part.slo.bucket_seconds)
        coverage = min(row["present"] / expected, 1.0) if expected else 1.0
        used = float(row["bad_events"] or 0.0) if row["present"] or not expected else None
        budget = allowance(part.slo.target) * row["events"] if row["events"] else None
        uses[part.slo.pk].windows.append(
            WindowUse(part.lo, part.hi, part.label, max(start, part.lo), part.b, used, budget, coverage)
        )
    return uses


def _ongoing(incident: Incident) -> bool:
    return incident.mitigated_at is None and incident.resolved_at is None


def incident_slos(incident: Incident):
    """The SLOs (not paused) of the incident's primary and affected services, with their service."""
    affected = Incident.services.through.objects.filter(incident_id=incident.pk).values("service_id")
    services = Q(service_id__in=affected) | Q(service_id=incident.primary_service_id)
    return SLO.objects.filter(services, paused=False).select_related("service").order_by("service__name", "name", "pk")


def incident_budget(incident: Incident, *, now: dt.datetime | None = None) -> list[BudgetUse]:
    """What ``incident`` used of each SLO's error budget (see the module docstring); [] without SLOs.

    ``now`` (default: now) ends an impact that has not ended and bounds the
    events read.
    """
    now = now or timezone.now()
    start, end = incident.started_at, max(impact_end(incident, now), incident.started_at)
    slos = list(incident_slos(incident))
    events = _events_uses([slo for slo in slos if slo.is_events], incident, start, end, now)
    return [events[slo.pk] if slo.is_events else _time_use(slo, incident, start, end, now) for slo in slos]
