"""The ``/sredesk`` slash command (``SREDESK_SLACK_COMMAND``): help, declare, and what every verb shares.

Verbs about one incident take it from the text (``INC-42`` as the first or
last word) or, inside an incident's channel, from the channel
(``registry.incident_for_channel``). Every write goes through the domain
services with ``source=slack`` and the one write rule; a refusal reaches the
user as an ephemeral sentence (``inbound``). The incident verbs are in
``commands_incident``, the post-mortem ones in ``commands_postmortem``.
"""

import re
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from incidents.effects import incident_url
from incidents.models import Incident, Severity, Source
from incidents.services import incident_declare
from ownership.models import Service, User
from sredesk.inputs import text_problem

from .identity import person_for_slack_user
from .models import SlackDeclare
from .registry import Reply, SlackContext, SlackUserError, command, incident_for_channel, split_incident

HELP = [
    ("declare [sevN] [service] <title>", "declare an incident (SEV3 unless you say)"),
    ("ack | mitigate | resolve | reopen [INC-n]", "move the incident"),
    ("sev <N> [INC-n]", "change its severity"),
    ("commander @person [INC-n]", "hand over command"),
    ("note <text> [INC-n]", "add a note to the timeline"),
    ("status [INC-n]", "where the incident stands"),
    ("pm [INC-n]", "open (or create) the post-mortem"),
    ("followups [INC-n]", "open action items and unverified regression tests"),
    ("link-test <canonical id> [in <repository>] [INC-n]", "link a regression test to the post-mortem"),
    ("snooze <duration> <reason> [INC-n]", "pause the post-mortem's reminders (duration: 2d, 12h, 1w2d)"),
    ("help", "this list"),
]
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,31})(?:\|[^>]*)?>$")
TITLE_MAX = 300  # Incident.title


def usage(verb: str) -> str:
    """``/sredesk <verb> ...`` as help shows it."""
    line = next((u for u, _ in HELP if u.split()[0] == verb), verb)
    return f"`{settings.SREDESK_SLACK_COMMAND} {line}`"


def target_incident(ctx: SlackContext, verb: str) -> tuple[Incident, str]:
    """(the incident the command is about, the args without its id), or SlackUserError saying how to name it."""
    number, rest = split_incident(ctx.args)
    if number is not None:
        incident = Incident.objects.select_related("owning_team", "commander").filter(pk=number).first()
        if incident is None:
            raise SlackUserError(f"There is no incident INC-{number}.")
        return incident, rest
    incident = incident_for_channel(ctx.channel_id)
    if incident is None:
        raise SlackUserError(f"Which incident? Name it, e.g. {usage(verb)} with `INC-42`, or run it in its channel.")
    return incident, rest


def link(incident: Incident) -> str:
    """``<url|INC-42>``: the incident's page, as Slack mrkdwn."""
    return f"<{incident_url(incident)}|{incident.public_id}>"


def slack_escape(text: str) -> str:
    """Escape what would become a link or mention in mrkdwn (user text shown back)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def person_named(word: str) -> User:
    """The person ``@ada`` or ``<@U123>`` names, or SlackUserError saying so."""
    match = _MENTION.match(word)
    person = None
    if match:
        person = person_for_slack_user(match.group(1))
        if person is None:
            raise SlackUserError(
                f"{word} has not linked a sredesk account yet: ask them to run `{settings.SREDESK_SLACK_COMMAND} help`."
            )
    else:
        name = word.removeprefix("@")
        person = User.objects.filter(is_active=True, username__iexact=name).first() if name else None
        if person is None:
            raise SlackUserError(f"Nobody in sredesk is called {slack_escape(word)!r}: mention them, e.g. @ada.")
    return person


@command("help", sync=True, person_required=False)
def help_(ctx: SlackContext) -> str:
    """What the command can do; inside an incident's channel the incident is implied, elsewhere name it (INC-42)."""
    name = settings.SREDESK_SLACK_COMMAND
    lines = [f"`{name} {line}`: {what}" for line, what in HELP]
    lines.append("Inside an incident's channel the incident is implied; elsewhere name it, e.g. `INC-42`.")
    return "\n".join(lines)


def parse_declare(args: str) -> tuple[int, Service | None, str]:
    """``[sevN] [service] <title>`` -> (severity, service or None, title). The service is a known slug, else title."""
    words = args.split()
    severity = Severity.SEV3
    if words and re.fullmatch(r"sev[1-4]", words[0], re.IGNORECASE):
        severity = int(words.pop(0)[3])
    service = Service.objects.select_related("team").filter(slug=words[0].lower()).first() if words else None
    if service is not None:
        words.pop(0)
    title = " ".join(words)
    if not title:
        raise SlackUserError(f"Give the incident a title: {usage('declare')}, e.g. `declare sev2 checkout 5xx spike`.")
    problem = text_problem(title, TITLE_MAX)
    if problem:
        raise SlackUserError(f"The title cannot be used: {problem}")
    return severity, service, title


def title_key(title: str) -> str:
    return " ".join(title.casefold().split())[:TITLE_MAX]


@command("declare", ack="Declaring…")
def declare(ctx: SlackContext) -> Reply:
    """Declare an incident. The same person declaring the same title again within
    ``SREDESK_SLACK_DECLARE_REPEAT_SECONDS`` gets the first incident back, not a second one (BR-10): the person's
    row is locked so two workers handling two such commands at once decide one after the other."""
    severity, service, title = parse_declare(ctx.args)
    return declare_once(ctx, severity, service, title)


def declare_once(ctx: SlackContext, severity: int, service: Service | None, title: str) -> Reply:
    """Declare from Slack unless ``ctx``'s person declared the same title within the repeat window (BR-10).

    For every Slack way of declaring (the command, a mention, a modal). Must run in a transaction (handlers do).
    """
    User.objects.select_for_update().filter(pk=ctx.person.pk).first()  # one declare at a time per person
    since = timezone.now() - timedelta(seconds=settings.SREDESK_SLACK_DECLARE_REPEAT_SECONDS)
    repeat = (
        SlackDeclare.objects.select_related("incident")
        .filter(slack_user_id=ctx.slack_user_id, title_key=title_key(title), created_at__gte=since)
        .order_by("created_at")
        .first()
    )
    if repeat is not None:
        return Reply(f"You declared this a moment ago: {link(repeat.incident)}. Nothing new was declared.")
    incident = incident_declare(
        title=title, severity=severity, actor=ctx.person, source=Source.SLACK, primary_service=service
    )
    SlackDeclare.objects.create(slack_user_id=ctx.slack_user_id, title_key=title_key(title), incident=incident)
    team = f", owned by {incident.owning_team}" if incident.owning_team_id else ""
    return Reply(
        f"<@{ctx.slack_user_id}> declared {link(incident)} ({incident.get_severity_display()}{team}): "
        f"{slack_escape(title)}",
        ephemeral=False,
    )
