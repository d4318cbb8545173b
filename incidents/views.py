"""Web UI pages for incidents. Thin: every write goes through ``incidents.services``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from . import services
from .forms import DeclareIncidentForm, NoteForm
from .models import Incident, Source


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    """Incidents, open ones first, newest first."""
    incidents = Incident.objects.select_related("owning_team", "commander", "primary_service").order_by(
        "resolved_at", "-detected_at", "-id"
    )[:200]
    return render(request, "incidents/list.html", {"incidents": incidents})


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One incident: status, roles, durations, timeline, the allowed transitions and a note form."""
    incident = get_object_or_404(
        Incident.objects.select_related("owning_team", "commander", "communications_lead", "primary_service"), pk=pk
    )
    allowed = [verb for verb in services.TRANSITIONS if can_proceed(getattr(incident, verb))]
    timeline = incident.timeline.select_related("actor")
    return render(
        request,
        "incidents/detail.html",
        {"incident": incident, "allowed": allowed, "timeline": timeline, "note_form": NoteForm()},
    )


@login_required
def incident_declare_view(request: HttpRequest) -> HttpResponse:
    form = DeclareIncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_declare(actor=request.user, source=Source.WEB, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("incidents:detail", pk=incident.pk)
    return render(request, "incidents/declare.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
@login_required
def incident_transition_view(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    """POST acknowledge / mitigate / resolve / reopen; a repeated click is a no-op."""
    transition = services.TRANSITIONS.get(verb)
    if transition is None:
        raise Http404("No such transition.")
    incident = get_object_or_404(Incident, pk=pk)
    try:
        transition(incident_id=incident.pk, actor=request.user, source=Source.WEB)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("incidents:detail", pk=pk)


@require_POST
@login_required
def incident_note_view(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.incident_add_note(
            incident_id=incident.pk, text=form.cleaned_data["text"], actor=request.user, source=Source.WEB
        )
    else:
        messages.error(request, "A note needs some text.")
    return redirect("incidents:detail", pk=pk)
