"""Web UI pages for who owns what: the service catalog, a dashboard per service, "my work" and your profile."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from notifications.contact import contact_rules_set, page_channels, page_test_send
from notifications.models import ContactRule
from notifications.page_webhooks import (
    page_webhook_delete,
    page_webhook_deliveries,
    page_webhook_of,
    page_webhook_rotate,
    page_webhook_set,
    secret_answer,
)
from reports.views import trend_context
from slos.policy import policy_effect, services_under_policy
from slos.selectors import slos_by_service
from sredesk.exceptions import TooSoon
from sredesk.inputs import InputError
from sredesk.templatetags.sredesk_ui import duration

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
    their open incidents; the reminders sent to them; their on-call shifts of the next 14 days (the same list as
    the schedules page's "Your shifts", ``oncall.selectors.my_upcoming_shifts``)."""
    from oncall.selectors import my_upcoming_shifts  # on call builds on ownership, not the other way round

    now = timezone.now()
    work = my_work(request.user, now=now)
    shifts = my_upcoming_shifts(request.user.pk, now=now)
    return render(request, "ownership/my_work.html", {"work": work, "now": now, "shifts": shifts})


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
    return profile_render(request, form=form)


def profile_render(request: HttpRequest, *, form: ProfileForm | None = None, status: int | None = None,
                   **extra) -> HttpResponse:  # fmt: skip
    """The profile page for the signed-in person, with ``extra`` context (a page webhook's secret shown once,
    a form's errors); the other forms on it post to their own views and render through this."""
    person = request.user
    form = form or ProfileForm.for_person(person)
    webhook = page_webhook_of(person)
    context = {
        "form": form,
        "reach": person_reachability(person, now=timezone.now()),
        "zone_names": zone_names(),
        "webhook": webhook,
        "webhook_deliveries": page_webhook_deliveries(webhook) if webhook else [],
        "webhook_url": webhook.url if webhook else "",
        "page_plan": page_channels(person),
        "contact_rules": contact_rule_rows(person),
        **extra,
    }
    if status is None:
        status = 400 if form.errors else 200
    return render(request, "ownership/profile.html", context, status=status)


@login_required
@require_POST
def profile_page_webhook_view(request: HttpRequest) -> HttpResponse:
    """Set (``url``), rotate (``action=rotate``) or remove (``action=remove``) your own page webhook.

    A new secret is shown in this one response and never again; a refused URL is shown on its field (400).
    """
    person = request.user
    action = request.POST.get("action", "set")
    hook = page_webhook_of(person)
    try:
        if action == "rotate" and hook is not None:
            return secret_answer(
                profile_render(request, webhook_secret=page_webhook_rotate(actor=person, webhook=hook))
            )
        if action == "remove" and hook is not None:
            page_webhook_delete(actor=person, webhook=hook)
            messages.success(request, "Page webhook removed: pages no longer go there.")
            return redirect("ownership:profile")
        hook, secret = page_webhook_set(actor=person, url=request.POST.get("url", ""), user=person)
    except InputError as exc:
        return profile_render(request, webhook_error=exc.message, webhook_url=request.POST.get("url", ""), status=400)
    if secret:
        return secret_answer(profile_render(request, webhook_secret=secret))
    messages.success(request, "Page webhook moved; its secret is unchanged.")
    return redirect("ownership:profile")


def contact_rule_rows(person) -> list[dict]:
    """One row per page channel for the profile's form: its name, and its delay in minutes ("" when unused)."""
    delays = dict(ContactRule.objects.filter(user=person).values_list("channel", "delay_minutes"))
    return [{"channel": value, "label": label, "delay": delays.get(value, "")}
            for value, label in ContactRule.PageChannel.choices]  # fmt: skip


@login_required
@require_POST
def profile_contact_rules_view(request: HttpRequest) -> HttpResponse:
    """Save how pages reach you: for each channel, after how many minutes (blank: not that channel).

    All blank goes back to the defaults (every channel that reaches you, at once). ``contact_rules_set``
    checks each value; a refused one is shown on the page (400) and nothing is stored.
    """
    rules = []
    for value in ContactRule.PageChannel.values:
        delay = request.POST.get(f"delay_{value}", "").strip()
        if delay:
            rules.append({"channel": value, "delay_minutes": delay})
    try:
        contact_rules_set(actor=request.user, person=request.user, rules=rules)
    except InputError as exc:
        return profile_render(request, contact_error=exc.message, status=400)
    messages.success(request, "Contact rules saved.")
    return redirect(reverse("ownership:profile") + "#contact-rules")


@login_required
@require_POST
def profile_test_page_view(request: HttpRequest) -> HttpResponse:
    """Page yourself alone through your contact rules, marked as a test (once a minute: a double click is one)."""
    try:
        plan = page_test_send(actor=request.user, person=request.user)
    except TooSoon as exc:
        messages.error(request, f"Nothing was sent: one test page a minute. The next is allowed in "
                                f"{duration(exc.wait_seconds())}.")  # fmt: skip
        return redirect(reverse("ownership:profile") + "#contact-rules")
    channels = ", ".join(
        f"{r.channel} at once" if r.delay_minutes == 0 else f"{r.channel} after {r.delay_minutes} min"
        for r in plan.routes
    )  # as the profile's "How pages reach you" says it
    messages.success(request, f"Test page sent: {channels}.")
    return redirect(reverse("ownership:profile") + "#contact-rules")
