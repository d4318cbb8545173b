"""What every write to a post-mortem shares: the write check on the post-mortem as stored, and its timeline entry.

Used by ``postmortems.services`` (drafts, transitions, snoozes, edits),
``postmortems.action_items``, ``postmortems.regression_tests`` and
``postmortems.decline``.
"""

from incidents.models import TimelineEvent
from incidents.timeline import timeline_append, timeline_entry
from ownership.models import User
from ownership.permissions import require_write

from .models import PostMortem


def postmortem_timeline_append(
    incident_id: int, message: str, *, actor: User | None, source: str, data: dict, announce: str = ""
) -> TimelineEvent:
    """Append a post-mortem entry to the incident's timeline (``incidents.timeline``: who, from where, what changed);
    ``announce`` a headline the side-effect worker announces after commit, or ""."""
    [entry] = timeline_append(
        timeline_entry(
            incident_id,
            TimelineEvent.Kind.POSTMORTEM,
            message,
            actor=actor,
            source=source,
            data=data,
            announce=announce,
        )
    )
    return entry


def require_postmortem_write(actor: User | None, postmortem: PostMortem) -> None:
    """``require_write`` on the post-mortem as stored now (a caller's instance may predate a new owner)."""
    if actor is not None:
        require_write(actor, PostMortem.objects.select_related("incident").get(pk=postmortem.pk))
