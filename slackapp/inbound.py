"""From Slack's bytes to a handler: parse each door's body, name its natural key, record it once, dispatch.

The door (``views``) calls :func:`receive` with the verified raw body. It
answers at once in every case: a sync handler's answer, or an ack once the
request is handed to the broker (``hand_over``; a worker records and runs it,
``accept``) or, for one that opens a modal, recorded here (``run``, via
``tasks``). Natural keys (``InboundRequest``) make a retried or duplicated
request act once, whatever ``X-Slack-Retry-Num`` says (FIELD-CASES BR-08,
BR-15).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import Error as DatabaseError
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from slack_sdk.errors import SlackClientError

from sredesk import dbtrouble
from sredesk.choices import unknown_choice

from . import ledger, registry
from .client import post_response_url, slack_client
from .identity import link_message, person_by_slack_id, person_for_slack_user
from .models import InboundRequest
from .payloads import Parsed, context_for, text_of
from .registry import Handler, Reply, SlackContext, SlackUserError, as_reply

logger = logging.getLogger(__name__)


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
    """Answer one verified request within Slack's 3 s: sync handlers here, the rest handed to a worker."""
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
    if handler.modal is not None and ctx.trigger_id:
        # A modal opens with the trigger id, in this request (BR-31): recorded here first, so a redelivery opens none.
        pk = _record(parsed, ctx, retry_num)
        if pk is not None:
            _open_loading_modal(pk, ctx.trigger_id, handler)
            transaction.on_commit(lambda: enqueue(pk))
    else:
        values = _values(parsed, ctx, retry_num)
        transaction.on_commit(lambda: hand_over(values))
    if parsed.kind == "command":
        return JsonResponse(Reply(handler.ack).as_body())
    return HttpResponse(status=200)


DATABASE_TROUBLE = (
    "sredesk's database is busy or unreachable right now, so nothing was done. Please try again in a minute."
)


def database_trouble(parsed: Parsed, exc: BaseException) -> HttpResponse:
    """A person's request the database could not take (locked, down): tell them, ephemeral, instead of Slack's
    generic failure. A command's answer is its HTTP body; a click's goes to its response_url; a modal stays open
    with the sentence under its first input. Nothing was recorded, so trying again is safe."""
    sentence = DATABASE_TROUBLE
    logger.warning("slack %s %r refused, database trouble: %s", parsed.kind, parsed.name, exc)
    ctx = context_for(parsed.kind, parsed.payload or {})
    if parsed.kind == "view_submission":
        blocks = [b for b in ctx.view.get("blocks") or [] if isinstance(b, dict) and b.get("type") == "input"]
        if blocks and blocks[0].get("block_id"):
            return JsonResponse({"response_action": "errors", "errors": {blocks[0]["block_id"]: sentence}})
    if parsed.kind in ("command", "suggestion"):
        return JsonResponse(Reply(sentence).as_body() if parsed.kind == "command" else {"options": []})
    if ctx.response_url:
        post_response_url(ctx.response_url, Reply(sentence).as_body())
    return HttpResponse(status=200)


def _run_sync(handler: Handler, ctx: SlackContext) -> dict[str, Any]:
    ctx.person = person_by_slack_id(ctx.slack_user_id)
    if handler.person_required and ctx.person is None:
        return Reply(link_message(ctx)).as_body()
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
    pk = ledger.record_once(**_values(parsed, ctx, retry_num, status))
    if pk is None:
        logger.info("slack %s %s received again (retry %s): acted on once", parsed.kind, parsed.key, retry_num)
    return pk


def _values(parsed: Parsed, ctx: SlackContext, retry_num: int, status: str = InboundRequest.Status.QUEUED) -> dict:
    """The ledger row of a request, by field name (``ledger.record_once``'s keywords); the time received is now."""
    return {
        "kind": parsed.kind,
        "key": parsed.key,
        "name": parsed.name,
        "team_id": ctx.team_id[:32],
        "slack_user_id": ctx.slack_user_id[:32],
        "channel_id": ctx.channel_id[:32],
        "payload": parsed.payload,
        "retry_num": retry_num,
        "status": status,
        "received_at": timezone.now(),
    }


def _open_loading_modal(pk: int, trigger_id: str, handler: Handler) -> None:
    """views.open with the trigger id before anything slow (BR-31); a failure is kept for the worker to tell."""
    view_id = view_hash = error = ""
    try:
        client = slack_client(timeout=settings.SREDESK_SLACK_VIEWS_OPEN_TIMEOUT_SECONDS)
        view = client.views_open(trigger_id=trigger_id, view=handler.modal)["view"]
        view_id, view_hash = text_of(view.get("id")), text_of(view.get("hash"))
    except (SlackClientError, OSError, KeyError, TypeError) as exc:
        logger.warning("slack views.open failed: %s", exc, extra={"slack_inbound": pk})
        error = "Slack did not open the form in time. Please try again."
    InboundRequest.objects.filter(pk=pk).update(view_id=view_id, view_hash=view_hash, error=error)


def hand_over(values: dict[str, Any]) -> None:
    """Queue a request that opens no modal for a worker to record and run (``accept``): the door's only write is
    the broker's one ``LPUSH`` (``ledger.publish``), so it answers Slack without waiting for the database.

    When the broker cannot take it, the request is recorded here instead (``queued``; the sweep queues it within
    ``SREDESK_SLACK_REQUEUE_AFTER_SECONDS``), so an answered request is kept in one of the two. Raises only when
    both are down: the database's error, which the door turns into a sentence (or a 503 for an event).
    """
    from .tasks import inbound_receive_task

    message = {**values, "received_at": values["received_at"].isoformat()}
    try:
        ledger.publish(inbound_receive_task, (message,), argsrepr=message_repr(message))
    except Exception as exc:
        logger.warning("slack %s %s not queued, recorded for the sweep: %s", values["kind"], values["key"], exc)
        ledger.record_once(**values)


def message_repr(message: dict[str, Any]) -> str:
    """What logs, events and monitors show of a handed-over request's task argument: its kind and natural key,
    never the payload (the person's words, the response_url that lets anyone answer them)."""
    return f"({message.get('kind')} {message.get('key')})"


def accept(message: dict[str, Any]) -> str:
    """The worker's half of ``hand_over``: record the request under its natural key, then run it once (``run``).

    A request recorded before (Slack's retry, a redelivered task after a worker died) is run only if it is still
    ``queued``: the claim in ``run`` decides, so every request acts once. Returns ``run``'s status. Raises the
    database's errors (the task retries them, ``tasks.inbound_receive_task``).
    """
    values = {name: message[name] for name in ledger.COLUMNS if name in message}
    values["received_at"] = datetime.fromisoformat(message["received_at"])
    pk = ledger.record_once(**values)
    if pk is None:
        pk = InboundRequest.objects.filter(kind=values["kind"], key=values["key"]).values_list("pk", flat=True).first()
        logger.info("slack %s %s received again: acted on once", values["kind"], values["key"])
    return run(pk) if pk is not None else "skipped"


def retry_wait(message: dict[str, Any], *, attempts: int) -> float | None:
    """Seconds before the worker tries a handed-over request again after database trouble on its ``attempts``-th
    try (1, 2, 4, ... capped at 60 s, and at the time left); None once ``SREDESK_SLACK_GIVE_UP_SECONDS`` have
    passed since Slack sent it (the sweep's limit for a recorded request too: by then its response_url has expired),
    not sooner: until then the sweep may queue a recorded request again, and past it ``run`` no longer acts."""
    received = datetime.fromisoformat(message["received_at"])
    deadline = received + timedelta(seconds=settings.SREDESK_SLACK_GIVE_UP_SECONDS)
    left = (deadline - timezone.now()).total_seconds()
    return min(2.0 ** (attempts - 1), 60.0, left) if left > 0 else None


GAVE_UP = "The database was busy or unreachable until the give-up time; it was not acted on."


def give_up(message: dict[str, Any], exc: BaseException | str) -> None:
    """Tell the person whose handed-over request the database never took, or whose handler kept meeting database
    trouble, that nothing was done (its response_url; an event has none and is only logged). Its row, if recorded
    and still ``queued``, is marked ``failed`` first; a row acted on meanwhile (the sweep's task ran it once the
    lock went) is left alone and nobody is told. Never raises."""
    logger.error("slack %s %s given up, database trouble: %s", message.get("kind"), message.get("key"), exc)
    if _acted_on_after_all(message):
        return
    ctx = context_for(str(message.get("kind") or ""), message.get("payload") or {})
    if ctx.response_url:
        post_response_url(ctx.response_url, Reply(DATABASE_TROUBLE).as_body())


def _acted_on_after_all(message: dict[str, Any]) -> bool:
    """Mark the request's row ``failed`` (``GAVE_UP``) if it is still ``queued``; whether it was acted on instead
    (``done`` or ``ignored``). False when it was never recorded, or the database cannot say."""
    rows = InboundRequest.objects.filter(kind=message.get("kind"), key=message.get("key"))
    Status = InboundRequest.Status
    try:
        rows.filter(status=Status.QUEUED).update(status=Status.FAILED, error=GAVE_UP, handled_at=timezone.now())
        return rows.filter(status__in=(Status.DONE, Status.IGNORED)).exists()
    except DatabaseError as exc:  # the trouble goes on: the sweep fails the row once it can
        logger.warning("slack %s %s: not marked failed: %s", message.get("kind"), message.get("key"), exc)
        return False


def enqueue(inbound_id: int) -> None:
    """Hand the recorded request to a worker; a broker failure leaves it queued for the sweep (never raises)."""
    from .tasks import inbound_handle_task

    try:
        ledger.publish(inbound_handle_task, (inbound_id,))
    except Exception as exc:
        logger.warning("slack inbound %s not queued: %s", inbound_id, exc, extra={"slack_inbound": inbound_id})


# --- the worker's half ------------------------------------------------------------------------------------------


def run(inbound_id: int) -> str:
    """Run the handler of a recorded request once; returns the row's final status (or "skipped"). One received more
    than ``SREDESK_SLACK_GIVE_UP_SECONDS`` ago (a task redelivered late) is marked failed instead, not acted on.

    The claim (``queued`` -> done/failed) and the handler's writes share one
    transaction, so a worker that dies acts zero times and a redelivered task
    finds the row taken. Replies go to ``response_url`` after the commit.

    Raises database trouble (``sredesk.dbtrouble.is_database_trouble``: a table locked by a migration, the
    database gone), the handler's included: the claim and the handler's writes roll back together and the row
    stays ``queued`` for the caller to try again (``tasks``), as when recording it failed.
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
        if ledger.too_late(claimed.received_at, timezone.now()):  # a task redelivered after the give-up time
            status, error = InboundRequest.Status.FAILED, ledger.TOO_LATE
        elif error:
            status, replies = InboundRequest.Status.FAILED, [Reply(error)]
        elif handler is None:
            status = InboundRequest.Status.IGNORED
        elif handler.person_required and ctx.person is None:
            replies, error = [Reply(link_message(ctx))], "Slack user not linked."
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
        if dbtrouble.is_database_trouble(exc):
            raise  # not the handler's fault: ``run``'s whole transaction rolls back, to be tried again
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
