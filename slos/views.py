"""Web pages of SLOs: the list of every SLO with its status, a page per SLO with its budget burned down, and a
team's error-budget policy."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from ownership import permissions
from ownership.models import Team

from . import charts
from .forms import BudgetPolicyForm
from .models import BudgetPolicy
from .policy import policy_effect, policy_for, services_under_policy
from .selectors import firing_alerts, slos_with_state, state_of
from .services import POLICY_WRITABLE, budget_policy_set
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


@login_required
def team_policy_view(request: HttpRequest, slug: str) -> HttpResponse:
    """A team's error-budget policy (or the defaults), the team's services it holds now, and for the team's
    members and staff a form that changes it (``slos.services.budget_policy_set``; 403 for anyone else)."""
    team = get_object_or_404(Team.objects.select_related("budget_policy"), slug=slug)
    policy = policy_for(team)
    current = BudgetPolicy(team=team, **{name: getattr(policy, name) for name in POLICY_WRITABLE})
    may_write = permissions.may_write(request.user, current)
    form = BudgetPolicyForm(instance=current)
    if request.method == "POST":
        permissions.require_write(request.user, current)  # 403 before the form is read
        form = BudgetPolicyForm(request.POST, instance=current)
        if form.is_valid():
            budget_policy_set(team=team, actor=request.user, **{f: form.cleaned_data[f] for f in POLICY_WRITABLE})
            messages.success(
                request, f"{team.name}'s error-budget policy is saved; the next reminder sweep applies it."
            )
            return redirect("slos:team_policy", slug=team.slug)
    context = {
        "team": team,
        "policy": policy,
        "is_default": policy.pk is None,
        "services": services_under_policy().filter(team=team).order_by("name"),
        "form": form,
        "may_write": may_write,
        "read_only": permissions.denied_message(current),
    }
    return render(request, "slos/team_policy.html", context, status=400 if form.errors else 200)
