"""Web UI pages for post-mortems. Thin: the rules live in services and selectors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from incidents.models import Source

from .forms import LinkRegressionTestForm
from .models import PostMortem
from .selectors import postmortems_open
from .services import regression_test_link


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
            return redirect("postmortems:open")
    tests = postmortem.regression_tests.select_related("repository")
    reminders = postmortem.reminders.prefetch_related("deliveries")[:20]
    return render(
        request,
        "postmortems/link_test.html",
        {"postmortem": postmortem, "form": form, "tests": tests, "reminders": reminders},
        status=400 if form.errors else 200,
    )
