"""Web UI pages for post-mortems. Thin: the rules live in services and selectors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from incidents.models import Source

from .export import SECTIONS, postmortem_markdown
from .forms import ActionItemForm, LinkRegressionTestForm, PostMortemSectionsForm, SnoozeForm
from .models import PostMortem
from .selectors import postmortems_open
from .services import (
    POSTMORTEM_VERBS,
    postmortem_completion_blockers,
    postmortem_snooze,
    postmortem_transition,
    regression_test_link,
)


@login_required
def open_postmortems(request: HttpRequest) -> HttpResponse:
    """Every post-mortem not yet complete: owner, due date, reminders sent, regression test or not."""
    return render(request, "postmortems/open.html", {"postmortems": postmortems_open()})


@login_required
def link_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Form to link a regression test to a post-mortem; POST links it (idempotently)."""
    postmortem = get_object_or_404(PostMortem.objects.select_related("incident"), pk=pk)
    form = LinkRegressionTestForm(request.POST or None, postmortem=postmortem)
    if request.method == "POST" and form.is_valid():
        try:
            test, created = regression_test_link(
                postmortem=postmortem, actor=request.user, source=Source.WEB, **form.cleaned_data
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            verb = "Linked" if created else "Already linked:"
            messages.success(request, f"{verb} {test.test_id} to {postmortem.incident.public_id}. Reminders stop.")
            return redirect("postmortems:detail", pk=postmortem.pk)
    tests = postmortem.regression_tests.select_related("repository")
    reminders = postmortem.reminders.prefetch_related("deliveries")[:20]
    return render(
        request,
        "postmortems/link_test.html",
        {"postmortem": postmortem, "form": form, "tests": tests, "reminders": reminders},
        status=400 if form.errors else 200,
    )


def _postmortem(pk: int) -> PostMortem:
    return get_object_or_404(
        PostMortem.objects.select_related("incident__owning_team", "incident__primary_service", "owner"), pk=pk
    )


@login_required
def postmortem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A post-mortem: rendered sections, workflow buttons, action items, regression tests, reminders."""
    postmortem = _postmortem(pk)
    today = timezone.now().date()
    items = list(postmortem.action_items.select_related("owner"))
    for item in items:
        item.overdue = bool(item.due_date and item.due_date < today and item.status in ("open", "in_progress"))
    context = {
        "postmortem": postmortem,
        "sections": [(title, getattr(postmortem, field)) for field, title in SECTIONS],
        "items": items,
        "tests": postmortem.regression_tests.select_related("repository"),
        "reminders": postmortem.reminders.prefetch_related("deliveries")[:20],
        "verbs": [v for v in POSTMORTEM_VERBS if POSTMORTEM_VERBS[v] != postmortem.status],
        "blockers": postmortem_completion_blockers(postmortem) if postmortem.status == "published" else [],
        "relaxed": postmortem.regression_test_requirement == "linked",
        "item_form": ActionItemForm(),
        "snooze_form": SnoozeForm(),
    }
    return render(request, "postmortems/detail.html", context)


@login_required
def postmortem_edit(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = _postmortem(pk)
    form = PostMortemSectionsForm(request.POST or None, instance=postmortem)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Post-mortem saved.")
        return redirect("postmortems:detail", pk=pk)
    return render(request, "postmortems/edit.html", {"postmortem": postmortem, "form": form})


@require_POST
@login_required
def postmortem_transition_view(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    try:
        postmortem_transition(postmortem_id=_postmortem(pk).pk, verb=verb, actor=request.user, source=Source.WEB)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("postmortems:detail", pk=pk)


@require_POST
@login_required
def action_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = _postmortem(pk)
    form = ActionItemForm(request.POST)
    if form.is_valid():
        form.instance.postmortem = postmortem
        form.save()
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect("postmortems:detail", pk=pk)


@login_required
def postmortem_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole post-mortem as a Markdown file download."""
    postmortem = _postmortem(pk)
    response = HttpResponse(postmortem_markdown(postmortem), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{postmortem.incident.public_id}-postmortem.md"'
    return response


@require_POST
@login_required
def postmortem_snooze_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Snooze reminders until a time (entered in UTC) with a reason; an empty time resumes them."""
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(" ".join(v) for v in form.errors.values()))
        return redirect("postmortems:detail", pk=pk)
    until = form.cleaned_data["until"]  # aware: the form reads it in the site's zone, UTC
    try:
        postmortem_snooze(
            postmortem_id=_postmortem(pk).pk,
            until=until,
            reason=form.cleaned_data["reason"],
            actor=request.user,
            source=Source.WEB,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("postmortems:detail", pk=pk)
