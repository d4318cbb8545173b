"""A post-mortem's workflow move as every door reports it: changed, or already there (who moved it, and when).

The web UI's message and the API's ``changed`` / ``hint`` both come from
``postmortem_move``, as ``incidents.moves`` does for incidents (BR-15, issue 15
item 8): publishing twice changes nothing, and says so.
"""

from django.db import transaction

from incidents.models import TimelineEvent
from incidents.moves import MoveOutcome, move_reported, moved_by
from ownership.models import User

from .models import PostMortem
from .services import POSTMORTEM_VERBS, postmortem_transition


@transaction.atomic
def postmortem_move(*, verb: str, postmortem_id: int, actor: User | None, source: str) -> MoveOutcome[PostMortem]:
    """Run ``postmortem_transition`` and say whether it changed anything (``incidents.moves.move_reported``).
    Raises what it raises."""
    return move_reported(
        PostMortem,
        postmortem_id,
        POSTMORTEM_VERBS.get(verb),
        lambda: postmortem_transition(postmortem_id=postmortem_id, verb=verb, actor=actor, source=source),
        already_text,
    )


def already_text(postmortem: PostMortem) -> str:
    """ "The post-mortem was already published by Alice Doe at 2024-05-01 12:05 CEST." """
    text = f"The post-mortem was already {postmortem.get_status_display().lower()}"
    by = moved_by(
        TimelineEvent.objects.filter(
            incident_id=postmortem.incident_id, data__postmortem_id=postmortem.pk, data__to=postmortem.status
        )
    )
    return f"{text} {by}." if by else f"{text}."
