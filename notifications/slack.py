"""Slack backend over slack_sdk's WebClient (``chat.postMessage``, ``chat.update``), buttons as Block Kit.

The API base URL comes from ``settings.SREDESK_SLACK_API_URL`` so tests can point the
real client at a local server. Slack's error codes map onto our three error
types: HTTP 429 -> NotifyRateLimited with the ``Retry-After`` seconds;
``channel_not_found``, ``not_in_channel``, ``is_archived``, ``invalid_auth``,
``account_inactive``, ``token_revoked`` and friends -> NotifyPermanentError;
anything else, including network errors -> NotifyTransientError. Each error carries Slack's code
(``code``), which the delivery step records for the Slack health view (``notifications.problems``).
Reference: https://api.slack.com/methods/chat.postMessage#errors
"""

import math

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from .base import Message, NotifyPermanentError, NotifyRateLimited, NotifyTransientError, Posted

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "no_permission",
        "missing_scope",
        "user_not_found",
        "cannot_dm_bot",
        "msg_too_long",
        "invalid_blocks",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
    }
)


RETRY_AFTER_MAX_SECONDS = 86400.0  # a later Retry-After (years, 1e308) waits a day: sooner than never


def _retry_after_seconds(value: str | None, default: float = 30.0) -> float:
    """Seconds from a Retry-After header, 0 to ``RETRY_AFTER_MAX_SECONDS``; Slack sends seconds, a proxy may send
    a date or nothing, a hostile page webhook receiver ``inf``, ``nan`` or 1e308 (``default`` for those)."""
    try:
        seconds = float(value) if value is not None else default
    except (TypeError, ValueError):
        return default
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_SECONDS) if math.isfinite(seconds) else default


# Slack's limits (https://api.slack.com/reference/block-kit/blocks, chat.postMessage): a
# section's text stops at 3,000 characters; longer `text` is truncated by Slack or refused
# in blocks (FIELD-CASES BR-14). We keep every message within one section's limit.
TEXT_LIMIT = 3000


def slack_escape(text: str) -> str:
    """Escape Slack mrkdwn control characters (&, <, >) so user text cannot form links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(message: Message) -> str:
    """The text posted for ``message``: escaped, within TEXT_LIMIT, ending with the link to sredesk.

    A text too long is cut at a line or word boundary and says so, so the
    reader knows to follow the link; the link itself is never cut.
    """
    link = f"\n<{message.url}|Open in sredesk>" if message.url else ""
    body = slack_escape(message.text)
    room = TEXT_LIMIT - len(link)
    if len(body) > room:
        marker = "\n… (truncated: see sredesk for the rest)"
        cut = body[: room - len(marker)]
        cut = cut[: max(cut.rfind("\n"), cut.rfind(" "), len(cut) // 2)]
        cut = cut[: cut.rfind("&")] if cut.rfind("&") > cut.rfind(";") else cut  # never split an entity
        body = cut + marker
    return body + link


# Block Kit limits: a button's text 75 characters, its value 2,000, an actions block 25 elements.
BUTTON_LABEL_LIMIT, BUTTON_VALUE_LIMIT, ACTIONS_LIMIT = 75, 2000, 25


def slack_blocks(message: Message, text: str) -> list[dict] | None:
    """Block Kit for ``message``: its text in a section, then its buttons (None when it has none: plain text)."""
    if not message.buttons:
        return None
    elements = []
    for button in message.buttons[:ACTIONS_LIMIT]:
        element = {
            "type": "button",
            "text": {"type": "plain_text", "text": button.label[:BUTTON_LABEL_LIMIT], "emoji": True},
            "action_id": button.action_id,
        }
        if button.value:
            element["value"] = button.value[:BUTTON_VALUE_LIMIT]
        if button.url:
            element["url"] = button.url
        if button.style:
            element["style"] = button.style
        if button.confirm:
            element["confirm"] = {
                "title": {"type": "plain_text", "text": button.label[:BUTTON_LABEL_LIMIT]},
                "text": {"type": "plain_text", "text": button.confirm[:300]},
                "confirm": {"type": "plain_text", "text": button.label[:30]},
                "deny": {"type": "plain_text", "text": "Cancel"},
            }
        elements.append(element)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}, {"type": "actions", "elements": elements}]


class SlackBackend:
    def __init__(self) -> None:
        # No SDK-level retries: slack_sdk would otherwise re-post by itself when a
        # reply is lost after Slack accepted the message, a duplicate the ledger
        # could not see. Every retry goes through the delivery row instead.
        self.client = WebClient(
            token=settings.SLACK_BOT_TOKEN,
            base_url=settings.SREDESK_SLACK_API_URL,
            timeout=settings.SREDESK_SLACK_TIMEOUT_SECONDS,
            retry_handlers=[],
        )

    def send(self, message: Message) -> str:
        """Post ``message`` to the channel or user id in ``message.address``; returns the message ``ts``."""
        return self.post(message).ref

    def post(self, message: Message) -> Posted:
        """Post ``message`` (``chat.postMessage``, with its buttons); returns the conversation id Slack answered
        (a DM's ``D…`` id for a person's ``U…`` id: what ``chat.update`` needs) and the message ``ts``."""
        text = slack_text(message)
        response = _call(
            self.client.chat_postMessage,
            channel=message.address,
            text=text,
            blocks=slack_blocks(message, text),
            unfurl_links=False,
        )
        return Posted(conversation=str(response.get("channel") or message.address), ref=str(response.get("ts", "")))

    def update(self, message: Message, *, posted: Posted) -> None:
        """Replace the content of the message ``posted`` with ``message`` (``chat.update``); buttons left out
        of ``message`` disappear from it."""
        text = slack_text(message)
        _call(
            self.client.chat_update,
            channel=posted.conversation,
            ts=posted.ref,
            text=text,
            blocks=slack_blocks(message, text) or [],
        )


def _call(method, **kwargs):
    """Call a Web API ``method`` of the client, mapping Slack's failures onto the three notify error types."""
    try:
        return method(**kwargs)
    except SlackApiError as exc:
        status = exc.response.status_code
        error = exc.response.get("error", "") if isinstance(exc.response.data, dict) else ""
        if status == 429:
            retry_after = _retry_after_seconds(exc.response.headers.get("Retry-After"))
            failure = NotifyRateLimited(f"Slack rate limited: retry after {retry_after:g} s", retry_after)
        elif error in PERMANENT_ERRORS:
            failure = NotifyPermanentError(f"Slack refused the message: {error}")
        else:
            failure = NotifyTransientError(f"Slack error {status}: {error or exc}")
        failure.code = error or f"http_{status}"
        raise failure from exc
    except (SlackClientError, OSError) as exc:
        failure = NotifyTransientError(f"Slack unreachable: {exc}")
        failure.code = "unreachable"
        raise failure from exc
