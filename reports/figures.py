"""Loop-closure and response figures per team or per service over a period: the one computation.

Every door (the API's JSON and CSV, the team report page, the overview and
the service page, the weekly summary) shows what :func:`report` returns.
A group is a team (an incident's ``owning_team``) or a service (its
``primary_service``); a post-mortem and its regression tests count for their
incident's group. The period is ``[start, end)`` in aware UTC
(``reports.period``). Durations are seconds (float, to the millisecond).

Post-mortems (``postmortems``):

* ``published``: published in the period (``published_at``);
* ``declined``: declined in the period (``declined_at``);
* ``with_verified_test``: of those published in the period, how many have an
  accepted regression test now (``PostMortemQuerySet.with_accepted_test``:
  verified, or linked where the service's CI does not report to sredesk);
* ``owing_regression_test``: of those whose regression-test debt began in
  the period (``owes_since``: publication or the due instant, whichever came
  first, so a late draft counts from its due instant), how many still owe a
  test now (``PostMortemQuerySet.owing_regression_test``): the rule and the
  start of the overview's debt list, which therefore lists the same ones
  (and older ones, whose debt began before the period);
* ``published_to_verified_seconds``: over those published in the period
  that ever had an accepted test, from ``published_at`` to ``accepted_at``
  (the first time one was accepted; 0 when it was before publication):
  ``count``, ``median`` and ``p90``.

Regression tests (``regression_tests``): turns to ``failing`` or ``missing``
in the period (``postmortems.querysets.regression_test_turns_red``):
``turned_red``; ``green_again``, how many of those were ``verified`` again
since; ``time_to_green_seconds`` (``count``/``median``/``p90``) from the turn
to that verification.

Incidents (``incidents``): detected in the period (``detected_at``), per
severity (``SEV1``..``SEV4``, always all four): ``count`` and, for each
duration of ``incidents.querysets.DURATIONS`` (time to acknowledge =
MTTA: ``detected_at`` → ``acknowledged_at``; time to mitigate:
``started_at`` → ``mitigated_at``; time to resolve = MTTR: ``started_at``
→ ``resolved_at``), ``<name>_seconds``: ``count`` (incidents with that end
recorded), ``mean``, ``median``, ``p90``; None when count is 0.

Cost: four queries (three for ``"all"``) whatever the number of groups or rows (one for the
groups, one aggregate each for incidents, post-mortems and regression-test
turns; percentiles in SQL, ``sredesk.aggregates``).
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Avg, Case, Count, F, Q, Value, When

from incidents.models import Incident, Severity
from incidents.querysets import DURATIONS
from ownership.models import Service, Team
from postmortems.models import PostMortem
from postmortems.querysets import regression_test_turns_red
from sredesk.aggregates import Percentile, Seconds, round_seconds

from .period import Period


@dataclass(frozen=True)
class GroupKind:
    """How a report groups: the model, and the path from an incident to it."""

    name: str  # "team", "service" or "all"
    model: type | None
    from_incident: str | None  # field of Incident; None: one group of everything


GROUPS = {
    "team": GroupKind("team", Team, "owning_team"),
    "service": GroupKind("service", Service, "primary_service"),
    "all": GroupKind("all", None, None),
}
SEVERITIES = [Severity(s).label for s in Severity.values]


def _stats(row: dict, prefix: str, *, mean: bool = False) -> dict:
    stats = {"count": row.get(f"{prefix}_n", 0) or 0}
    if mean:
        stats["mean"] = round_seconds(row.get(f"{prefix}_mean"))
    stats["median"] = round_seconds(row.get(f"{prefix}_p50"))
    stats["p90"] = round_seconds(row.get(f"{prefix}_p90"))
    return stats


def _distribution(prefix: str, expression, *, mean: bool = False) -> dict:
    """Aggregates ``<prefix>_n``, ``_p50``, ``_p90`` (and ``_mean``) of ``expression`` (NULLs ignored)."""
    aggregates = {
        f"{prefix}_n": Count(expression),
        f"{prefix}_p50": Percentile(expression, 0.5),
        f"{prefix}_p90": Percentile(expression, 0.9),
    }
    if mean:
        aggregates[f"{prefix}_mean"] = Avg(expression)
    return aggregates


def _incident_rows(kind: GroupKind, period: Period, only: int | None) -> dict:
    incidents = Incident.objects.detected_between(period.start, period.end)
    if only is not None:
        incidents = incidents.filter(**{f"{kind.from_incident}_id": only})
    aggregates = {"n": Count("pk")}
    for name, (start, end) in DURATIONS.items():
        aggregates |= _distribution(name, Seconds(start, end), mean=True)
    keys = [kind.from_incident] if kind.from_incident else []
    rows = incidents.order_by().values(*keys, "severity").annotate(**aggregates)
    return {(row[keys[0]] if keys else None, row["severity"]): row for row in rows}


def _by_group(queryset, key: str | None, aggregates: dict) -> dict:
    """``{group id: row of aggregates}``; one ``None`` row for everything when ``key`` is None."""
    if key is None:
        return {None: queryset.aggregate(**aggregates)}
    return {row[key]: row for row in queryset.order_by().values(key).annotate(**aggregates)}


def _postmortem_rows(kind: GroupKind, period: Period, only: int | None, now: dt.datetime) -> dict:
    key = f"incident__{kind.from_incident}" if kind.from_incident else None
    published = Q(published_at__gte=period.start, published_at__lt=period.end)
    declined = Q(declined_at__gte=period.start, declined_at__lt=period.end)
    began = Q(owes_since__gte=period.start, owes_since__lt=period.end)
    postmortems = PostMortem.objects.annotate_owes_since().filter(published | declined | began)
    if only is not None:
        postmortems = postmortems.filter(**{f"{key}_id": only})
    wait = Case(
        When(~published | Q(accepted_at__isnull=True), then=None),
        When(accepted_at__lt=F("published_at"), then=Value(0.0)),
        default=Seconds("published_at", "accepted_at"),
    )
    aggregates = {
        "published": Count("pk", filter=published),
        "declined": Count("pk", filter=declined),
        "with_verified_test": Count("pk", filter=published & Q(has_accepted_test=True)),
        "owing_regression_test": Count("pk", filter=began & Q(owes_regression_test=True)),
        **_distribution("wait", wait),
    }
    return _by_group(postmortems.annotate_rules(now=now).annotate_accepted_at(), key, aggregates)


def _turn_rows(kind: GroupKind, period: Period, only: int | None) -> dict:
    key = f"postmortem__incident__{kind.from_incident}" if kind.from_incident else None
    turns = regression_test_turns_red(period.start, period.end)
    if only is not None:
        turns = turns.filter(**{f"{key}_id": only})
    aggregates = {
        "turned_red": Count("history_id"),
        **_distribution("green", Seconds("state_changed_at", "green_again_at")),
    }
    return _by_group(turns, key, aggregates)


def _group(kind: GroupKind, obj) -> dict:
    if kind.model is None:
        return {"kind": kind.name, "id": None, "slug": "", "name": "Everything"}
    if obj is None:
        return {"kind": kind.name, "id": None, "slug": "", "name": f"(no {kind.name})"}
    return {"kind": kind.name, "id": obj.pk, "slug": obj.slug, "name": obj.name}


def report(group_by: str, period: Period, *, now: dt.datetime, only: int | None = None) -> list[dict]:
    """The figures (module docstring) for every team or service (``group_by``), by name, ``only`` one id if given;
    ``"all"``: one row for everything (the overview).

    Every team or service is listed, with zeros where nothing happened; incidents without one form a
    last ``(no team)``/``(no service)`` group when there are any. ``now`` is the instant "now owing"
    and "now accepted" are read at. Raises KeyError for an unknown ``group_by``.
    """
    kind = GROUPS[group_by]
    if kind.model is None:
        only, groups = None, [None]
    else:
        objects = kind.model.objects.order_by("name")
        groups = list(objects.filter(pk=only) if only is not None else objects)
    incidents = _incident_rows(kind, period, only)
    postmortems = _postmortem_rows(kind, period, only, now)
    turns = _turn_rows(kind, period, only)
    ids = [g.pk if g is not None else None for g in groups]
    if (
        kind.model is not None
        and only is None
        and any(key is None for key in [*(k for k, _ in incidents), *postmortems, *turns])
    ):
        groups.append(None)
        ids.append(None)
    return [_figures(kind, obj, pk, incidents, postmortems, turns) for obj, pk in zip(groups, ids, strict=True)]


def _figures(kind: GroupKind, obj, pk, incidents: dict, postmortems: dict, turns: dict) -> dict:
    pm = postmortems.get(pk, {})
    turn = turns.get(pk, {})
    severities = []
    for value, label in zip(Severity.values, SEVERITIES, strict=True):
        row = incidents.get((pk, value), {})
        severities.append(
            {
                "severity": label,
                "count": row.get("n", 0),
                **{f"{name}_seconds": _stats(row, name, mean=True) for name in DURATIONS},
            }
        )
    green = _stats(turn, "green")
    return {
        "group": _group(kind, obj),
        "postmortems": {
            "published": pm.get("published", 0),
            "declined": pm.get("declined", 0),
            "with_verified_test": pm.get("with_verified_test", 0),
            "owing_regression_test": pm.get("owing_regression_test", 0),
            "published_to_verified_seconds": _stats(pm, "wait"),
        },
        "regression_tests": {
            "turned_red": turn.get("turned_red", 0),
            "green_again": green["count"],
            "time_to_green_seconds": green,
        },
        "incidents": {"count": sum(s["count"] for s in severities), "by_severity": severities},
    }
