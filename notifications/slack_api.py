"""Every Slack Web API call sredesk makes besides posting a message: one client, one error vocabulary, one scope list.

``slack_call(method, **params)`` calls ``method`` through slack_sdk's
``WebClient`` (``slackapp.client.slack_client``: base URL ``SREDESK_SLACK_API_URL``,
timeout ``SREDESK_SLACK_TIMEOUT_SECONDS``, no SDK-level retries: the caller's task or
sweep retries) and returns Slack's reply as a dict. Any failure raises
``SlackCallError`` with Slack's error code (``invalid_auth``, ``name_taken``,
...; ``http_<status>`` for a reply without one, ``unreachable`` for a network
error or timeout), whether a person must act (``needs_person``) and, for HTTP
429, Slack's ``Retry-After`` seconds. Every failure is also recorded
(``SlackCallFailure``) for the admin's Slack health view.

``METHOD_SCOPES`` names the OAuth scope each method needs; a method missing
from it cannot be called, so ``SCOPES_NEEDED`` (what the app manifest in
docs/slack-app.md must grant) is always the code's own list.
Reference: https://api.slack.com/scopes, https://api.slack.com/methods
"""

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse

from .slack import _retry_after_seconds

logger = logging.getLogger(__name__)

# Web API method -> the bot scope it needs, and why sredesk calls it.
METHOD_SCOPES: dict[str, str] = {
    "auth.test": "",  # needs no scope: tells who the token is and which scopes it has (the health view)
    "chat.postMessage": "chat:write",  # announcements, reminders, replies to commands
    "chat.update": "chat:write",  # an announcement updated in place as the incident moves
    "chat.postEphemeral": "chat:write",  # "only you can see this" answers
    "conversations.create": "channels:manage",  # an incident's channel
    "conversations.invite": "channels:manage",  # the commander, responders and paged person into it
    "conversations.setTopic": "channels:manage",  # the incident page and post-mortem in its topic
    "conversations.archive": "channels:manage",  # archived some days after the post-mortem completes
    "conversations.unarchive": "channels:manage",
    "conversations.info": "channels:read",  # whether the bot is in each team's channel (health view)
    "conversations.list": "channels:read",  # an incident channel whose creation reply was lost, found by name
    "conversations.history": "channels:history",  # the text of a message given the team's reaction (timeline)
    "bookmarks.add": "bookmarks:write",  # incident page and post-mortem bookmarked in the channel
    "users.info": "users:read",  # a Slack user's profile, to map them to a sredesk person
    "views.open": "",  # modals need no scope of their own: a trigger id from the user's click
    "views.update": "",
}
# Scopes the app needs for what Slack sends it rather than what it calls.
RECEIVED_SCOPES: dict[str, str] = {
    "commands": "the /sredesk slash command",
    "app_mentions:read": "@sredesk <verb> in a channel (app_mention events)",
    "pins:read": "pinned messages in an incident channel become timeline entries (pin_added events)",
    "reactions:read": "a team's chosen reaction in an incident channel becomes a timeline entry (reaction_added)",
    "users:read.email": "a Slack user's verified email, to find their sredesk account the first time",
}
SCOPES_NEEDED: frozenset[str] = frozenset(s for s in METHOD_SCOPES.values() if s) | frozenset(RECEIVED_SCOPES)

# Errors no retry fixes: a person must act (rotate the token, invite the bot, fix a channel or member id).
WORKSPACE_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "no_permission",
    }
)
CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
USER_ERRORS = frozenset(
    {"user_not_found", "cant_invite", "cant_invite_self", "user_is_inactive", "user_is_restricted",
     "user_is_ultra_restricted", "ura_max_channels", "cannot_dm_bot", "users_not_found"}
)  # fmt: skip
NEEDS_PERSON = WORKSPACE_ERRORS | CHANNEL_ERRORS | USER_ERRORS

# What each error means, in words an operator acts on ({target}: the channel or member id concerned).
PLAIN_WORDS: dict[str, str] = {
    "invalid_auth": "Slack refuses sredesk's bot token: SLACK_BOT_TOKEN is wrong or was rotated. "
    "Put the app's current Bot User OAuth Token in SLACK_BOT_TOKEN and restart sredesk.",
    "not_authed": "No bot token reached Slack: set SLACK_BOT_TOKEN.",
    "account_inactive": "The sredesk app's bot user was deactivated or the workspace deleted: "
    "reinstall the app in Slack and put its new token in SLACK_BOT_TOKEN.",
    "token_revoked": "The sredesk app was removed from Slack, which revoked its token: "
    "reinstall it (docs/slack-app.md) and put its new token in SLACK_BOT_TOKEN.",
    "token_expired": "The bot token expired: reinstall the app and update SLACK_BOT_TOKEN.",
    "missing_scope": "The Slack app lacks a permission this needs: update it from the manifest in "
    "docs/slack-app.md and reinstall it.",
    "no_permission": "Slack did not allow the bot this: check the app's scopes and that it is in the channel.",
    "not_in_channel": "The sredesk bot is not in {target}: in Slack, type /invite @sredesk in that channel.",
    "channel_not_found": "Slack has no channel {target} the bot can see (renamed, deleted or private): "
    "give the team's Slack channel as its id (C…) in the admin, and invite the bot if it is private.",
    "is_archived": "Channel {target} is archived: unarchive it in Slack, or give the team another channel.",
    "user_not_found": "Slack has no member {target}: fix the Slack member id on this person's profile.",
    "cant_invite": "Slack would not let {target} be invited (deactivated, or a guest): check them in Slack.",
    "cant_invite_self": "{target} is the sredesk bot itself, which is in the channel already.",
    "user_is_inactive": "Slack member {target} is deactivated: update the Slack member id on their profile.",
    "user_is_restricted": "{target} is a Slack guest who cannot be invited to channels.",
    "user_is_ultra_restricted": "{target} is a single-channel Slack guest who cannot be invited.",
    "ratelimited": "Slack asked sredesk to slow down (rate limit); it waits and tries again.",
    "unreachable": "Slack could not be reached (network error or timeout); sredesk tries again.",
}


def plain_words(error: str, target: str = "") -> str:
    """What Slack's ``error`` code means and what to do, as a sentence; ``target`` names the channel or member."""
    text = PLAIN_WORDS.get(error)
    if text is None:
        return f"Slack answered “{error}”; sredesk tries again later."
    return text.format(target=target or "the channel")


@dataclass
class SlackCallError(Exception):
    """A Slack Web API call failed. ``error``: Slack's code; ``retry_after``: seconds Slack asked to wait (429)."""

    method: str
    error: str
    status: int = 0
    retry_after: float = 0.0

    def __str__(self) -> str:
        return f"Slack {self.method}: {self.error}"

    @property
    def needs_person(self) -> bool:
        """No retry fixes it: a person must act (``NEEDS_PERSON``)."""
        return self.error in NEEDS_PERSON


def slack_call(method: str, *, target: str = "", record: bool = True, **params: Any) -> dict[str, Any]:
    """Call Slack Web API ``method`` with ``params`` (form fields); returns its reply (``ok`` true) as a dict.

    ``target`` names the channel or member concerned, for the recorded failure;
    ``record=False`` records none (the health view's own questions).
    Raises SlackCallError (recorded, and logged) on any failure; ValueError for
    a method missing from ``METHOD_SCOPES``.
    """
    response = slack_response(method, target=target, record=record, **params)
    return dict(response.data) if isinstance(response.data, dict) else {}


def slack_response(method: str, *, target: str = "", record: bool = True, **params: Any) -> SlackResponse:
    """``slack_call``, returning slack_sdk's whole response (its headers too: ``X-OAuth-Scopes`` of ``auth.test``)."""
    if method not in METHOD_SCOPES:
        raise ValueError(f"{method} is not in METHOD_SCOPES: add it with the scope it needs")
    try:
        from slackapp.client import slack_client  # the one WebClient set-up: token, base URL, timeout, no retries

        return slack_client().api_call(method, params={k: v for k, v in params.items() if v is not None})
    except SlackApiError as exc:
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        status = exc.response.status_code
        error = str(data.get("error") or f"http_{status}")
        retry_after = _retry_after_seconds(exc.response.headers.get("Retry-After")) if status == 429 else 0.0
        failure = SlackCallError(method, error, status, retry_after)
    except (SlackClientError, OSError) as exc:
        logger.warning("Slack unreachable", extra={"method": method, "error": str(exc)})
        failure = SlackCallError(method, "unreachable")
    if record:
        record_failure(method, failure.error, target=target, status=failure.status)
    raise failure


def record_failure(method: str, error: str, *, target: str = "", status: int = 0) -> None:
    """Keep one failed Slack call for the health view (``SlackCallFailure``); never raises."""
    from django.db import transaction

    from .models import SlackCallFailure

    logger.warning("Slack call failed", extra={"method": method, "error": error, "target": target})
    try:
        with transaction.atomic():  # a savepoint: a failing write leaves the caller's transaction usable
            SlackCallFailure.objects.create(method=method, error=error[:100], target=target[:100], status=status)
    except Exception:  # the record is a convenience: a failing write must not hide the Slack error itself
        logger.exception("Could not record a Slack failure")
