"""Web pages for on call: every schedule with who is on call now and next; a schedule's next weeks and overrides."""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ownership.models import User
from ownership.permissions import may_take_swap, may_write
from sredesk.exceptions import PermissionDenied, StateConflict
from sredesk.tokens import token_hash

from . import calendar, drawing
from .forms import OverrideForm, SwapAskForm
from .handoffs import handoff_due, handoff_note_add
from .models import HandoffNote, Override, PersonCalendar, Schedule, Swap
from .paging import paged_for_schedule
from .selectors import my_upcoming_shifts, on_call_at, schedule_final, shifts_of
from .services import (
    calendar_token_issue,
    calendar_token_revoke,
    override_create,
    person_calendar_issue,
    person_calendar_revoke,
)
from .swaps import swap_ask, swap_cancel, swap_take, swaps_expire

WEEKS = (1, 2, 3, 4)


@login_required
def schedule_list_view(request: HttpRequest) -> HttpResponse:
    """Every schedule with its team, zone, who is on call now and who is next (one final-schedule batch), and the
    signed-in person's own shifts in the next 14 days."""
    schedules = list(Schedule.objects.select_related("team").order_by("name"))
    now = timezone.now()
    answers = on_call_at([s.pk for s in schedules], now)
    people = User.objects.in_bulk({s.user_id for pair in answers.values() for s in pair if s and s.user_id})
    rows = [(s, *answers.get(s.pk, (None, None))) for s in schedules]
    asked = set(Swap.objects.filter(asked_by_id=request.user.pk, state=Swap.State.ASKED, end__gt=now).values_list(
        "schedule_id", "start"))  # fmt: skip
    mine = [(schedule, shift, (schedule.pk, shift.start) in asked)
            for schedule, shift in my_upcoming_shifts(request.user.pk, now=now)]  # fmt: skip
    has_feed = PersonCalendar.objects.filter(user_id=request.user.pk).exists()
    context = {"rows": rows, "people": people, "now": now, "mine": mine, "has_feed": has_feed}
    return render(request, "oncall/schedules.html", context)


@login_required
def schedule_view(request: HttpRequest, slug: str) -> HttpResponse:
    """A schedule: on call now and next, the next weeks drawn from the final schedule (``?weeks=1..4``, default 2),
    its shifts as a table, upcoming overrides, and the override form (POST; the schedule's team and staff)."""
    schedule = get_object_or_404(Schedule.objects.select_related("team"), slug=slug)
    weeks = request.GET.get("weeks", "2")
    weeks = int(weeks) if weeks in {str(w) for w in WEEKS} else 2
    if request.method == "POST" and request.POST.get("calendar") in ("issue", "revoke"):
        return _calendar_link(request, schedule)
    form = OverrideForm(request.POST if request.method == "POST" else None, zone=schedule.timezone)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            override_create(schedule_id=schedule.pk, actor=request.user, user=form.cleaned_data["user"],
                            kind=form.cleaned_data["kind"], start=form.instant("start"), end=form.instant("end"),
                            note=form.cleaned_data["note"])  # fmt: skip
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
            status = 403
        else:
            messages.success(request, "Override saved.")
            return redirect("oncall:schedule", slug=schedule.slug)
    if form.errors and status == 200:
        status = 400
    now = timezone.now()
    final = schedule_final(schedule, start=now, end=now + dt.timedelta(weeks=weeks))
    people = User.objects.in_bulk({s.user_id for s in final.shifts if s.user_id})
    names = {pk: str(user) for pk, user in people.items()}
    swaps = _open_swaps(request, schedule, now)
    context = {
        "schedule": schedule,
        "paged": paged_for_schedule(schedule, now),
        "final": final,
        "people": people,
        "svg": drawing.draw(final, schedule.timezone, names),
        "legend": drawing.legend(final, names),
        "weeks": weeks,
        "week_choices": WEEKS,
        "overrides": Override.objects.filter(schedule=schedule, end__gt=now).select_related("user").order_by("start"),
        "form": form,
        "may_write": may_write(request.user, schedule),
        "swaps": swaps,
        "asked_starts": [swap.start for swap, *_ in swaps if swap.asked_by_id == request.user.pk],
        "now": now,
        "handoff_due": handoff_due(schedule, request.user.pk, now=now),
        "my_notes": HandoffNote.objects.filter(schedule=schedule, author=request.user, handed_over_at__isnull=True),
    }
    return render(request, "oncall/schedule.html", context, status=status)


def _open_swaps(request: HttpRequest, schedule: Schedule, now: dt.datetime) -> list[tuple[Swap, bool, bool]]:
    """[(asked swap, whether the viewer may take it, may cancel it)] of the schedule, by start."""
    swaps_expire(now=now)
    rows = Swap.objects.filter(schedule=schedule, state=Swap.State.ASKED).select_related("asked_by").order_by("start")
    rows = [(swap, may_take_swap(request.user, swap), may_write(request.user, swap)) for swap in rows[:50]]
    return rows


@login_required
@require_POST
def swap_ask_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask for a swap of one of your shifts (from "your shifts" or the schedule page); back to where it was asked."""
    schedule = get_object_or_404(Schedule, slug=slug)
    form = SwapAskForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
    else:
        try:
            swap_ask(schedule_id=schedule.pk, actor=request.user, start=form.cleaned_data["start"],
                     end=form.cleaned_data["end"], note=form.cleaned_data["note"])  # fmt: skip
        except ValidationError as exc:
            for error in exc.messages:
                messages.error(request, error)
        else:
            messages.success(request, "Swap asked: it shows on the schedule page until someone takes it.")
    if request.POST.get("back") == "list":
        return redirect("oncall:schedules")
    return redirect("oncall:schedule", slug=schedule.slug)


@login_required
@require_POST
def handoff_note_view(request: HttpRequest, slug: str) -> HttpResponse:
    """The outgoing person's note for whoever takes over next (``oncall.handoffs.handoff_note_add``)."""
    schedule = get_object_or_404(Schedule, slug=slug)
    try:
        note = handoff_note_add(schedule_id=schedule.pk, actor=request.user, text=request.POST.get("text", "")[:5000])
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        when = f"{note.handoff_at:%Y-%m-%d %H:%M} UTC"
        messages.success(request, f"Note saved: the hand-off notice at {when} (as scheduled now) carries it.")
    return redirect("oncall:schedule", slug=schedule.slug)


@login_required
@require_POST
def swap_move_view(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    """Take (``move="take"``) or cancel an asked swap; a refusal or a lost race is a message on the schedule page."""
    swap = get_object_or_404(Swap.objects.select_related("schedule"), pk=pk)
    try:
        if move == "take":
            swap_take(swap_id=swap.pk, actor=request.user)
            messages.success(request, f"You took {swap.asked_by}'s time: the schedule shows it as a swap.")
        else:
            swap_cancel(swap_id=swap.pk, actor=request.user)
            messages.success(request, "Swap cancelled.")
    except (StateConflict, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))
    return redirect("oncall:schedule", slug=swap.schedule.slug)


def _calendar_link(request: HttpRequest, schedule: Schedule) -> HttpResponse:
    """Issue (shown once, in a message) or revoke the schedule's iCal feed link; the team and staff only (403)."""
    if request.POST["calendar"] == "revoke":
        calendar_token_revoke(schedule_id=schedule.pk, actor=request.user)
        messages.success(request, "The calendar feed is stopped: its link no longer works.")
    else:
        _, token = calendar_token_issue(schedule_id=schedule.pk, actor=request.user)
        url = settings.SREDESK_BASE_URL + reverse("oncall:calendar", args=[token])
        messages.warning(request, f"Calendar link (shown only now; the old one stops working): {url} "
                                  "— add ?person=<username> for one person's shifts.")  # fmt: skip
    return redirect("oncall:schedule", slug=schedule.slug)


def calendar_view(request: HttpRequest, token: str) -> HttpResponse:
    """The schedule's iCal feed (no sign-in: the token in the link is the key; 404 once revoked).

    ``?person=<username>`` keeps one person's shifts. A week back and two months ahead of now, from the final
    schedule.
    """
    schedule = Schedule.objects.filter(calendar_token_hash=token_hash(token)).exclude(calendar_token_hash="").first()
    if schedule is None:
        raise Http404("No such calendar.")
    person = None
    if "person" in request.GET:
        person = User.objects.filter(username=request.GET["person"][:150]).first()
        if person is None:
            raise Http404("No such person.")
    now = timezone.now()
    final = schedule_final(schedule, start=now - calendar.PAST, end=now + calendar.AHEAD)
    people = User.objects.in_bulk({s.user_id for s in final.shifts if s.user_id})
    body = calendar.render(schedule, final, people, person=person, now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{schedule.slug}.ics"'
    return response


@login_required
@require_POST
def person_calendar_link_view(request: HttpRequest) -> HttpResponse:
    """Issue (shown once, in a message) or stop the signed-in person's own iCal feed of their shifts."""
    if request.POST.get("calendar") == "revoke":
        person_calendar_revoke(user=request.user, actor=request.user)
        messages.success(request, "Your calendar feed is stopped: its link no longer works.")
    else:
        token = person_calendar_issue(user=request.user, actor=request.user)
        url = settings.SREDESK_BASE_URL + reverse("oncall:person_calendar", args=[token])
        messages.warning(request, f"Your calendar link (shown only now; the old one stops working): {url}")
    return redirect("oncall:schedules")


def person_calendar_view(request: HttpRequest, token: str) -> HttpResponse:
    """A person's own iCal feed: their shifts on every schedule, a week back and two months ahead, from the final
    schedules (``oncall.selectors.shifts_of``). No sign-in: the token is the key; 404 once stopped or replaced."""
    feed = PersonCalendar.objects.filter(token_hash=token_hash(token[:200])).select_related("user").first()
    if feed is None or not feed.user.is_active:
        raise Http404("No such calendar.")
    now = timezone.now()
    shifts = shifts_of(feed.user.pk, start=now - calendar.PAST, end=now + calendar.AHEAD)
    body = calendar.render_person(feed.user, shifts, now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="on-call.ics"'
    return response
