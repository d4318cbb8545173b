"""Slack handlers of incident channels (``slackchannels``): which incident a channel is, and the Events API's
``pin_added`` / ``reaction_added`` in an incident channel, which put the message on the incident's timeline.

The door records each event once by its ``event_id`` (``slackapp.inbound``); ``slackchannels.timeline`` keeps one
entry per message however often it is pinned or given the team's reaction. Whoever pinned or reacted is the
entry's actor, through the one write rule; someone it refuses, or nobody linked, is told so in the channel
(an ephemeral message only they see).
"""

import logging

from notifications.slack_api import SlackCallError, slack_call
from slackchannels.services import incident_for_channel
from slackchannels.timeline import reaction_counts, slack_message_to_timeline

from .registry import SlackContext, channel_incident_resolver, event

logger = logging.getLogger(__name__)

channel_incident_resolver(incident_for_channel)  # inside an incident's channel, the incident is implied


@event("pin_added")
def pin_added(ctx: SlackContext) -> None:
    """A message pinned in an incident channel goes on its timeline (the event carries the message)."""
    item = ctx.event.get("item") or {}
    message = item.get("message") or {}
    channel = str(ctx.event.get("channel_id") or item.get("channel") or "")
    if item.get("type") != "message" or not message:
        return
    text = message.get("text")
    outcome = slack_message_to_timeline(
        channel_id=channel, ts=str(message.get("ts", "")), text=text if isinstance(text, str) else None,
        actor=ctx.person, how="Pinned",
    )  # fmt: skip
    _tell(ctx, channel, outcome)


@event("reaction_added")
def reaction_added(ctx: SlackContext) -> None:
    """A message given the owning team's chosen reaction in an incident channel goes on its timeline."""
    item = ctx.event.get("item") or {}
    channel, reaction = str(item.get("channel", "")), str(ctx.event.get("reaction", ""))
    if item.get("type") != "message":
        return
    incident = incident_for_channel(channel)
    if incident is None or not reaction_counts(incident, reaction):
        return
    outcome = slack_message_to_timeline(
        channel_id=channel, ts=str(item.get("ts", "")), text=None, actor=ctx.person, how=f"Marked :{reaction}:"
    )
    _tell(ctx, channel, outcome)


def _tell(ctx: SlackContext, channel: str, outcome) -> None:
    """Tell the person who pinned or reacted why it is not on the timeline (only they see it)."""
    user = str(ctx.event.get("user", ""))
    if outcome is None or not outcome.refusal or not user:
        return
    try:
        slack_call("chat.postEphemeral", target=channel, channel=channel, user=user, text=outcome.refusal)
    except SlackCallError as exc:  # recorded; the refusal itself is in the log
        logger.info("Refusal not told", extra={"slack_inbound": ctx.inbound_id, "error": exc.error})
