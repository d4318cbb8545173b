"""Messages in an incident's Slack channel that go on its timeline: pinned ones, and those given the team's reaction.

The Events API handlers (``pin_added``, ``reaction_added``) call
``slack_message_to_timeline``; the Slack app's inbound ledger already makes a
redelivered event act once (its ``event_id``). A message becomes one entry
however often it is pinned, unpinned and pinned again or given the reaction
by several people: the entry keeps the message's ``ts``, and the channel row
is locked while looking for it. The entry is a note written through
``incidents.services.incident_add_note`` with source ``slack`` and the person
who pinned or reacted as its actor, so the one write rule decides who may.
"""

import html
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from incidents.models import Incident, Source, TimelineEvent
from incidents.services import incident_add_note
from notifications.slack_api import SlackCallError, plain_words, slack_call
from ownership.models import User
from sredesk.exceptions import PermissionDenied

from .models import IncidentChannel

logger = logging.getLogger(__name__)

TEXT_LIMIT = 4000  # characters of a message kept on the timeline
UNLINKED = (
    "sredesk does not know you yet, so it did not put that on the incident's timeline: "
    "set your Slack member id on your sredesk profile (/me/profile/), or use /sredesk once to link your account."
)


@dataclass(frozen=True)
class Outcome:
    """What became of a pinned or reacted-to message: ``entry`` (new), or why not, in a sentence for the person."""

    entry: TimelineEvent | None = None
    already: bool = False
    refusal: str = ""


def reaction_counts(incident: Incident, reaction: str) -> bool:
    """Whether ``reaction`` (as Slack names it, perhaps with ``::skin-tone-N``) is the owning team's timeline one."""
    team = incident.owning_team
    chosen = team.slack_timeline_reaction.strip(":") if team else ""
    return bool(chosen) and reaction.split("::", 1)[0] == chosen


def message_text(channel_id: str, ts: str) -> str:
    """The text of message ``ts`` in ``channel_id`` (``conversations.history``); "" when Slack has none to give."""
    reply = slack_call(
        "conversations.history", target=channel_id, channel=channel_id, latest=ts, inclusive="true", limit=1
    )
    messages = [m for m in reply.get("messages", []) if m.get("ts") == ts]
    return str(messages[0].get("text", "")) if messages else ""


def slack_message_to_timeline(
    *, channel_id: str, ts: str, text: str | None, actor: User | None, how: str
) -> Outcome | None:
    """Put message ``ts`` of ``channel_id`` on its incident's timeline, once; None when the channel is no incident's.

    ``text`` None: read it from Slack first (a reaction event carries none).
    ``how`` says what made it count, e.g. "Pinned" or "Marked :memo:". Returns
    ``Outcome(already=True)`` when the message is on the timeline already, and
    ``Outcome(refusal=...)`` when ``actor`` is None (a Slack user linked to
    no sredesk person), the write rule refuses them, or Slack refuses the text;
    when Slack is only down, the entry says the text could not be read (the
    event will not come again: its id is recorded).
    """
    row = IncidentChannel.objects.filter(channel_id=channel_id).select_related("incident__owning_team").first()
    if row is None or not ts:
        return None
    if actor is None:  # None is sredesk itself to the services: a Slack user nobody linked is not
        return Outcome(refusal=UNLINKED)
    if text is None:
        try:
            text = message_text(channel_id, ts)
        except SlackCallError as exc:
            if exc.needs_person:
                return Outcome(refusal=f"sredesk could not read that message: {plain_words(exc.error, channel_id)}")
            # The event is not delivered again (its id is recorded): keep that it counted, without its text.
            text = f"(message {ts}: Slack did not give its text, {exc.error})"
    text = html.unescape(text or "").strip()[:TEXT_LIMIT]  # Slack escapes &, < and > in message text
    if not text:
        return Outcome(refusal="That message has no text sredesk could put on the timeline.")
    with transaction.atomic():
        IncidentChannel.objects.select_for_update().get(pk=row.pk)  # one entry per message, whatever races
        if TimelineEvent.objects.filter(incident_id=row.incident_id, data__slack__message_ts=ts).exists():
            return Outcome(already=True)
        try:
            entry = incident_add_note(
                incident_id=row.incident_id,
                text=f"{how} in #{row.name}: {text}",
                actor=actor,
                source=Source.SLACK,
                data={"slack": {"channel": channel_id, "message_ts": ts}},
            )
        except PermissionDenied as exc:
            return Outcome(refusal=str(exc))
        except ValidationError as exc:
            return Outcome(refusal=" ".join(exc.messages))
    logger.info("Slack message on the timeline", extra={"incident": row.incident_id, "ts": ts})
    return Outcome(entry=entry)
