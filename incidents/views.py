"""Web UI pages for incidents. Thin: every write goes through ``incidents.services`` (edits: ``incidents.update``)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from ownership import permissions
from slos.budget import incident_budget
from sredesk.exceptions import PermissionDenied
from sredesk.forms import edited_since
from sredesk.pages import keyset_page
from sredesk.versions import EditConflict

from . import services
from .alert_panel import incident_alert_groups
from .filters import IncidentListFilter
from .forms import DeclareIncidentForm, NoteForm, ResponderForm, RoleForm, SeverityForm, add_service_errors, people
from .models import Incident, Source
from .moves import incident_move, who_and_when
from .selectors import OPEN_FIRST_KEYS, incident_list_open_first
from .update import incident_update

PAGE_SIZE = 50
VERBS = {
    # verb: (button label, target status, past tense)
    "acknowledge": ("Acknowledge", Incident.Status.ACKNOWLEDGED, "acknowledged"),
    "mitigate": ("Mark mitigated", Incident.Status.MITIGATED, "mitigated"),
    "resolve": ("Resolve", Incident.Status.RESOLVED, "resolved"),
    "reopen": ("Re-open", Incident.Status.TRIGGERED, "re-opened"),
}


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    """Incidents, open ones first, newest first, filtered by ``incidents.filters.IncidentListFilter``.

    That is the REST API's FilterSet with HTML widgets.

    An htmx request from the filter bar gets only the results, so filtering
    does not reload the page. Pages are keyset pages (``sredesk.pages``): an
    incident declared while someone pages neither repeats nor hides a row.
    """
    filterset = IncidentListFilter(request.GET, queryset=incident_list_open_first(), request=request)
    valid = filterset.is_valid()
    incidents = filterset.qs if valid else filterset.queryset.none()
    page = keyset_page(incidents, OPEN_FIRST_KEYS, request.GET.get("cursor"), PAGE_SIZE)  # not offsets: BR-24
    filtered = any(request.GET.get(name) for name in filterset.filters)
    context = {"filter": filterset, "page": page, "filtered": filtered}
    status = 200 if valid else 400
    if request.htmx and request.htmx.target == "incident-results":
        return render(request, "incidents/_results.html", context, status=status)
    return render(request, "incidents/list.html", context, status=status)


def _incident(pk: int) -> Incident:
    return get_object_or_404(
        Incident.objects.select_related(
            "owning_team", "commander", "communications_lead", "primary_service", "acknowledged_by"
        ),
        pk=pk,
    )


def _timeline(incident: Incident):
    """Entries in absolute time order (the model's ``at, id``), whatever zone they were written in."""
    return incident.timeline.select_related("actor").order_by("at", "id")


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One incident: status, roles, durations, its alerts, timeline, the allowed transitions, severity, a note form."""
    incident = _incident(pk)
    allowed = [(verb, VERBS[verb][0]) for verb in services.TRANSITIONS if can_proceed(getattr(incident, verb))]
    try:
        postmortem = incident.postmortem
    except ObjectDoesNotExist:
        postmortem = None
    responders = list(incident.responders.order_by("first_name", "username"))
    context = {
        "incident": incident,
        "allowed": allowed,
        "timeline": _timeline(incident),
        "severities": SeverityForm.base_fields["severity"].choices,
        "responders": responders,
        "people": people(),
        "services_affected": incident.services.all(),
        "postmortem": postmortem,
        # What the last moves still owe (a post-mortem draft a worker has not created yet, and why).
        "pending_effects": incident.side_effects.filter(done_at__isnull=True),
        # An alert-made incident's alerts, firing first (one query, whatever their number).
        "alert_panel": incident_alert_groups(incident) if incident.integration_id else None,
        # Forms only for those the write rule lets change it; others read, and are told who may write.
        "may_write": permissions.may_write(request.user, incident),
        "read_only": permissions.denied_message(incident),
        # What it used of each SLO's error budget of its services.
        "budget_uses": incident_budget(incident),
    }
    return render(request, "incidents/detail.html", context)


@login_required
def incident_declare_view(request: HttpRequest) -> HttpResponse:
    form = DeclareIncidentForm(request.POST or None, initial={"commander": request.user})  # "I'll take it"
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_declare(actor=request.user, source=Source.WEB, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:  # a commander named for a team the declarer may not write for
            form.add_error(exc.field, exc.message)
            return render(request, "incidents/declare.html", {"form": form}, status=403)
        else:
            messages.success(request, f"{incident.public_id} declared.")
            return redirect("incidents:detail", pk=incident.pk)
    return render(request, "incidents/declare.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
@login_required
def incident_transition_view(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    """POST acknowledge / mitigate / resolve / reopen.

    A repeated click (a double click, a retried request) changes nothing and
    says who got there first and when (BR-15): the status is read under the
    row lock the service takes, so of two concurrent clicks exactly one is
    told it made the change.
    """
    if verb not in services.TRANSITIONS:
        raise Http404("No such transition.")
    get_object_or_404(Incident, pk=pk)
    try:
        outcome = incident_move(verb=verb, incident_id=pk, actor=request.user, source=Source.WEB)
    except ValidationError as exc:
        text = " ".join(exc.messages)
        incident = _incident(pk)
        if verb == "acknowledge" and incident.acknowledged_at:
            text += f" It was acknowledged {who_and_when(incident, verb)}."
        messages.error(request, text)
    else:
        if outcome.changed:
            messages.success(request, f"{outcome.incident.public_id} {VERBS[verb][2]}.")
        else:
            messages.info(request, outcome.hint)
    return redirect("incidents:detail", pk=pk)


@require_POST
@login_required
def incident_note_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a note. From htmx: answer with the refreshed timeline (no page reload)."""
    incident = get_object_or_404(Incident, pk=pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.incident_add_note(
            incident_id=incident.pk, text=form.cleaned_data["text"], actor=request.user, source=Source.WEB
        )
    elif not request.htmx:
        messages.error(request, "A note needs some text.")
    if request.htmx:
        return render(
            request,
            "incidents/_timeline.html",
            {
                "incident": incident,
                "timeline": _timeline(incident),
                "note_error": not form.is_valid(),
                "may_write": permissions.may_write(request.user, incident),
            },
        )
    return redirect("incidents:detail", pk=pk)


@require_POST
@login_required
def incident_severity_view(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    form = SeverityForm(request.POST)
    if form.is_valid():
        before = incident.severity
        try:
            incident = incident_update(
                incident_id=pk,
                severity=form.cleaned_data["severity"],
                actor=request.user,
                source=Source.WEB,
                based_on=form.based_on("severity"),
            )
        except EditConflict:
            _changed_meanwhile(request, form, "severity", _incident(pk).get_severity_display())
        else:
            if incident.severity != before:
                messages.success(request, f"{incident.public_id} is now {incident.get_severity_display()}.")
    else:
        messages.error(request, "Choose a severity from SEV1 to SEV4.")
    return redirect("incidents:detail", pk=pk)


def _changed_meanwhile(request: HttpRequest, form, what: str, now: object) -> None:
    """Say that someone else changed ``what`` while the page was open, to ``now``, and that nothing was saved."""
    incident = _incident(request.resolver_match.kwargs["pk"])
    who = " and ".join(edited_since(incident, form.cleaned_data["version"], viewer=request.user)) or "someone else"
    messages.warning(
        request,
        f"Not changed: {who} set the {what} to {now or 'nobody'} while you had this page open. "
        "Choose again if you still want to change it.",
    )


@require_POST
@login_required
def incident_role_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Set or clear the incident commander or communications lead."""
    get_object_or_404(Incident, pk=pk)
    form = RoleForm(request.POST)
    if form.is_valid():
        role = form.cleaned_data["role"]  # commander or communications_lead
        try:
            incident_update(
                incident_id=pk,
                actor=request.user,
                source=Source.WEB,
                based_on=form.based_on(role),
                **{role: form.cleaned_data["user"]},
            )
        except EditConflict:
            _changed_meanwhile(request, form, services.ROLES[role], getattr(_incident(pk), role))
    else:
        messages.error(request, "; ".join(f"{field}: {' '.join(v)}" for field, v in form.errors.items()))
    return redirect("incidents:detail", pk=pk)


@require_POST
@login_required
def incident_responder_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Add or remove a responder."""
    get_object_or_404(Incident, pk=pk)
    form = ResponderForm(request.POST)
    if form.is_valid():
        services.incident_set_responder(
            incident_id=pk,
            user=form.cleaned_data["user"],
            responding=form.cleaned_data["responding"],
            actor=request.user,
            source=Source.WEB,
        )
    else:
        messages.error(request, "user: Choose a person.")
    return redirect("incidents:detail", pk=pk)
