"""Swaps: a person asks someone to take a window of their time on call; the first taker gets it as an override.

Every door (API, web, admin) calls these services. Permissions are
``ownership.permissions`` (``may_write_swap`` to ask and cancel, ``may_take_swap``
to take); bad values raise ``ValidationError`` naming the field; a move the
swap's state does not allow raises ``StateConflict`` (409 in the API) saying
why, for a taken swap who took it and when.

Races: taking locks the swap's row (``select_for_update``) and moves it only
from ``asked``, so of two takers at once the first wins and the second, after
the lock, reads who won. The take then locks the schedule's row, as an ask
does, and re-reads the final schedule: the window must still be all the
asker's (``not_on_call_from``), else 409 ``swap_stale``. Expiry is one
conditional UPDATE (``asked`` whose window began), so it never overwrites a
take either.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications.services import notify
from ownership.models import User
from ownership.permissions import require_take_swap, require_write
from sredesk.exceptions import StateConflict

from .changes import shifts_watched
from .models import Override, Schedule, Swap
from .selectors import schedule_final
from .services import not_past

logger = logging.getLogger(__name__)

MAX_WINDOW = dt.timedelta(days=92)  # as the API's window: a swap is a shift or a few, not a quarter


def swaps_expire(*, now: dt.datetime, swap_ids: list[int] | None = None) -> int:
    """Mark ``expired`` every asked swap whose window has begun (all, or those of ``swap_ids``); returns how many.

    Idempotent, and safe beside a take: the UPDATE holds only rows still ``asked``.
    """
    rows = Swap.objects.filter(state=Swap.State.ASKED, start__lte=now)
    if swap_ids is not None:
        rows = rows.filter(pk__in=swap_ids)
    return rows.update(state=Swap.State.EXPIRED)


@transaction.atomic
def swap_ask(
    *, schedule_id: int, actor: User | None, start: dt.datetime, end: dt.datetime, note: str = "",
    asked_by: User | None = None, now: dt.datetime | None = None,
) -> Swap:  # fmt: skip
    """``asked_by`` (default: the actor) asks someone to take [start, end) of the schedule (aware; UTC stored).

    The window must not have begun (a swap is taken before it starts), the final schedule must name
    ``asked_by`` at every instant of it (a person swaps only their own time), and no asked swap of theirs on
    the schedule may overlap it (else two takers would each get the same time: a double-click on "ask"). Asks
    on one schedule are decided one after the other (its row locked). Raises ValidationError naming
    ``start``/``end``, PermissionDenied unless the actor is the asker or may write the schedule. The schedule
    team's channel is told (once, in the same transaction); the asker and the taker hear "your shifts changed"
    when it is taken.
    """
    now = now or timezone.now()
    asked_by = asked_by or actor
    schedule = Schedule.objects.select_for_update(of=("self",)).select_related("team").get(pk=schedule_id)
    if asked_by is None or not asked_by.is_authenticated:
        raise ValidationError({"asked_by": "Say whose time this swap is for."})
    swap = Swap(schedule=schedule, asked_by=asked_by, start=start, end=end, note=note)
    require_write(actor, swap)
    start = not_past("start", start, now)
    if start <= now:
        raise ValidationError({"start": "must be in the future: a swap is taken before its window begins."})
    if timezone.is_naive(end) or end <= start:
        raise ValidationError({"end": "must be an aware time after start."})
    if end - start > MAX_WINDOW:
        raise ValidationError({"end": f"at most {MAX_WINDOW.days} days after start."})
    asked = Swap.objects.filter(
        schedule=schedule, asked_by=asked_by, state=Swap.State.ASKED, start__gt=now, start__lt=end, end__gt=start
    ).first()  # fmt: skip (begun: expired, swaps_expire)
    if asked is not None:
        raise ValidationError({"start": f"{asked_by} already asked for a swap of this time (swap {asked.pk}, "
                                        f"{asked.start:%Y-%m-%d %H:%M} to {asked.end:%Y-%m-%d %H:%M} UTC): "
                                        "cancel it first to ask again."})  # fmt: skip
    first = not_on_call_from(schedule, asked_by, start=start, end=end)
    if first is not None:
        raise ValidationError({"start": f"{asked_by} is not on call for all of this window (not from "
                                        f"{first:%Y-%m-%d %H:%M} UTC): ask for your own time only."})  # fmt: skip
    swap.start, swap.end = start, end
    swap.full_clean()
    swap.save()
    _announce(swap)
    return swap


def not_on_call_from(schedule: Schedule, person: User, *, start: dt.datetime, end: dt.datetime) -> dt.datetime | None:
    """The first instant of [start, end) (aware) at which the final schedule (layers, overrides, swaps taken:
    ``schedule_final``) does not name ``person``, or None when it names them throughout: whether the window is
    still theirs to give away. A gap (nobody on call) is not theirs. Asking and taking a swap both ask this."""
    final = schedule_final(schedule, start=start, end=end)  # covers the window end to end, gaps included
    others = [shift for shift in final.shifts if shift.user_id != person.pk]
    return max(others[0].start, start) if others else None


def _announce(swap: Swap) -> int:
    """Tell the schedule team's channel that a swap is asked (once per swap), so someone can take it."""
    schedule, team = swap.schedule, swap.schedule.team
    url = settings.SREDESK_BASE_URL + reverse("oncall:schedule", args=[schedule.slug]) + "#swaps"
    subject = f"{swap.asked_by} asks someone to take their time on call for {schedule.name}"
    text = (f"{subject}: {swap.start:%Y-%m-%d %H:%M} UTC to {swap.end:%Y-%m-%d %H:%M} UTC"
            + (f" ({swap.note})" if swap.note else "") + ". Take it on the schedule page.")  # fmt: skip
    return notify(key=f"oncall-swap-asked:{swap.pk}", topic=schedule.slug, subject=subject, text=text, url=url,
                  slack=[team.slack_channel], outbox=[f"team:{team.slug}"])  # fmt: skip


def swap_take(*, swap_id: int, actor: User | None, now: dt.datetime | None = None) -> Swap:
    """The actor takes the swap: a take override for its window in their name, the swap ``taken``. One winner.

    Raises StateConflict (code ``swap_taken``, naming the taker) when someone took it first, ``swap_closed`` when
    it was cancelled or has expired (an asked swap whose window began is marked expired here), ``swap_stale``
    when the final schedule no longer names the asker for all of the window (``not_on_call_from``: their shifts
    moved since they asked), PermissionDenied unless ``may_take_swap``.
    """
    now = now or timezone.now()
    swaps_expire(now=now, swap_ids=[swap_id])
    with transaction.atomic():
        swap = Swap.objects.select_for_update().select_related("schedule", "asked_by").get(pk=swap_id)
        _require_asked(swap)
        require_take_swap(actor, swap)
        # The asker's shifts may have moved since they asked (an override, a rotation change): give away only
        # time that is still theirs. The schedule's row is locked as when asking, so asks and takes of one
        # schedule are decided one after the other.
        Schedule.objects.select_for_update().filter(pk=swap.schedule_id).first()
        moved = not_on_call_from(swap.schedule, swap.asked_by, start=swap.start, end=swap.end)
        if moved is not None:
            raise StateConflict(
                f"{swap.asked_by} is no longer on call for all of this swap's window (not from {moved:%Y-%m-%d %H:%M}"
                " UTC): their shifts changed since they asked, so it can no longer be taken. Ask them to ask again.",
                code="swap_stale",
            )
        with shifts_watched(swap.schedule_id, now=now):  # the asker and the taker are told
            override = Override.objects.create(
                schedule=swap.schedule, kind=Override.Kind.TAKE, user=actor, start=swap.start, end=swap.end,
                note=(f"swap {swap.pk}: takes {swap.asked_by}'s time" + (f" ({swap.note})" if swap.note else ""))[:500],
                created_by=actor,
            )  # fmt: skip
            swap.state, swap.taken_by, swap.taken_at, swap.override = Swap.State.TAKEN, actor, now, override
            swap.save(update_fields=["state", "taken_by", "taken_at", "override"])
    logger.info("Swap taken", extra={"swap": swap.pk, "taker": actor.pk, "override": override.pk})
    return swap


@transaction.atomic
def swap_cancel(*, swap_id: int, actor: User | None, now: dt.datetime | None = None) -> Swap:
    """Withdraw an asked swap (its asker, the schedule's writers). A taken one stays: cancel its override instead.

    Raises StateConflict when it is no longer asked, PermissionDenied under ``may_write_swap``.
    """
    now = now or timezone.now()
    swaps_expire(now=now, swap_ids=[swap_id])
    swap = Swap.objects.select_for_update().select_related("schedule").get(pk=swap_id)
    require_write(actor, swap)
    _require_asked(swap)
    swap.state = Swap.State.CANCELLED
    swap.save(update_fields=["state"])
    return swap


def _require_asked(swap: Swap) -> None:
    if swap.state == Swap.State.TAKEN:
        taker = User.objects.filter(pk=swap.taken_by_id).first()
        raise StateConflict(f"{taker} took this swap first, at {swap.taken_at:%Y-%m-%d %H:%M:%S} UTC.",
                            code="swap_taken")  # fmt: skip
    if swap.state != Swap.State.ASKED:
        raise StateConflict(f"This swap is {swap.state}: it can no longer be taken or cancelled.", code="swap_closed")
