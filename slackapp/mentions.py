"""``@sredesk declare sev2 checkout ...``: a mention of the app runs the same verbs as the slash command.

The ``app_mention`` event is recorded by its ``event_id`` like every event
(a retried delivery acts once, BR-08); the text after the app's mention is
the command line. Replies go to the channel: ephemeral to the person, or in
the thread for what the channel should see (``inbound._send_replies``).
"""

import re
from typing import Any

from django.conf import settings

from sredesk.choices import unknown_choice

from .identity import link_message
from .registry import Reply, SlackContext, event, find, names

_LEADING_MENTIONS = re.compile(r"^(?:\s*<@[UWB][A-Z0-9]+(?:\|[^>]*)?>)+\s*")


@event("app_mention")
def app_mention(ctx: SlackContext) -> Any:
    """Run the command line after the mention (``help`` when there is none) as ``/sredesk`` would."""
    line = _LEADING_MENTIONS.sub("", str(ctx.event.get("text") or "")).strip()
    words = line.split(None, 1)
    verb = words[0].lower() if words else "help"
    handler = find("command", verb)
    if handler is None:
        hint = f"`{settings.SREDESK_SLACK_COMMAND} help` lists them."
        return Reply(unknown_choice("command", verb, names("command"), hint=hint))
    if handler.modal is not None:
        return Reply(f"`{verb}` opens a form: use `{settings.SREDESK_SLACK_COMMAND} {verb}` instead.")
    if handler.person_required and ctx.person is None:
        return Reply(link_message(ctx))
    ctx.args = words[1].strip() if len(words) > 1 else ""
    return handler.func(ctx)
