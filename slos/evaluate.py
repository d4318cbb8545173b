"""The evaluation: every SLO's state recomputed from its data, and its burn alerts' changes sent to ingestion.

Run by the beat task ``slos.evaluate`` (``slos.tasks``) under the single
beat, and safe to run twice at once or again for the same instant: the state
is a pure function of the data and the instant, stored by one upsert per
SLO (``SLOState``, one row each), and an alert rule's change is recorded on
its ``BurnAlert`` row, locked, in the transaction that hands the alert to
ingestion, so a change is sent once (a second evaluation finds it recorded).

Prometheus SLIs are pulled first (``slos.prometheus``): their due buckets
become samples, read like pushed ones; a pull's problem (Prometheus down, an
error answer, buckets without a value) heads the SLO's note.

The number of statements does not grow with the number of SLOs: one read of
the SLOs, one of the events (``tallies.event_tallies``), two of the
incidents, one of the alert rows, and the upserts in batches of
``STATE_BATCH``; alert changes add their own (a change is rare), and
Prometheus SLOs one read of their latest buckets and the samples' upserts
(besides two HTTP requests each).
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from . import alerts, prometheus
from .arithmetic import Figures, Tally, figures, rule_verdict
from .models import SLO, BurnAlert, SLOState
from .tallies import Held, event_tallies, incident_tallies, reads_from
from .windows import Window, rules_for, window_of

logger = logging.getLogger(__name__)

STATE_BATCH = 500
ABSENT = alerts.ABSENT
STATE_FIELDS = [
    "computed_at", "status", "window_start", "window_end", "elapsed_seconds", "covered_seconds", "coverage", "good",
    "total", "attainment", "budget_total", "budget_left", "budget_left_fraction", "burn_rates", "last_data_at", "note",
]  # fmt: skip


@dataclass(frozen=True)
class Verdicts:
    """Each alert rule's verdict for one SLO: True fires, False clears, None cannot say (missing data)."""

    rules: dict[str, bool | None]

    @property
    def paging(self) -> bool:
        return any(self.rules.get(name) for name in alerts.PAGE_RULES)


@dataclass(frozen=True)
class EvaluationResult:
    """What one evaluation did: SLOs evaluated, alert rules that started firing and that resolved."""

    evaluated: int
    fired: int
    resolved: int


def absent_verdict(slo: SLO, held: Held | None, now: dt.datetime) -> bool | None:
    """Events SLIs: whether no bucket has arrived for ``absent_after_seconds`` (BR-36 a and b).

    Measured from the latest bucket's end, or, for an SLO that never had
    data, from its creation. The time SLI never goes absent.
    """
    if not slo.is_events:
        return None
    last = held.last_data_at if held and held.last_data_at else slo.created_at
    return (now - last).total_seconds() >= slo.absent_after_seconds


def verdicts_of(slo: SLO, window: Window, held: Held | None, now: dt.datetime) -> Verdicts:
    """The verdict of every alert rule of this SLO: the burn rules (events SLIs only) and ``absent``."""
    rules: dict[str, bool | None] = {}
    if slo.is_events:
        target = float(slo.target)
        for rule in rules_for(window):
            rules[rule.name] = (
                rule_verdict(rule, target=target, window=window, recent=held.recent, min_bad=slo.alert_min_bad_events)
                if held is not None
                else None  # no data within reach: neither fire nor clear
            )
    rules[ABSENT] = absent_verdict(slo, held, now)
    return Verdicts(rules)


def figures_of(slo: SLO, window: Window, held: Held | None, verdicts: Verdicts) -> Figures:
    """The SLO's figures (``slos.arithmetic.figures``) from what its windows hold."""
    held = held or Held(Tally(), {})
    return figures(
        target=float(slo.target),
        events=slo.is_events,
        window=window,
        tally=held.tally,
        recent=held.recent,
        min_coverage=float(slo.min_coverage),
        paused=slo.paused,
        paging=verdicts.paging,
    )


def state_row(
    slo: SLO, window: Window, numbers: Figures, held: Held | None, now: dt.datetime, *, problem: str | None = None
) -> SLOState:
    """The ``SLOState`` row (unsaved) for these figures; ``problem`` (why a pull left data missing) heads its note."""
    return SLOState(
        slo=slo,
        computed_at=now,
        status=numbers.status,
        window_start=window.start,
        window_end=window.end,
        elapsed_seconds=numbers.elapsed_seconds,
        covered_seconds=numbers.covered_seconds,
        coverage=numbers.coverage,
        good=numbers.good,
        total=numbers.total,
        attainment=numbers.attainment,
        budget_total=numbers.budget_total,
        budget_left=numbers.budget_left,
        budget_left_fraction=numbers.budget_left_fraction,
        burn_rates={str(n): rate for n, rate in numbers.burn_rates.items()},
        last_data_at=held.last_data_at if held else None,
        note=" ".join(text for text in (problem, numbers.note) if text),
    )


def evaluate(now: dt.datetime | None = None, *, slo_ids: list[int] | None = None) -> EvaluationResult:
    """Recompute every SLO's state at ``now`` (default: now), or only ``slo_ids``', and send alert changes.

    Paused SLOs get a ``paused`` state and their firing alerts resolve.
    Alert changes whose ingestion fails are logged and left unrecorded, so
    the next evaluation sends them again.
    """
    now = now or timezone.now()
    slos = SLO.objects.select_related("service")
    if slo_ids is not None:
        slos = slos.filter(pk__in=slo_ids)
    slos = list(slos)
    windows = {slo.pk: window_of(slo, now) for slo in slos}
    active = [slo for slo in slos if not slo.paused]
    prometheus_slos = [s for s in active if s.sli_kind == SLO.SLIKind.EVENTS_PROMETHEUS]
    pulled = prometheus.pull(prometheus_slos, {s.pk: reads_from(s, windows[s.pk], now) for s in prometheus_slos}, now)
    held = event_tallies([s for s in active if s.is_events], windows, now)
    held |= incident_tallies([s for s in active if not s.is_events], windows, now)
    rows, wanted = [], {}
    for slo in slos:
        verdicts = Verdicts({}) if slo.paused else verdicts_of(slo, windows[slo.pk], held.get(slo.pk), now)
        numbers = figures_of(slo, windows[slo.pk], held.get(slo.pk), verdicts)
        problem = pulled[slo.pk].problem if slo.pk in pulled else None
        rows.append(state_row(slo, windows[slo.pk], numbers, held.get(slo.pk), now, problem=problem))
        wanted[slo.pk] = verdicts
    for start in range(0, len(rows), STATE_BATCH):
        SLOState.objects.bulk_create(
            rows[start : start + STATE_BATCH],
            update_conflicts=True,
            unique_fields=["slo"],
            update_fields=STATE_FIELDS,
        )
    fired, resolved = _send_changes({slo.pk: slo for slo in slos}, wanted, windows, now)
    return EvaluationResult(evaluated=len(slos), fired=fired, resolved=resolved)


def _send_changes(slos: dict[int, SLO], wanted: dict[int, Verdicts], windows: dict, now: dt.datetime):
    """Hand every alert rule whose verdict differs from its recorded state to ingestion, one SLO at a time."""
    recorded = {(a.slo_id, a.rule): a for a in BurnAlert.objects.filter(slo_id__in=list(slos))}
    fired = resolved = 0
    for pk, verdicts in wanted.items():
        changes = {}
        for (slo_id, rule), alert in recorded.items():
            if slo_id == pk and alert.firing and (verdicts.rules.get(rule) is False or rule not in verdicts.rules):
                changes[rule] = False  # cleared, paused, or a rule that no longer applies
        for rule, verdict in verdicts.rules.items():
            alert = recorded.get((pk, rule))
            if verdict and not (alert and alert.firing):
                changes[rule] = True
        if not changes:
            continue
        try:
            with transaction.atomic():
                alerts.send_changes(slos[pk], changes, windows[pk], now)
        except Exception:
            logger.exception("SLO alert changes not sent; the next evaluation sends them again", extra={"slo_id": pk})
            continue
        fired += sum(1 for firing in changes.values() if firing)
        resolved += sum(1 for firing in changes.values() if not firing)
    return fired, resolved
