"""A lifecycle move as every door reports it: did it change anything, and if not, who got there first and when.

The web UI's message and the API's ``changed`` / ``hint`` both come from
``incident_move`` (BR-15, issue 15 item 8): a repeated move (a double click, a
retried request, two people at once) changes nothing, and says so.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet

from ownership.models import User
from sredesk.templatetags.sredesk_ui import when_text

from . import services
from .models import Incident, TimelineEvent

# verb: (status it leads to, past tense)
MOVES = {
    "acknowledge": (Incident.Status.ACKNOWLEDGED, "acknowledged"),
    "mitigate": (Incident.Status.MITIGATED, "mitigated"),
    "resolve": (Incident.Status.RESOLVED, "resolved"),
    "reopen": (Incident.Status.TRIGGERED, "re-opened"),
}
PAST = {verb: past for verb, (_, past) in MOVES.items()}

Subject = TypeVar("Subject", bound=Model)


@dataclass(frozen=True)
class MoveOutcome(Generic[Subject]):
    """What a move did to ``subject`` (an incident, a post-mortem): ``changed``: this call made the move; else
    ``hint`` says who got there first, and when."""

    subject: Subject
    changed: bool
    hint: str = ""


def move_reported(
    model: type[Subject], pk: int, target: str | None, move: Callable[[], Subject], hint: Callable[[Subject], str]
) -> MoveOutcome[Subject]:
    """Run ``move`` (a service verb) and say whether it changed anything; the one shape of every door's report.

    The row's status is read under its lock first (inside the caller's
    transaction; the service takes the same lock), so of two concurrent moves
    exactly one is told it made the change. When the status already was
    ``target``, ``hint(subject)`` says who got there first. Raises what
    ``move`` raises.
    """
    before = model.objects.select_for_update().only("status").get(pk=pk).status
    subject = move()
    if before != target:
        return MoveOutcome(subject, changed=True)
    return MoveOutcome(subject, changed=False, hint=hint(subject))


def moved_by(events: QuerySet[TimelineEvent]) -> str:
    """ "by Alice at 2024-05-01 12:05 CEST" (the viewer's zone) for the latest of ``events``; "" when there is none."""
    event = events.select_related("actor").order_by("-at", "-id").first()
    if event is None:
        return ""
    return by_whom_at(event.actor, event.at)


def by_whom_at(who: User | None, at: datetime) -> str:
    """ "by Alice at 2024-05-01 12:05 CEST", or "at ..." when nobody (sredesk itself) did it."""
    return (f"by {who} " if who else "") + f"at {when_text(at)}"


@transaction.atomic
def incident_move(
    *, verb: str, incident_id: int, actor: User | None, source: str, at: datetime | None = None
) -> MoveOutcome[Incident]:
    """Run ``services.TRANSITIONS[verb]`` and say whether it changed anything (``move_reported``).

    Raises what the service raises (InvalidTransition, ValidationError naming the time field).
    """
    return move_reported(
        Incident,
        incident_id,
        MOVES[verb][0],
        lambda: services.TRANSITIONS[verb](incident_id=incident_id, actor=actor, source=source, at=at),
        lambda incident: already_text(incident, verb),
    )


def who_and_when(incident: Incident, verb: str) -> str:
    """ "by Alice at 2024-05-01 12:05 CEST" (the viewer's zone) for the move that put the incident where it is."""
    if verb == "acknowledge" and incident.acknowledged_at:
        return by_whom_at(incident.acknowledged_by, incident.acknowledged_at)
    return moved_by(incident.timeline.filter(kind=TimelineEvent.Kind.STATUS_CHANGE, data__to=MOVES[verb][0]))


def already_text(incident: Incident, verb: str) -> str:
    """ "INC-42 was already acknowledged by Alice at 2024-05-01 12:05 CEST." """
    return f"{incident.public_id} was already {MOVES[verb][1]} {who_and_when(incident, verb)}".strip() + "."
