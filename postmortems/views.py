"""Web UI pages for post-mortems. Thin: the rules live in services and selectors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from incidents.models import Source
from ownership import permissions
from slos.budget import incident_budget
from slos.policy import policy_effect
from sredesk.forms import edited_since
from sredesk.versions import EditConflict

from .action_items import action_item_create, action_item_set_status, action_item_update
from .decline import postmortem_decline, postmortem_reopen
from .export import SECTIONS, postmortem_markdown
from .forms import (
    ActionItemForm,
    ActionItemStatusForm,
    DeclineForm,
    LinkRegressionTestForm,
    PostMortemSectionsForm,
    SnoozeForm,
)
from .markdown import render_markdown
from .models import ActionItem, PostMortem
from .moves import postmortem_move
from .regression_tests import regression_test_link
from .selectors import postmortems_open, reminders_sent
from .services import (
    POSTMORTEM_VERBS,
    REGRESSION_TEST_OWED,
    postmortem_completion_blockers,
    postmortem_snooze,
    postmortem_transition_refusal,
    postmortem_update,
    regression_test_owed,
)

VERB_LABELS = {
    "submit_for_review": "Submit for review",
    "request_changes": "Request changes",
    "publish": "Publish",
    "complete": "Mark complete",
}
PREVIEW_MAX_CHARS = 100_000


def _errors(form) -> str:
    return "; ".join(
        f"{(form.fields[k].label if k in form.fields else None) or k.replace('_', ' ')}: {' '.join(v)}"
        for k, v in form.errors.items()
    )


@login_required
def open_postmortems(request: HttpRequest) -> HttpResponse:
    """Every post-mortem not yet complete: owner, due date, reminders sent, regression test or not."""
    return render(request, "postmortems/open.html", {"postmortems": postmortems_open(now=timezone.now())})


@login_required
def link_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Form to link a regression test to a post-mortem; POST links it (idempotently)."""
    postmortem = get_object_or_404(PostMortem.objects.select_related("incident"), pk=pk)
    permissions.require_write(request.user, postmortem)  # the form too, not only its submission
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
            state = test.get_state_display().lower()
            messages.success(request, f"{verb} {test.test_id} to {postmortem.incident.public_id} ({state}).")
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
    items = list(postmortem.action_items.annotate_rules(now=timezone.now()).select_related("owner"))
    may_write = permissions.may_write(request.user, postmortem)
    for item in items:
        # The post-mortem's writers may change every item (no query per item); an item's own owner may change it.
        item.may_write = may_write or permissions.may_write(request.user, item)
        item.status_form = ActionItemStatusForm(
            initial={"status": item.status, "wont_do_reason": item.wont_do_reason}, prefix=f"item{item.pk}"
        )
    # The moves the status allows, each with why the service would refuse it now ("" when it would not): the
    # same question ``postmortem_transition`` asks, so a button is never offered only to be refused.
    verbs = []
    for verb in POSTMORTEM_VERBS:
        refusal = postmortem_transition_refusal(postmortem, verb)
        if refusal is None or refusal.code != "invalid_transition":
            verbs.append((verb, VERB_LABELS[verb], refusal.message if refusal else ""))
    context = {
        "postmortem": postmortem,
        "sections": [(field, title, getattr(postmortem, field)) for field, title in SECTIONS],
        "budget_uses": incident_budget(postmortem.incident),
        "budget_policy": policy_effect(service) if (service := postmortem.incident.primary_service) else None,
        "items": items,
        "tests": postmortem.regression_tests.select_related(
            "repository", "state_run__repository", "linked_by", "action_item"
        ),
        "reminders": postmortem.reminders.prefetch_related("deliveries")[:30],
        "reminders_sent": reminders_sent(postmortem),
        "test_owed": REGRESSION_TEST_OWED.get(regression_test_owed(postmortem), ""),
        "verbs": verbs,
        "blockers": postmortem_completion_blockers(postmortem)
        if postmortem.status == PostMortem.Status.PUBLISHED
        else [],
        "relaxed": postmortem.regression_test_requirement == "linked",
        "item_form": ActionItemForm(postmortem=postmortem),
        "snooze_form": SnoozeForm(),
        "decline_form": DeclineForm() if can_proceed(postmortem.decline) else None,
        "now": timezone.now(),
        # Forms only for those the write rule lets change it; others read, and are told who may write.
        "may_write": may_write,
        "read_only": permissions.denied_message(postmortem),
    }
    return render(request, "postmortems/detail.html", context)


@login_required
def postmortem_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The section editor: Markdown on the left, a live preview (htmx) on the right."""
    postmortem = _postmortem(pk)
    permissions.require_write(request.user, postmortem)  # the form too, not only its submission
    form = PostMortemSectionsForm(request.POST or None, instance=postmortem)
    if request.method == "POST" and form.is_valid():
        try:
            saved = postmortem_update(
                postmortem_id=postmortem.pk,
                actor=request.user,
                source=Source.WEB,
                sections=form.document_data(),
                based_on=form.based_on(),
            )
        except EditConflict as conflict:
            return _edit_conflict(
                request, "postmortems/edit.html", form, conflict, _postmortem(pk), postmortem=postmortem
            )
        messages.success(request, "Post-mortem saved." + _kept_theirs(request, form, saved))
        return redirect("postmortems:detail", pk=pk)
    return render(
        request,
        "postmortems/edit.html",
        {"postmortem": postmortem, "form": form},
        status=400 if form.errors else 200,
    )


def _kept_theirs(request, form, saved) -> str:
    """The sentence that says which changes of others' a merged save kept ("" when none)."""
    kept = form.kept_theirs(saved)
    based_on = form.based_on()
    if not kept or based_on is None:
        return ""
    who = " and ".join(edited_since(saved, based_on.version, before=saved.version, viewer=request.user))
    who = who or "someone else"
    return f" Kept what {who} changed meanwhile: {', '.join(str(k) for k in kept)}."


def _edit_conflict(request, template: str, form, conflict: EditConflict, stored, **context) -> HttpResponse:
    """409: the form again, merged, with each field both changed shown side by side and a choice; nothing saved."""
    based_on = form.based_on()
    who = edited_since(stored, based_on.version if based_on else stored.version, viewer=request.user)
    again = form.after_conflict(conflict, stored)
    context.update({"form": again, "conflict_by": " and ".join(who) or "someone else"})
    return render(request, template, context, status=409)


@require_POST
@login_required
def markdown_preview(request: HttpRequest) -> HttpResponse:
    """The sanitised HTML of one section (``?field=<name>``, the text in the POST), for the editor's preview."""
    field = request.GET.get("field", "")
    text = request.POST.get(field, "") if field in dict(SECTIONS) else request.POST.get("text", "")
    if not text.strip():
        return HttpResponse(format_html('<p class="empty">{}</p>', "Nothing to preview yet."))
    return HttpResponse(render_markdown(text[:PREVIEW_MAX_CHARS]))


@require_POST
@login_required
def postmortem_transition_view(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    postmortem = _postmortem(pk)
    try:
        outcome = postmortem_move(verb=verb, postmortem_id=postmortem.pk, actor=request.user, source=Source.WEB)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if outcome.changed:
            messages.success(request, f"Post-mortem {outcome.subject.get_status_display().lower()}.")
        else:
            messages.info(request, outcome.hint)
    return redirect("postmortems:detail", pk=pk)


@require_POST
@login_required
def action_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = _postmortem(pk)
    form = ActionItemForm(request.POST, postmortem=postmortem)
    if form.is_valid():
        try:
            item = action_item_create(postmortem=postmortem, actor=request.user, source=Source.WEB, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Action item added: {item.title}")
    else:
        messages.error(request, _errors(form))
    return redirect("postmortems:detail", pk=pk)


@login_required
def action_item_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Edit an action item's title, kind, priority, owner, due date and tracker link (status has its own form)."""
    postmortem = _postmortem(pk)
    item = get_object_or_404(ActionItem, pk=item_pk, postmortem=postmortem)
    permissions.require_write(request.user, item)  # the form too, not only its submission
    form = ActionItemForm(request.POST or None, instance=item, postmortem=postmortem)
    if request.method == "POST" and form.is_valid():
        try:
            saved = action_item_update(
                action_item_id=item.pk,
                actor=request.user,
                source=Source.WEB,
                based_on=form.based_on(),
                confirm_past_due=form.cleaned_data.get("confirm_past_due", False),
                **form.document_data(),
            )
        except EditConflict as conflict:
            stored = get_object_or_404(ActionItem, pk=item_pk, postmortem=postmortem)
            return _edit_conflict(
                request, "postmortems/action_item_edit.html", form, conflict, stored, postmortem=postmortem, item=stored
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, f"Action item saved: {saved.title}." + _kept_theirs(request, form, saved))
            return redirect("postmortems:detail", pk=pk)
    return render(
        request,
        "postmortems/action_item_edit.html",
        {"postmortem": postmortem, "item": item, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
@login_required
def action_item_status(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Change an action item's status; won't-do needs a reason."""
    postmortem = _postmortem(pk)
    item = get_object_or_404(ActionItem, pk=item_pk, postmortem=postmortem)
    form = ActionItemStatusForm(request.POST, prefix=f"item{item.pk}")
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("postmortems:detail", pk=pk)
    try:
        item = action_item_set_status(
            action_item_id=item.pk,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["wont_do_reason"],
            actor=request.user,
            source=Source.WEB,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{item.title}” is {item.get_status_display().lower()}.")
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
    """Snooze reminders until a time (typed in the viewer's zone) with a reason; an empty time resumes them."""
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("postmortems:detail", pk=pk)
    until = form.cleaned_data["until"]  # aware: the form reads it in the active zone, the viewer's
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
    else:
        messages.success(request, "Reminders snoozed." if until else "Reminders resumed.")
    return redirect("postmortems:detail", pk=pk)


@require_POST
@login_required
def postmortem_decline_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Decline the post-mortem with the form's reason (``postmortems.decline.postmortem_decline``)."""
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("postmortems:detail", pk=pk)
    try:
        postmortem_decline(
            postmortem_id=_postmortem(pk).pk, reason=form.cleaned_data["reason"], actor=request.user, source=Source.WEB
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Post-mortem declined: it owes nothing and gets no reminders.")
    return redirect("postmortems:detail", pk=pk)


@require_POST
@login_required
def postmortem_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Re-open a declined post-mortem as a draft."""
    postmortem_reopen(postmortem_id=_postmortem(pk).pk, actor=request.user, source=Source.WEB)
    messages.success(request, "Post-mortem re-opened as a draft.")
    return redirect("postmortems:detail", pk=pk)
