"""Report pages: every team's figures, one team's report, and the trend tiles the overview and service page show.

Thin: the period from ``reports.period`` (a malformed one: the page says
why, 400, and shows the default period), figures from
``reports.figures.report``, tiles from ``reports.trend``.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from incidents.querysets import DURATIONS
from ownership.models import Team
from sredesk.inputs import InputError

from .figures import report
from .period import DEFAULT_DAYS, Period, period_from_query
from .trend import tiles

DAY_CHOICES = (7, 28, 90, 365)


def _period(request: HttpRequest, now) -> tuple[Period, str]:
    """The period the request asks for, and the error to show ("" when fine; then the default period)."""
    try:
        return period_from_query(request.GET, now=now), ""
    except InputError as exc:
        return period_from_query({}, now=now), f"{exc.field}: {exc.message}"


def _days_chosen(request: HttpRequest, period: Period, error: str) -> int | None:
    """The "Last N days" the shown period is, so the period form's select says it (28 when no period was asked
    for, not the list's first choice); None for a ``start``/``end`` date range."""
    if error or not ("start" in request.GET or "end" in request.GET):
        return round(period.seconds / 86400)
    return None


def trend_context(group_by: str, *, now, only: int | None = None, days: int = DEFAULT_DAYS) -> dict:
    """What ``reports/_tiles.html`` shows for one group (``only``; the whole of sredesk for ``"all"``) over the
    last ``days`` days beside the ``days`` before: 8 queries."""
    period = period_from_query({"days": str(days)}, now=now)
    current = report(group_by, period, now=now, only=only)[0]
    previous = report(group_by, period.previous(), now=now, only=only)[0]
    return {"report_tiles": tiles(current, previous), "report_period": period, "report_days": days}


def _severity_rows(current: dict, previous: dict) -> list[dict]:
    rows = []
    for now_, before in zip(current["incidents"]["by_severity"], previous["incidents"]["by_severity"], strict=True):
        rows.append(
            {
                "severity": now_["severity"],
                "count": now_["count"],
                "previous_count": before["count"],
                "durations": [(now_[f"{n}_seconds"], before[f"{n}_seconds"]) for n in DURATIONS],
            }
        )
    return rows


@login_required
def team_reports_view(request: HttpRequest) -> HttpResponse:
    """Every team's loop-closure and response figures over the chosen period (``?days=`` or ``?start=&end=``)."""
    now = timezone.now()
    period, error = _period(request, now)
    context = {
        "period": period,
        "error": error,
        "rows": report("team", period, now=now),
        "day_choices": DAY_CHOICES,
        "days_chosen": _days_chosen(request, period, error),
        "query": request.GET.urlencode(),
    }
    return render(request, "reports/teams.html", context, status=400 if error else 200)


@login_required
def team_report_view(request: HttpRequest, slug: str) -> HttpResponse:
    """One team's report: headline figures beside the previous period's, response times by severity,
    and its services' figures."""
    team = get_object_or_404(Team, slug=slug)
    now = timezone.now()
    period, error = _period(request, now)
    current = report("team", period, now=now, only=team.pk)[0]
    previous = report("team", period.previous(), now=now, only=team.pk)[0]
    ids = set(team.services.values_list("pk", flat=True))
    services = [row for row in report("service", period, now=now) if row["group"]["id"] in ids]
    context = {
        "team": team,
        "period": period,
        "previous_period": period.previous(),
        "error": error,
        "figures": current,
        "report_tiles": tiles(current, previous),
        "severities": _severity_rows(current, previous),
        "duration_names": ["Time to acknowledge (MTTA)", "Time to mitigate", "Time to resolve (MTTR)"],
        "services": services,
        "day_choices": DAY_CHOICES,
        "days_chosen": _days_chosen(request, period, error),
        "query": request.GET.urlencode(),
    }
    return render(request, "reports/team.html", context, status=400 if error else 200)
