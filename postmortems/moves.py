"""A post-mortem's workflow move as every door reports it: changed, or already there (who moved it, and when).

The web UI's message and the API's ``changed`` / ``hint`` both come from
``postmortem_move``, as ``incidents.moves`` does for incidents (BR-15, issue 15
item 8): publishing twice changes nothing, and says so.
"""

from dataclasses import dataclass

from django.db import transaction

from incidents.models import TimelineEvent
from ownership.models import User
from sredesk.templatetags.sredesk_ui import when_text

from .models import PostMortem
from .services import POSTMORTEM_VERBS, postmortem_transition


@dataclass(frozen=True)
class PostMortemMove:
    """``changed``: this call made the move; else ``hint`` says it was already there, by whom and when."""

    postmortem: PostMortem
    changed: bool
    hint: str = ""


@transaction.atomic
def postmortem_move(*, verb: str, postmortem_id: int, actor: User | None, source: str) -> PostMortemMove:
    """Run ``postmortem_transition`` and say whether it changed anything (the status is read under the row lock
    first, so of two concurrent moves exactly one is told it made the change). Raises what it raises."""
    before = PostMortem.objects.select_for_update().only("status").get(pk=postmortem_id).status
    postmortem = postmortem_transition(postmortem_id=postmortem_id, verb=verb, actor=actor, source=source)
    if before != POSTMORTEM_VERBS.get(verb):
        return PostMortemMove(postmortem, changed=True)
    return PostMortemMove(postmortem, changed=False, hint=already_text(postmortem))


def already_text(postmortem: PostMortem) -> str:
    """ "The post-mortem was already published by Alice Doe at 2024-05-01 12:05 CEST." """
    event = (
        TimelineEvent.objects.filter(
            incident_id=postmortem.incident_id, data__postmortem_id=postmortem.pk, data__to=postmortem.status
        )
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    text = f"The post-mortem was already {postmortem.get_status_display().lower()}"
    if event is not None:
        text += (f" by {event.actor}" if event.actor else "") + f" at {when_text(event.at)}"
    return text + "."
