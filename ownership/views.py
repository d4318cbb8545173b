"""Web UI pages for who owns what: the service catalog, a dashboard per service, "my work" and your profile."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from reports.views import trend_context
from slos.policy import policy_effect, services_under_policy
from slos.selectors import slos_by_service

from . import charts
from .forms import ProfileForm, zone_names
from .models import Service
from .profile import person_profile_update, person_reachability
from .selectors import my_work, service_catalog, service_dashboard

CHART_WEEKS = 12


class SredeskLoginView(LoginView):
    """Django's login page, which names the demo login when the embedded demo is on."""

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "demo_login": settings.SREDESK_DEMO_LOGIN}


@login_required
def service_catalog_view(request: HttpRequest) -> HttpResponse:
    """Every service: owner, tier, catalog gaps, SLO statuses (and whether its team's error-budget policy holds it),
    open incidents, open action items, regression tests.

    ``?gaps=1`` shows only the services with a catalog gap.
    """
    rows = service_catalog(now=timezone.now())
    slos = slos_by_service()  # one query: every SLO with its last state
    held = set(services_under_policy().values_list("pk", flat=True))  # one query
    for row in rows:
        row.slos = slos.get(row.service.pk, [])
        row.budget_policy = row.service.pk in held
    only_gaps = request.GET.get("gaps") == "1"
    with_gaps = sum(1 for row in rows if row.gaps)
    if only_gaps:
        rows = [row for row in rows if row.gaps]
    return render(request, "ownership/catalog.html", {"rows": rows, "only_gaps": only_gaps, "with_gaps": with_gaps})


@login_required
def service_dashboard_view(request: HttpRequest, slug: str) -> HttpResponse:
    """One service: who answers for it, its links and gaps, incidents over time, MTTA/MTTR trend, its
    loop-closure and response figures beside the previous period's, open action items and regression tests."""
    service = get_object_or_404(Service.objects.select_related("team").prefetch_related("repositories"), slug=slug)
    now = timezone.now()
    dashboard = service_dashboard(service, since=charts.window_start(now=now, weeks=CHART_WEEKS), now=now)
    from oncall.gaps import upcoming_gaps  # on call builds on ownership, not the other way round
    from oncall.paging import paged_for_services

    paged = paged_for_services([service], now)[0]
    context = {
        "service": service,
        "paged": paged,
        "oncall_gaps": upcoming_gaps([paged.schedule.pk], now=now)[paged.schedule.pk] if paged.schedule else [],
        "dashboard": dashboard,
        "gaps": service.catalog_gaps,
        "lead": service.team.lead if service.team else None,
        "per_week": charts.incidents_per_week(dashboard.window_incidents, now=now, weeks=CHART_WEEKS),
        "trends": charts.response_trends(dashboard.window_incidents, now=now, weeks=CHART_WEEKS),
        "weeks": CHART_WEEKS,
        "now": now,
        "slos": slos_by_service([service.pk]).get(service.pk, []),
        "budget_policy": policy_effect(service),
        **trend_context("service", now=now, only=service.pk),
    }
    return render(request, "ownership/service.html", context)


@login_required
def my_work_view(request: HttpRequest) -> HttpResponse:
    """What the signed-in person owes, by due date: post-mortems, regression tests, action items;
    their open incidents; the reminders sent to them."""
    now = timezone.now()
    work = my_work(request.user, now=now)
    return render(request, "ownership/my_work.html", {"work": work, "now": now})


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own settings (time zone, working hours, Slack id, email) and how reminders reach them.

    Saving goes through ``ownership.profile.person_profile_update``, which checks every value;
    its errors land on their fields and nothing is stored.
    """
    person = request.user
    form = ProfileForm.for_person(person, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data, working_days="".join(form.cleaned_data["working_days"]))
        try:
            person_profile_update(user_id=person.pk, **values)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, "Profile saved.")
            return redirect("ownership:profile")
    context = {
        "form": form,
        "reach": person_reachability(person, now=timezone.now()),
        "zone_names": zone_names(),
    }
    return render(request, "ownership/profile.html", context, status=400 if form.errors else 200)
