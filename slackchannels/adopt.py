"""An incident channel Slack created while its reply was lost, found again instead of making ``<name>-2``.

``conversations.create`` takes no idempotency key: when Slack creates the
channel and the reply never arrives (a timeout, a dropped connection), the
next set-up attempt meets ``name_taken`` on the same name. Before moving on to
the next candidate name, :func:`lost_channel` looks the name up
(``conversations.list``, scope ``channels:read``, which the app already has
for the health view) and returns the channel only when it is provably the one
this incident's set-up made:

* its name is a candidate name of this incident (the caller only asks about
  those; ``inc-<number>-`` is unique to the incident);
* its creator is sredesk's own bot user (``auth.test``);
* it was created no earlier than the incident's channel row was claimed
  (less ``CLOCK_SKEW_SECONDS``): the row is claimed before the first
  ``conversations.create``, so a leftover of an older database or another
  install that reused the number is older and is not taken;
* it is not archived and no other incident records it.

Its topic cannot be part of the proof: ``conversations.create`` takes none, and
sredesk sets it only after hearing the channel's id, so a channel whose reply
was lost has an empty topic. Anything unproven keeps the old behaviour: the
next name (``-2``) is created. The lookup reads at most ``LOOKUP_PAGES`` pages
of ``LOOKUP_PAGE_SIZE`` unarchived public channels; a larger workspace falls
back to ``-2`` as before. Reference: https://api.slack.com/methods/conversations.list
"""

import logging
from datetime import datetime

from notifications.slack_api import slack_call

from .models import IncidentChannel

logger = logging.getLogger(__name__)

CLOCK_SKEW_SECONDS = 60  # our clock against Slack's ``created`` (whole seconds)
LOOKUP_PAGES = 10
LOOKUP_PAGE_SIZE = 1000  # Slack's largest page of conversations.list


def find_channel(name: str) -> dict | None:
    """The unarchived public channel called ``name`` as ``conversations.list`` describes it (``id``, ``name``,
    ``creator``, ``created`` in Unix seconds...), or None when it is not within the first ``LOOKUP_PAGES`` pages.
    Raises SlackCallError as ``slack_call`` does."""
    cursor = ""
    for _ in range(LOOKUP_PAGES):
        reply = slack_call(
            "conversations.list", target=name, types="public_channel", exclude_archived=True,
            limit=LOOKUP_PAGE_SIZE, cursor=cursor or None,
        )  # fmt: skip
        for channel in reply.get("channels") or []:
            if channel.get("name") == name:
                return channel
        cursor = str((reply.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return None
    logger.warning("Channel lookup stopped after %d pages", LOOKUP_PAGES, extra={"name": name})
    return None


def lost_channel(name: str, *, claimed_at: datetime, bot_ids: set[str]) -> dict | None:
    """The channel called ``name`` if it is provably the one this incident's lost ``conversations.create`` made
    (see the module: created by one of ``bot_ids`` at or after ``claimed_at``, aware UTC, and recorded by no
    incident), else None. Raises SlackCallError as ``slack_call`` does."""
    channel = find_channel(name)
    if channel is None or channel.get("is_archived"):
        return None
    try:
        created = float(channel.get("created") or 0)
    except (TypeError, ValueError):
        return None
    ours = str(channel.get("creator") or "") in bot_ids
    after_claim = created >= claimed_at.timestamp() - CLOCK_SKEW_SECONDS
    channel_id = str(channel.get("id") or "")
    if not (ours and after_claim and channel_id) or IncidentChannel.objects.filter(channel_id=channel_id).exists():
        logger.info("Channel %s is taken by a channel not provably this incident's", name)
        return None
    return channel
