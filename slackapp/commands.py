"""The ``/sredesk`` slash command's verbs (``SREDESK_SLACK_COMMAND``): each one a registered handler."""

from django.conf import settings

from .registry import SlackContext, command

HELP = [
    ("declare [sevN] [service] <title>", "declare an incident (SEV3 unless you say)"),
    ("ack | mitigate | resolve | reopen [INC-n]", "move the incident"),
    ("sev <N> [INC-n]", "change its severity"),
    ("commander @person [INC-n]", "hand over command"),
    ("note <text> [INC-n]", "add a note to the timeline"),
    ("status [INC-n]", "where the incident stands"),
    ("pm [INC-n]", "open (or create) the post-mortem"),
    ("followups [INC-n]", "open action items and unverified regression tests"),
    ("link-test <canonical id> [INC-n]", "link a regression test to the post-mortem"),
    ("snooze <duration> <reason> [INC-n]", "snooze the post-mortem's reminders"),
    ("help", "this list"),
]


@command("help", sync=True, person_required=False)
def help_(ctx: SlackContext) -> str:
    """What the command can do; inside an incident's channel the incident is implied, elsewhere name it (INC-42)."""
    name = settings.SREDESK_SLACK_COMMAND
    lines = [f"`{name} {usage}`: {what}" for usage, what in HELP]
    lines.append("Inside an incident's channel the incident is implied; elsewhere name it, e.g. `INC-42`.")
    return "\n".join(lines)
