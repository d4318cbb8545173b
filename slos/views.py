"""Web pages of SLOs: the list of every SLO with its status, and a page per SLO with its budget burned down."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from . import charts
from .policy import policy_effect
from .selectors import firing_alerts, slos_with_state, state_of
from .windows import BURN_RULES, BURN_WINDOWS, rules_for, window_name, window_of


@login_required
def slo_list_view(request: HttpRequest) -> HttpResponse:
    """Every SLO: service, target, window, SLI, status, attainment, budget left, coverage."""
    return render(request, "slos/list.html", {"slos": list(slos_with_state())})


@login_required
def slo_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One SLO: its figures, the budget burned down over the window, burn rates against each rule's threshold,
    alerts firing, and the error-budget policy when it is in force for the service."""
    slo = get_object_or_404(slos_with_state(), pk=pk)
    state = state_of(slo)
    data = charts.burn_down(slo, state)
    window = window_of(slo, state.computed_at) if state else None
    rates = state.burn_rates if state else {}
    rules = (
        [
            {
                "rule": rule,
                "threshold": rule.threshold(window.seconds),
                "long": (window_name(rule.long_seconds), rates.get(str(rule.long_seconds))),
                "short": (window_name(rule.short_seconds), rates.get(str(rule.short_seconds))),
            }
            for rule in (rules_for(window) if window else BURN_RULES)
        ]
        if window
        else []
    )
    context = {
        "slo": slo,
        "state": state,
        "chart": charts.burn_down_chart(slo, data) if data else None,
        "burn_windows": [(window_name(n), rates.get(str(n))) for n in BURN_WINDOWS],
        "rules": rules,
        "alerts": firing_alerts(slo),
        "policy": policy_effect(slo.service),
    }
    return render(request, "slos/slo.html", context)
