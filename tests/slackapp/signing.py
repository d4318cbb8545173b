"""Requests signed as Slack signs them, byte for byte, for every Slack test.

Each ``signed_*`` returns keyword arguments for Django's test client (or any
HTTP client: ``data``, ``content_type`` and the ``HTTP_X_SLACK_*`` headers)::

    client.post("/slack/commands", **signed_command(text="ack INC-1"))

The body is built the way Slack sends it — a form urlencoded with ``+`` for
spaces (commands), ``payload=<urlencoded JSON>`` (interactivity), compact JSON
(events) — and the signature is ``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}``
over those exact bytes (https://api.slack.com/authentication/verifying-requests-from-slack).
"""

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

SECRET = "SIGNING_SECRET_PLACEHOLDER"
_trigger = itertools.count(1)


def sign(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds, as Django test-client ``HTTP_`` keys."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"HTTP_X_SLACK_REQUEST_TIMESTAMP": ts, "HTTP_X_SLACK_SIGNATURE": f"v0={digest}"}


def signed(
    body: bytes,
    content_type: str,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
) -> dict[str, Any]:
    """Test-client kwargs for ``body`` signed with ``secret`` (and Slack's retry headers when ``retry_num``)."""
    kwargs: dict[str, Any] = {
        "data": body,
        "content_type": content_type,
        **sign(body, secret=secret, timestamp=timestamp),
    }
    if retry_num is not None:
        kwargs.update(HTTP_X_SLACK_RETRY_NUM=str(retry_num), HTTP_X_SLACK_RETRY_REASON=retry_reason)
    return kwargs


FORM = "application/x-www-form-urlencoded"


def command_body(
    text: str = "help",
    *,
    user_id: str = "U0000001",
    channel_id: str = "C0000001",
    team_id: str = "T0000001",
    trigger_id: str | None = None,
    response_url: str = "https://hooks.slack.com/commands/T0000001/1/abc",
    command: str = "/sredesk",
    **extra: str,
) -> bytes:
    """A slash command's form body in Slack's field order; a fresh trigger id unless given."""
    fields = {
        "token": "verification_token",
        "team_id": team_id,
        "team_domain": "example",
        "channel_id": channel_id,
        "channel_name": "incidents",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0000001",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or f"{next(_trigger)}.2222.{int(time.time() * 1000) % 10**8:x}",
        **extra,
    }
    return urlencode(fields).encode()


def signed_command(text: str = "help", *, secret: str = SECRET, timestamp: int | None = None, **fields: Any) -> dict:
    """Test-client kwargs for ``/sredesk <text>`` (fields as :func:`command_body`)."""
    return signed(command_body(text, **fields), FORM, secret=secret, timestamp=timestamp)


def interactivity_body(payload: dict[str, Any]) -> bytes:
    """``payload=<JSON>`` form-encoded, as Slack posts interactivity."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"), ensure_ascii=False)}).encode()


def block_actions(
    action_id: str,
    *,
    value: str = "",
    user_id: str = "U0000001",
    channel_id: str = "C0000001",
    message_ts: str = "1700000000.000100",
    action_ts: str | None = None,
    response_url: str = "https://hooks.slack.com/actions/T0000001/1/abc",
    trigger_id: str | None = None,
    view: dict | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``block_actions`` payload: one button click on a message (or in ``view``)."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": "T0000001"},
        "api_app_id": "A0000001",
        "container": {"type": "view", "view_id": view["id"]}
        if view
        else {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": False},
        "trigger_id": trigger_id or f"{next(_trigger)}.3333.{int(time.time() * 1000) % 10**8:x}",
        "team": {"id": "T0000001", "domain": "example"},
        "channel": {"id": channel_id, "name": "incidents"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b",
                "type": "button",
                "value": value,
                "action_ts": action_ts or f"{time.time():.6f}",
            }
        ],
        **extra,
    }
    if view:
        payload["view"] = view
        payload.pop("channel")
    return payload


def signed_action(
    action_id: str, *, secret: str = SECRET, timestamp: int | None = None, retry_num: int | None = None, **fields: Any
) -> dict:
    """Test-client kwargs for a button click (fields as :func:`block_actions`)."""
    return signed(
        interactivity_body(block_actions(action_id, **fields)),
        FORM,
        secret=secret,
        timestamp=timestamp,
        retry_num=retry_num,
    )


def view_submission(
    callback_id: str,
    values: dict[str, Any],
    *,
    user_id: str = "U0000001",
    view_id: str = "V0000001",
    view_hash: str = "1700000000.abcd",
    private_metadata: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """A ``view_submission`` payload; ``values`` is ``state.values`` (``{block_id: {action_id: {...}}}``)."""
    return {
        "type": "view_submission",
        "team": {"id": "T0000001", "domain": "example"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": "T0000001"},
        "api_app_id": "A0000001",
        "trigger_id": f"{next(_trigger)}.4444.{int(time.time() * 1000) % 10**8:x}",
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": callback_id,
            "hash": view_hash,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "blocks": [],
        },
        "response_urls": [],
        **extra,
    }


def signed_view_submission(
    callback_id: str, values: dict[str, Any], *, secret: str = SECRET, timestamp: int | None = None, **fields: Any
) -> dict:
    return signed(
        interactivity_body(view_submission(callback_id, values, **fields)), FORM, secret=secret, timestamp=timestamp
    )


def block_suggestion(action_id: str, value: str, *, user_id: str = "U0000001", **extra: Any) -> dict[str, Any]:
    """A ``block_suggestion`` payload: an ``external_select`` asking for options matching ``value``."""
    return {
        "type": "block_suggestion",
        "user": {"id": user_id, "team_id": "T0000001"},
        "team": {"id": "T0000001"},
        "action_id": action_id,
        "block_id": "b",
        "value": value,
        "api_app_id": "A0000001",
        **extra,
    }


def signed_suggestion(action_id: str, value: str, *, secret: str = SECRET, **fields: Any) -> dict:
    return signed(interactivity_body(block_suggestion(action_id, value, **fields)), FORM, secret=secret)


def event_envelope(event: dict[str, Any], *, event_id: str = "Ev00000001", team_id: str = "T0000001") -> dict:
    """An Events API ``event_callback`` envelope around ``event``."""
    return {
        "token": "verification_token",
        "team_id": team_id,
        "api_app_id": "A0000001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authed_users": ["U0BOT0001"],
    }


def signed_event(
    event: dict[str, Any],
    *,
    event_id: str = "Ev00000001",
    secret: str = SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
    **fields: Any,
) -> dict:
    """Test-client kwargs for an Events API delivery (``retry_num``: Slack's X-Slack-Retry-Num)."""
    body = json.dumps(event_envelope(event, event_id=event_id, **fields), separators=(",", ":")).encode()
    return signed(body, "application/json", secret=secret, timestamp=timestamp, retry_num=retry_num)
