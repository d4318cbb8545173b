"""The overview (home page): what is burning, what is owed, what is overdue."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from incidents.selectors import incidents_needing_acknowledgement, incidents_open, incidents_open_by_severity
from postmortems.selectors import (
    action_items_overdue,
    postmortems_by_status,
    postmortems_owed,
    postmortems_regression_debt,
    regression_debt_counts,
)
from reports.views import trend_context


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Open incidents by severity, incidents waiting for acknowledgement, post-mortems owed,
    regression-test debt (longest owed first, with reminders sent; its count, and how much of it began before the
    tiles' period: ``regression_debt_counts``), overdue action items, and the loop-closure
    and response figures of the last 28 days beside the 28 before (``reports.views.trend_context``)."""
    now = timezone.now()
    context = {
        "now": now,
        "by_severity": incidents_open_by_severity(),
        "open_incidents": list(incidents_open()[:15]),
        "unacknowledged": list(incidents_needing_acknowledgement()[:15]),
        "owed": list(postmortems_owed(now=now)[:15]),
        "debt": list(postmortems_regression_debt(now=now)[:15]),
        "overdue_items": list(action_items_overdue(now=now)[:15]),
        "postmortem_counts": postmortems_by_status(),
    }
    context["open_total"] = sum(n for _, n in context["by_severity"])
    context |= trend_context("all", now=now)
    # The debt list's count beside the "Still owing a test" tile, which counts the debts begun in its period.
    context["debt_counts"] = regression_debt_counts(now=now, began_before=context["report_period"].start)
    return render(request, "overview.html", context)
