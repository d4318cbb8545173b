"""A lifecycle move as every door reports it: did it change anything, and if not, who got there first and when.

The web UI's message and the API's ``changed`` / ``hint`` both come from
``incident_move`` (BR-15, issue 15 item 8): a repeated move (a double click, a
retried request, two people at once) changes nothing, and says so.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

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


@dataclass(frozen=True)
class MoveOutcome:
    """``changed``: this call made the move; else ``hint`` says who made it first, and when."""

    incident: Incident
    changed: bool
    hint: str = ""


@transaction.atomic
def incident_move(
    *, verb: str, incident_id: int, actor: User | None, source: str, at: datetime | None = None
) -> MoveOutcome:
    """Run ``services.TRANSITIONS[verb]`` and say whether it changed anything.

    The status is read under the row lock the service then takes, so of two
    concurrent moves exactly one is told it made the change. Raises what the
    service raises (InvalidTransition, ValidationError naming the time field).
    """
    before = Incident.objects.select_for_update().only("status").get(pk=incident_id).status
    incident = services.TRANSITIONS[verb](incident_id=incident_id, actor=actor, source=source, at=at)
    if before != MOVES[verb][0]:
        return MoveOutcome(incident, changed=True)
    return MoveOutcome(incident, changed=False, hint=already_text(incident, verb))


def who_and_when(incident: Incident, verb: str) -> str:
    """ "by Alice at 2024-05-01 12:05 CEST" (the viewer's zone) for the move that put the incident where it is."""
    if verb == "acknowledge" and incident.acknowledged_at:
        who, at = incident.acknowledged_by, incident.acknowledged_at
    else:
        event = (
            incident.timeline.filter(kind=TimelineEvent.Kind.STATUS_CHANGE, data__to=MOVES[verb][0])
            .select_related("actor")
            .order_by("-at", "-id")
            .first()
        )
        if event is None:
            return ""
        who, at = event.actor, event.at
    return (f"by {who} " if who else "") + f"at {when_text(at)}"


def already_text(incident: Incident, verb: str) -> str:
    """ "INC-42 was already acknowledged by Alice at 2024-05-01 12:05 CEST." """
    return f"{incident.public_id} was already {MOVES[verb][1]} {who_and_when(incident, verb)}".strip() + "."
