"""The Slack health view's facts (the admin's *Slack problems* page): does the token work, which scopes are
missing, is the bot in each team's channel, when did Slack last reach sredesk, what failed last, what needs a person.

Read-only: it asks Slack (``auth.test``, then ``conversations.info`` per team
channel, at most ``TEAM_CHECKS`` of them) and reads the database; it records
nothing, so opening the page never changes a problem's state. Without a bot
token it calls nothing and says Slack is off.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.template.defaultfilters import pluralize

from .base import slack_enabled
from .models import SlackCallFailure, SlackProblem
from .slack_api import SCOPES_NEEDED, SlackCallError, plain_words, slack_call, slack_response

TEAM_CHECKS = 50  # team channels asked about per page view (each is one Slack call)


@dataclass(frozen=True)
class TeamChannelHealth:
    """One team's Slack channel: ``ok`` True (the bot is in it), False (a problem), None (not checked)."""

    team: object
    channel: str
    ok: bool | None
    words: str


@dataclass
class SlackHealth:
    """What the health view shows; every ``*_words`` is a sentence for an operator."""

    enabled: bool
    token_ok: bool | None = None
    token_words: str = ""
    scopes_granted: frozenset[str] = frozenset()
    scopes_needed: frozenset[str] = SCOPES_NEEDED
    teams: list[TeamChannelHealth] = field(default_factory=list)
    last_inbound_at: datetime | None = None
    last_inbound_words: str = ""
    last_failure: SlackCallFailure | None = None
    problems: list[SlackProblem] = field(default_factory=list)

    @property
    def scopes_missing(self) -> list[str]:
        return sorted(self.scopes_needed - self.scopes_granted) if self.token_ok else []

    @property
    def scopes_extra(self) -> list[str]:
        return sorted(self.scopes_granted - self.scopes_needed) if self.token_ok else []

    @property
    def last_failure_words(self) -> str:
        failure = self.last_failure
        if failure is None:
            return "No Slack call has failed."
        return f"{failure.method} to {failure.target or 'Slack'}: {plain_words(failure.error, failure.target)}"


def slack_health() -> SlackHealth:
    """Ask Slack and the database how the Slack app is doing (see the module docstring)."""
    from ownership.models import Team

    health = SlackHealth(enabled=slack_enabled())
    health.last_failure = SlackCallFailure.objects.first()
    health.problems = list(SlackProblem.objects.filter(fixed_at__isnull=True).select_related("team", "person"))
    health.last_inbound_at, health.last_inbound_words = _last_inbound()
    if not health.enabled:
        health.token_words = "Slack is off: SLACK_BOT_TOKEN is not set, so sredesk neither calls nor answers Slack."
        return health
    try:
        response = slack_response("auth.test", record=False)
    except SlackCallError as exc:
        health.token_ok, health.token_words = False, plain_words(exc.error)
        return health
    data = response.data if isinstance(response.data, dict) else {}
    health.token_ok = True
    health.token_words = f"The bot token works: it is {data.get('user', '?')} in the {data.get('team', '?')} workspace."
    scopes = response.headers.get("x-oauth-scopes") or response.headers.get("X-OAuth-Scopes") or ""
    health.scopes_granted = frozenset(s.strip() for s in scopes.split(",") if s.strip())
    for team in Team.objects.exclude(slack_channel="").order_by("name")[:TEAM_CHECKS]:
        health.teams.append(_team_channel(team))
    return health


def _team_channel(team) -> TeamChannelHealth:
    channel = team.slack_channel
    if channel[:1] not in ("C", "G"):
        return TeamChannelHealth(
            team, channel, None, "Given by name: Slack checks only ids. Give the channel's id (C…) to check it."
        )
    try:
        info = slack_call("conversations.info", record=False, channel=channel).get("channel", {})
    except SlackCallError as exc:
        return TeamChannelHealth(team, channel, False, plain_words(exc.error, channel))
    if info.get("is_archived"):
        return TeamChannelHealth(team, channel, False, plain_words("is_archived", channel))
    if not info.get("is_member"):
        return TeamChannelHealth(team, channel, False, plain_words("not_in_channel", channel))
    return TeamChannelHealth(team, channel, True, f"The bot is in #{info.get('name', channel)}.")


def _last_inbound() -> tuple[datetime | None, str]:
    """When Slack last sent sredesk a request, and what it was: the newer of the Slack app's inbound ledger and the
    requests a door handed to the broker that no worker has taken yet (``slackapp.ledger.newest_waiting``)."""
    from slackapp.ledger import newest_waiting

    model = apps.get_model("slackapp", "InboundRequest")
    row = model.objects.order_by("-received_at", "-pk").first()
    waiting, count = newest_waiting()
    if waiting is not None:
        at = datetime.fromisoformat(waiting["received_at"])
        if row is None or at >= row.received_at:
            kind = dict(model.Kind.choices).get(waiting.get("kind"), waiting.get("kind"))
            return at, (
                f"{kind} {waiting.get('name', '')}, waiting for a worker "
                f"({count} task{pluralize(count)} in the broker's queue: is a worker running?)"
            )
    if row is None:
        return None, "Slack has not sent sredesk any request yet: check the app's three URLs (docs/slack-app.md)."
    return row.received_at, str(row)
