"""From Slack's bytes to what a handler sees: each door's body parsed, its natural key named, its context built.

Parsing refuses what cannot be stored (``sredesk.inputs``: NUL, lone
surrogates, depth) with an ``InputError`` naming the field (400 at the door).
The natural keys (``InboundRequest``): an event's ``event_id``; a command's
``user_id:trigger_id``; a click's ``<message ts or view id>:<action_id>:<action_ts>``;
a modal submission's ``<view id>:<view hash>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from sredesk.inputs import InputError, load_json, text_problem

from .registry import SlackContext

KEY_MAX = 255


@dataclass
class Parsed:
    """One request, understood: ``kind`` (a registry kind, or ``"answer"`` with ``answer`` to send as is)."""

    kind: str
    name: str = ""
    key: str = ""
    payload: dict[str, Any] | None = None
    answer: dict[str, Any] | None = None


def _check_storable(value: Any, path: str = "payload") -> None:
    """Refuse (InputError) text PostgreSQL cannot store (NUL, lone surrogates) anywhere in a parsed payload."""
    stack = [(path, value)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, str):
            problem = text_problem(node)
            if problem:
                raise InputError(where, problem)
        elif isinstance(node, dict):
            stack.extend((f"{where}.{k}", v) for k, v in node.items())
            stack.extend((f"{where}.<key>", k) for k in node)
        elif isinstance(node, list):
            stack.extend((f"{where}.{i}", v) for i, v in enumerate(node))


def _form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("ascii")  # Slack percent-encodes every non-ASCII byte of a form
    except UnicodeDecodeError:
        raise InputError("body", "A Slack form body is ASCII (percent-encoded).") from None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError("body", f"Not a form body: {exc}") from None
    if "%00" in text or "\x00" in text:  # the one unstorable character a strict UTF-8 form can hold (a NUL)
        raise InputError("body", "Contains a NUL character (%00), which cannot be stored.")
    return dict(pairs)


def _require_key_text(parent: dict[str, Any], name: str, field: str) -> None:
    """InputError naming ``field`` unless ``parent[name]`` is non-empty text: a part of a natural key, which
    Slack always sends; a missing one would give many requests the same key and drop all but the first."""
    if not parent.get(name) or not isinstance(parent.get(name), str):
        raise InputError(field, f"A Slack request of this type carries {field} as text.")


def text_of(value: Any) -> str:
    """``value`` when it is a string, else "" (Slack payload fields are read with it)."""
    return value if isinstance(value, str) else ""


def parse_command(body: bytes) -> Parsed:
    """A slash command's form: the verb is the first word of ``text`` (``help`` when there is none)."""
    form = _form(body)
    verb = (text_of(form.get("text")).split(None, 1) or ["help"])[0].lower()
    key = f"{text_of(form.get('user_id'))}:{text_of(form.get('trigger_id'))}"
    if not form.get("user_id") or not form.get("trigger_id"):
        raise InputError("user_id", "A slash command carries user_id and trigger_id.")
    return Parsed("command", verb[:KEY_MAX], key[:KEY_MAX], form)


def parse_interactivity(body: bytes) -> Parsed:
    """``payload=<JSON>``: block_actions, view_submission, block_suggestion; other types are acknowledged only."""
    raw = _form(body).get("payload")
    if raw is None:
        raise InputError("payload", "An interactivity request carries a payload field.")
    payload = load_json(raw, field="payload")
    if not isinstance(payload, dict):
        raise InputError("payload", "The payload is a JSON object.")
    _check_storable(payload)
    kind = payload.get("type")
    view = payload.get("view") if isinstance(payload.get("view"), dict) else {}
    if kind == "block_actions":
        actions = payload.get("actions") or [{}]
        first = actions[0] if isinstance(actions, list) and isinstance(actions[0], dict) else {}
        container = payload.get("container") if isinstance(payload.get("container"), dict) else {}
        where = text_of(container.get("message_ts")) or text_of(view.get("id"))
        _require_key_text(first, "action_ts", "actions.0.action_ts")  # two clicks must not share a key
        key = f"{where}:{text_of(first.get('action_id'))}:{text_of(first.get('action_ts'))}"
        return Parsed("action", text_of(first.get("action_id"))[:KEY_MAX], key[:KEY_MAX], payload)
    if kind == "view_submission":
        _require_key_text(view, "id", "view.id")
        _require_key_text(view, "hash", "view.hash")
        key = f"{text_of(view.get('id'))}:{text_of(view.get('hash'))}"
        return Parsed("view_submission", text_of(view.get("callback_id"))[:KEY_MAX], key[:KEY_MAX], payload)
    if kind == "block_suggestion":
        return Parsed("suggestion", text_of(payload.get("action_id"))[:KEY_MAX], "", payload)
    return Parsed("answer", answer={})  # view_closed, shortcuts: nothing registered for them yet


def parse_event(body: bytes) -> Parsed:
    """An Events API envelope: ``url_verification`` is answered, ``event_callback`` keyed by ``event_id``."""
    envelope = load_json(body, field="body")
    if not isinstance(envelope, dict):
        raise InputError("body", "An Events API request is a JSON object.")
    _check_storable(envelope, "body")
    if envelope.get("type") == "url_verification":
        return Parsed("answer", answer={"challenge": text_of(envelope.get("challenge"))})
    event = envelope.get("event")
    if envelope.get("type") != "event_callback" or not isinstance(event, dict) or not envelope.get("event_id"):
        return Parsed("answer", answer={})  # app_rate_limited and friends: acknowledged
    if not isinstance(envelope["event_id"], str):  # else every such event would share the key "" and act once
        raise InputError("event_id", "An event's event_id is text (Ev...).")
    return Parsed("event", text_of(event.get("type"))[:KEY_MAX], text_of(envelope.get("event_id"))[:KEY_MAX], envelope)


def context_for(kind: str, payload: dict[str, Any]) -> SlackContext:
    """The handler's context for a parsed payload (the door and the worker build the same one)."""
    if kind == "command":
        words = text_of(payload.get("text")).strip().split(None, 1)
        return SlackContext(
            kind=kind,
            payload=payload,
            slack_user_id=text_of(payload.get("user_id")),
            team_id=text_of(payload.get("team_id")),
            channel_id=text_of(payload.get("channel_id")),
            trigger_id=text_of(payload.get("trigger_id")),
            response_url=text_of(payload.get("response_url")),
            args=words[1].strip() if len(words) > 1 else "",
        )
    if kind == "event":
        event = payload.get("event") or {}
        item = event.get("item") if isinstance(event.get("item"), dict) else {}
        return SlackContext(
            kind=kind,
            payload=payload,
            slack_user_id=text_of(event.get("user")),
            team_id=text_of(payload.get("team_id")),
            channel_id=text_of(event.get("channel")) or text_of(item.get("channel")),
        )
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    team = payload.get("team") if isinstance(payload.get("team"), dict) else {}
    channel = payload.get("channel") if isinstance(payload.get("channel"), dict) else {}
    container = payload.get("container") if isinstance(payload.get("container"), dict) else {}
    view = payload.get("view") if isinstance(payload.get("view"), dict) else {}
    actions = payload.get("actions") if isinstance(payload.get("actions"), list) else []
    return SlackContext(
        kind=kind,
        payload=payload,
        slack_user_id=text_of(user.get("id")),
        team_id=text_of(team.get("id")),
        channel_id=text_of(channel.get("id")) or text_of(container.get("channel_id")),
        trigger_id=text_of(payload.get("trigger_id")),
        response_url=text_of(payload.get("response_url")) or _response_url_of_view(payload),
        message_ts=text_of(container.get("message_ts")),
        value=text_of(payload.get("value")),
        action=actions[0] if actions and isinstance(actions[0], dict) else {},
        view=view,
        view_id=text_of(view.get("id")),
        view_hash=text_of(view.get("hash")),
    )


def _response_url_of_view(payload: dict[str, Any]) -> str:
    urls = payload.get("response_urls")  # a modal with a conversations_select "response_url_enabled"
    return text_of(urls[0].get("response_url")) if isinstance(urls, list) and urls and isinstance(urls[0], dict) else ""
