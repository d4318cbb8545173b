"""From Slack's bytes to a handler: parse each door's body, name its natural key, record it once, dispatch.

The door (``views``) calls :func:`receive` with the verified raw body. It
answers at once in every case: a sync handler's answer, or an ack while the
recorded request waits for a worker (``run``, via ``tasks``). Natural keys
(``InboundRequest``) make a retried or duplicated request act once, whatever
``X-Slack-Retry-Num`` says (FIELD-CASES BR-08, BR-15).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from slack_sdk.errors import SlackClientError

from sredesk.choices import unknown_choice
from sredesk.inputs import InputError, load_json, text_problem

from . import ledger, registry
from .client import post_response_url, slack_client
from .identity import link_message, person_by_slack_id, person_for_slack_user
from .models import InboundRequest
from .registry import Handler, Reply, SlackContext, SlackUserError, as_reply

logger = logging.getLogger(__name__)

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


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse_command(body: bytes) -> Parsed:
    """A slash command's form: the verb is the first word of ``text`` (``help`` when there is none)."""
    form = _form(body)
    verb = (_s(form.get("text")).split(None, 1) or ["help"])[0].lower()
    key = f"{_s(form.get('user_id'))}:{_s(form.get('trigger_id'))}"
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
        where = _s(container.get("message_ts")) or _s(view.get("id"))
        _require_key_text(first, "action_ts", "actions.0.action_ts")  # two clicks must not share a key
        key = f"{where}:{_s(first.get('action_id'))}:{_s(first.get('action_ts'))}"
        return Parsed("action", _s(first.get("action_id"))[:KEY_MAX], key[:KEY_MAX], payload)
    if kind == "view_submission":
        _require_key_text(view, "id", "view.id")
        _require_key_text(view, "hash", "view.hash")
        key = f"{_s(view.get('id'))}:{_s(view.get('hash'))}"
        return Parsed("view_submission", _s(view.get("callback_id"))[:KEY_MAX], key[:KEY_MAX], payload)
    if kind == "block_suggestion":
        return Parsed("suggestion", _s(payload.get("action_id"))[:KEY_MAX], "", payload)
    return Parsed("answer", answer={})  # view_closed, shortcuts: nothing registered for them yet


def parse_event(body: bytes) -> Parsed:
    """An Events API envelope: ``url_verification`` is answered, ``event_callback`` keyed by ``event_id``.

    Raises InputError for a body that is no JSON object, holds unstorable text, or an ``event_id`` that is no text.
    """
    envelope = load_json(body, field="body")
    if not isinstance(envelope, dict):
        raise InputError("body", "An Events API request is a JSON object.")
    _check_storable(envelope, "body")
    if envelope.get("type") == "url_verification":
        return Parsed("answer", answer={"challenge": _s(envelope.get("challenge"))})
    event = envelope.get("event")
    if envelope.get("type") != "event_callback" or not isinstance(event, dict) or not envelope.get("event_id"):
        return Parsed("answer", answer={})  # app_rate_limited and friends: acknowledged
    if not isinstance(envelope["event_id"], str):  # else every such event would share the key "" and act once
        raise InputError("event_id", "An event's event_id is text (Ev...).")
    return Parsed("event", _s(event.get("type"))[:KEY_MAX], _s(envelope.get("event_id"))[:KEY_MAX], envelope)


def context_for(kind: str, payload: dict[str, Any]) -> SlackContext:
    """The handler's context for a parsed payload (the door and the worker build the same one)."""
    if kind == "command":
        words = _s(payload.get("text")).strip().split(None, 1)
        return SlackContext(
            kind=kind,
            payload=payload,
            slack_user_id=_s(payload.get("user_id")),
            team_id=_s(payload.get("team_id")),
            channel_id=_s(payload.get("channel_id")),
            trigger_id=_s(payload.get("trigger_id")),
            response_url=_s(payload.get("response_url")),
            args=words[1].strip() if len(words) > 1 else "",
        )
    if kind == "event":
        event = payload.get("event") or {}
        item = event.get("item") if isinstance(event.get("item"), dict) else {}
        return SlackContext(
            kind=kind,
            payload=payload,
            slack_user_id=_s(event.get("user")),
            team_id=_s(payload.get("team_id")),
            channel_id=_s(event.get("channel")) or _s(item.get("channel")),
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
        slack_user_id=_s(user.get("id")),
        team_id=_s(team.get("id")),
        channel_id=_s(channel.get("id")) or _s(container.get("channel_id")),
        trigger_id=_s(payload.get("trigger_id")),
        response_url=_s(payload.get("response_url")) or _response_url_of_view(payload),
        message_ts=_s(container.get("message_ts")),
        value=_s(payload.get("value")),
        action=actions[0] if actions and isinstance(actions[0], dict) else {},
        view=view,
        view_id=_s(view.get("id")),
        view_hash=_s(view.get("hash")),
    )


def _response_url_of_view(payload: dict[str, Any]) -> str:
    urls = payload.get("response_urls")  # a modal with a conversations_select "response_url_enabled"
    return _s(urls[0].get("response_url")) if isinstance(urls, list) and urls and isinstance(urls[0], dict) else ""


# --- answering ----------------------------------------------------------------------------------------------


def user_sentence(exc: BaseException) -> str:
    """What to tell the user for an exception a handler raised on purpose (None-safe: never empty)."""
    if isinstance(exc, SlackUserError):
        return exc.message
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages) or "That was not accepted."
    return str(getattr(exc, "message", "") or exc) or "You may not do that."


USER_ERRORS = (SlackUserError, ValidationError, PermissionDenied)


def _body(result: Any) -> dict[str, Any]:
    if result is None:
        return {}
    if isinstance(result, dict):
        return result
    return as_reply(result).as_body()


def _unknown_command(parsed: Parsed) -> JsonResponse:
    verbs = registry.names("command")
    text = unknown_choice("command", parsed.name, verbs, hint=f"`{settings.SREDESK_SLACK_COMMAND} help` lists them.")
    return JsonResponse(Reply(text).as_body())


def receive(parsed: Parsed, *, retry_num: int = 0) -> HttpResponse:
    """Answer one verified request within Slack's 3 s: sync handlers here, the rest recorded and queued."""
    if parsed.kind == "answer":
        return JsonResponse(parsed.answer or {}) if parsed.answer else HttpResponse(status=200)
    handler = registry.find(parsed.kind, parsed.name)
    if handler is None:
        if parsed.kind == "command":
            return _unknown_command(parsed)
        if parsed.kind == "suggestion":
            return JsonResponse({"options": []})
        logger.info("slack %s %r: no handler", parsed.kind, parsed.name)
        _record(parsed, context_for(parsed.kind, parsed.payload or {}), retry_num, InboundRequest.Status.IGNORED)
        return HttpResponse(status=200)
    ctx = context_for(parsed.kind, parsed.payload or {})
    if handler.sync:
        return JsonResponse(_run_sync(handler, ctx))
    pk = _record(parsed, ctx, retry_num)
    if pk is not None and handler.modal is not None and ctx.trigger_id:
        _open_loading_modal(pk, ctx.trigger_id, handler)
    if pk is not None:
        transaction.on_commit(lambda: enqueue(pk))
    if parsed.kind == "command":
        return JsonResponse(Reply(handler.ack).as_body())
    return HttpResponse(status=200)


def _run_sync(handler: Handler, ctx: SlackContext) -> dict[str, Any]:
    ctx.person = person_by_slack_id(ctx.slack_user_id)
    if handler.person_required and ctx.person is None:
        return Reply(link_message(ctx.slack_user_id, ctx.team_id)).as_body()
    try:
        return _body(handler.func(ctx))
    except USER_ERRORS as exc:
        return Reply(user_sentence(exc)).as_body()


def _record(
    parsed: Parsed, ctx: SlackContext, retry_num: int, status: str = InboundRequest.Status.QUEUED
) -> int | None:
    """Store the request under its natural key: its id, or None when it was stored already (a retry, a duplicate).

    Requests no handler takes are kept too (``ignored``): the Slack health view shows the last one received.
    """
    values = {
        "kind": parsed.kind,
        "key": parsed.key,
        "name": parsed.name,
        "team_id": ctx.team_id[:32],
        "slack_user_id": ctx.slack_user_id[:32],
        "channel_id": ctx.channel_id[:32],
        "payload": parsed.payload,
        "retry_num": retry_num,
        "status": status,
    }
    pk = ledger.record_once(**values)
    if pk is None:
        logger.info("slack %s %s received again (retry %s): acted on once", parsed.kind, parsed.key, retry_num)
        return None
    return pk


def _open_loading_modal(pk: int, trigger_id: str, handler: Handler) -> None:
    """views.open with the trigger id before anything slow (BR-31); a failure is kept for the worker to tell."""
    view_id = view_hash = error = ""
    try:
        client = slack_client(timeout=settings.SREDESK_SLACK_VIEWS_OPEN_TIMEOUT_SECONDS)
        view = client.views_open(trigger_id=trigger_id, view=handler.modal)["view"]
        view_id, view_hash = _s(view.get("id")), _s(view.get("hash"))
    except (SlackClientError, OSError, KeyError, TypeError) as exc:
        logger.warning("slack views.open failed: %s", exc, extra={"slack_inbound": pk})
        error = "Slack did not open the form in time. Please try again."
    InboundRequest.objects.filter(pk=pk).update(view_id=view_id, view_hash=view_hash, error=error)


def enqueue(inbound_id: int) -> None:
    """Hand the recorded request to a worker; a broker failure leaves it queued for the sweep (never raises)."""
    from .tasks import inbound_handle_task

    try:
        ledger.publish(inbound_handle_task, (inbound_id,))
    except Exception as exc:
        logger.warning("slack inbound %s not queued: %s", inbound_id, exc, extra={"slack_inbound": inbound_id})


# --- the worker's half ------------------------------------------------------------------------------------------


def run(inbound_id: int) -> str:
    """Run the handler of a recorded request once; returns the row's final status (or "skipped").

    The claim (``queued`` -> done/failed) and the handler's writes share one
    transaction, so a worker that dies acts zero times and a redelivered task
    finds the row taken. Replies go to ``response_url`` after the commit.
    """
    row = InboundRequest.objects.filter(pk=inbound_id, status=InboundRequest.Status.QUEUED).first()
    if row is None:
        return "skipped"
    handler = registry.find(row.kind, row.name)
    ctx = context_for(row.kind, row.payload)
    ctx.inbound_id = row.pk
    if row.view_id:
        ctx.view_id, ctx.view_hash = row.view_id, row.view_hash
    if handler is not None and not row.error:
        ctx.person = person_for_slack_user(ctx.slack_user_id)  # may ask Slack: outside the transaction
    replies: list[Reply] = []
    with transaction.atomic():
        claimed = (
            InboundRequest.objects.select_for_update(skip_locked=True)
            .filter(pk=inbound_id, status=InboundRequest.Status.QUEUED)
            .first()
        )
        if claimed is None:
            return "skipped"
        status, error = InboundRequest.Status.DONE, claimed.error
        if error:
            status, replies = InboundRequest.Status.FAILED, [Reply(error)]
        elif handler is None:
            status = InboundRequest.Status.IGNORED
        elif handler.person_required and ctx.person is None:
            replies, error = [Reply(link_message(ctx.slack_user_id, ctx.team_id))], "Slack user not linked."
        else:
            status, error, replies = _call(handler, ctx)
        claimed.status, claimed.error, claimed.handled_at = status, error, timezone.now()
        claimed.save(update_fields=["status", "error", "handled_at"])
        transaction.on_commit(lambda: _send_replies(ctx, replies))
    return status


def _call(handler: Handler, ctx: SlackContext) -> tuple[str, str, list[Reply]]:
    try:
        with transaction.atomic():  # the handler's writes roll back alone when it fails
            result = handler.func(ctx)
    except USER_ERRORS as exc:
        sentence = user_sentence(exc)
        return InboundRequest.Status.DONE, sentence, [Reply(sentence)]
    except Exception as exc:
        logger.exception("slack handler %s failed", handler.name, extra={"slack_inbound": ctx.inbound_id})
        sentence = (
            f"Something went wrong on sredesk's side (Slack request {ctx.inbound_id}); nothing was changed. "
            "Please try again, or use the web page."
        )
        return InboundRequest.Status.FAILED, f"{type(exc).__name__}: {exc}"[:2000], [Reply(sentence)]
    replies = list(ctx.replies)
    if isinstance(result, dict):
        replies.append(Reply(text=str(result.get("text", "")), blocks=result.get("blocks")))
    elif result is not None:
        replies.append(as_reply(result))
    return InboundRequest.Status.DONE, "", replies


def _send_replies(ctx: SlackContext, replies: list[Reply]) -> None:
    """Post the replies: to ``response_url`` when the request has one; else (events) in the channel it came from,
    ephemeral to the user (``chat.postEphemeral``) or in the thread (``chat.postMessage``). Never raises."""
    for reply in replies:
        if ctx.response_url:
            post_response_url(ctx.response_url, reply.as_body(), inbound_id=ctx.inbound_id)
            continue
        if not ctx.channel_id or not settings.SLACK_BOT_TOKEN:
            logger.info(
                "slack reply with nowhere to go dropped: %s", reply.text[:200], extra={"slack_inbound": ctx.inbound_id}
            )
            continue
        try:
            if reply.ephemeral and ctx.slack_user_id:
                ctx.client.chat_postEphemeral(
                    channel=ctx.channel_id, user=ctx.slack_user_id, text=reply.text, blocks=reply.blocks
                )
            else:
                thread = str(ctx.event.get("thread_ts") or ctx.event.get("ts") or "") or None
                ctx.client.chat_postMessage(
                    channel=ctx.channel_id, text=reply.text, blocks=reply.blocks, thread_ts=thread
                )
        except (SlackClientError, OSError) as exc:
            logger.warning("slack reply failed: %s", exc, extra={"slack_inbound": ctx.inbound_id})
