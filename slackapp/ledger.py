"""The Slack request ledger's two writes, kept cheap: the door's publish is paid within Slack's 3 s.

``record_once`` (the worker's, or the door's for a request that opens a modal or that the broker refused) stores a
request under its natural key with one
``INSERT ... ON CONFLICT (kind, key) DO NOTHING RETURNING id``: one round
trip, no exception and no savepoint for a duplicate, committed on its own
outside a transaction (PostgreSQL, and SQLite 3.35+ for the embedded default).

``publish`` queues the worker's task (the door's only write for most requests,
``inbound.hand_over``). On a Redis (or another kombu virtual) broker it sends
the very message ``apply_async`` would send — Celery's own
``as_task_v2`` builds it, kombu's channel encodes and delivers it, to the
task's default queue by the anonymous exchange, as Celery routes it — over one
channel (and, on Redis, one connection: one ``LPUSH``) kept per thread, skipping the producer pool, router, signals
and retry wrappers that cost more CPU than the rest of the door (bench/slack.py).
Any other broker, and eager mode (tests), go through ``apply_async``.
"""

from __future__ import annotations

import json
import threading
from contextlib import suppress
from functools import cache
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone
from kombu.transport.redis import Channel as RedisChannel
from kombu.transport.virtual import Channel as VirtualChannel
from kombu.transport.virtual import Transport as VirtualTransport
from kombu.utils.json import dumps
from kombu.utils.uuid import uuid
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sredesk.celery import app

from .models import InboundRequest

COLUMNS = (
    "kind", "key", "name", "team_id", "slack_user_id", "channel_id", "payload", "retry_num", "received_at", "status",
    "error", "view_id", "view_hash",
)  # fmt: skip


def record_once(**values: Any) -> int | None:
    """Insert an InboundRequest (``values`` by field name; unset fields get their defaults) unless one with the same
    ``(kind, key)`` exists; returns the new row's id, or None for a request recorded before."""
    values = {"received_at": timezone.now(), "status": InboundRequest.Status.QUEUED, **values}
    params = [
        # Text and numbers go as they are; the JSON payload and the time through their fields' own adaptation.
        f.get_db_prep_save(values[f.name], connection) if f.name in ADAPTED else values.get(f.name, default)
        for f, default in _fields()
    ]
    sql = _insert_sql(connection.vendor)
    # Django checks a kept connection with a round trip of its own (SELECT 1, CONN_HEALTH_CHECKS) before a request's
    # first query. The INSERT is its own check here: should the kept connection have died, it is closed and the
    # INSERT sent once more on a new one (safe: ON CONFLICT DO NOTHING; an INSERT that did land then reads as a
    # duplicate, and its row, still queued, is queued again by the sweep, ``inbound_sweep``).
    checking = connection.health_check_enabled and not connection.health_check_done and not connection.in_atomic_block
    if checking:
        connection.health_check_done = True
    try:
        return _insert(sql, params)
    except (OperationalError, InterfaceError):
        if not checking:
            raise
        connection.close()
        return _insert(sql, params)


ADAPTED = frozenset({"payload", "received_at"})


@cache
def _fields() -> list:
    """(field, its default) for each of COLUMNS."""
    fields = [InboundRequest._meta.get_field(name) for name in COLUMNS]
    return [(f, f.get_default()) for f in fields]


@cache
def _insert_sql(vendor: str) -> str:
    """The INSERT, built once per database vendor (quoting), from the model's own meta; values are parameters."""
    quote = connection.ops.quote_name
    table, columns = quote(InboundRequest._meta.db_table), ", ".join(quote(f.column) for f, _ in _fields())
    marks, unique = ", ".join(["%s"] * len(COLUMNS)), f"{quote('kind')}, {quote('key')}"
    return f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({unique}) DO NOTHING RETURNING id"  # noqa: S608


def _insert(sql: str, params: list) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


_local = threading.local()


def _channel() -> VirtualChannel | None:
    """This thread's channel to the broker, or None when the broker is no kombu virtual transport."""
    conf = app.conf
    url = conf.broker_write_url or conf.broker_url
    channel = getattr(_local, "channel", None)
    if channel is not None and _local.url != url:  # the broker was changed (tests do): open a channel to the new one
        _forget_channel()
        channel = None
    if channel is None:
        if getattr(_local, "plain_url", None) == url:
            return None  # AMQP and the like: apply_async, every time
        wait = settings.SREDESK_SLACK_BROKER_TIMEOUT_SECONDS  # a Redis that never answers: no socket waits longer
        conn = app.connection_for_write(transport_options={"socket_timeout": wait, "socket_connect_timeout": wait})
        if not isinstance(conn.transport, VirtualTransport):
            conn.release()
            _local.plain_url = url
            return None
        try:
            # One try, not kombu's retries (6 s against a refused port): the door answers within Slack's 3 s, and
            # a request the broker cannot take is recorded in the database instead (``inbound.hand_over``).
            conn.ensure_connection(max_retries=0)
        except Exception:
            conn.release()
            raise
        channel = conn.default_channel
        _local.connection, _local.channel, _local.url, _local.redis = conn, channel, url, None
        # Read once with the channel: Celery's configuration lookups cost more than the rest of a publish.
        _local.conf = (conf.task_time_limit, conf.task_soft_time_limit, conf.task_default_queue)
    return channel


def _redis_connection(channel: RedisChannel):
    """A connection of ``channel``'s Redis pool, this thread's own until ``_forget_channel`` (never shared)."""
    _local.redis = channel._create_client().connection_pool.get_connection()
    return _local.redis


def _lpush(redis_connection, key: str, message: str) -> None:
    """``LPUSH key message``; a connection the server or the network closed since (Redis restarted, an idle
    timeout) is opened again and the command sent once more, as a redis client's retry does. Should the first one
    have landed after all, the task runs once anyway: the worker's claim makes the second message a no-op. A
    reply that does not come within ``SREDESK_SLACK_BROKER_TIMEOUT_SECONDS`` raises (``RedisTimeoutError``) without
    a second try: a broker that does not answer would make the door wait twice as long."""
    try:
        redis_connection.send_command("LPUSH", key, message)
        redis_connection.read_response()  # raises the server's error; the new length of the list otherwise
    except RedisTimeoutError:
        redis_connection.disconnect()
        raise
    except RedisConnectionError:
        redis_connection.disconnect()
        redis_connection.send_command("LPUSH", key, message)  # connects first
        redis_connection.read_response()


def _forget_channel() -> None:
    conn, redis_connection = getattr(_local, "connection", None), getattr(_local, "redis", None)
    _local.channel = _local.connection = _local.redis = None
    with suppress(Exception):  # a broken connection may fail to close; it is dropped either way
        if redis_connection is not None:
            redis_connection.disconnect()
    with suppress(Exception):
        if conn is not None:
            conn.release()


def publish(task, args: tuple, *, argsrepr: str | None = None) -> str:
    """Queue ``task(*args)`` for a worker, as ``task.apply_async(args)`` does; returns the task id. ``argsrepr``
    is what logs and monitors show of the arguments (default ``repr(args)``: pass a short one for a payload).

    Raises the broker's error (the caller keeps the row queued for the sweep); the thread's channel is then
    dropped and opened again on the next call.
    """
    if app.conf.task_always_eager:
        return task.apply_async(args, argsrepr=argsrepr).id
    channel = _channel()
    if channel is None:
        return task.apply_async(args, argsrepr=argsrepr).id
    task_id = uuid()
    argsrepr = repr(args) if argsrepr is None else argsrepr
    time_limit, soft_time_limit, queue = _local.conf
    headers, properties, body, _ = app.amqp.as_task_v2(
        task_id, task.name, args=args, kwargs={}, argsrepr=argsrepr, kwargsrepr="{}", ignore_result=True,
        time_limit=time_limit, soft_time_limit=soft_time_limit, reply_to=app.thread_oid,
    )  # fmt: skip
    properties["delivery_mode"] = 2  # persistent, as Celery's default queue publishes
    try:
        message = channel.prepare_message(json.dumps(body), 0, "application/json", "utf-8", headers, properties)
        if isinstance(channel, RedisChannel):
            # What basic_publish + _put do for the anonymous exchange, on one connection of the channel's pool kept
            # by this thread: kombu makes a new client object per message (a fifth of the door's CPU), and a client
            # takes a connection from its pool, polls it and puts it back around every command (2/3 of its LPUSH).
            channel._inplace_augment_message(message, "", queue)
            _lpush(_local.redis or _redis_connection(channel), channel._q_for_pri(queue, 0), dumps(message))
        else:
            channel.basic_publish(message, exchange="", routing_key=queue)
    except Exception:
        _forget_channel()
        raise
    return task_id


TOO_LATE = "No worker handled it in time (was the broker or the worker down?); it was not acted on."


def too_late(received_at, now) -> bool:
    """Whether a request Slack sent at ``received_at`` is past acting on at ``now`` (aware UTC): more than
    ``SREDESK_SLACK_GIVE_UP_SECONDS`` ago, its response_url has expired and the person has long given up on it."""
    from datetime import timedelta

    return received_at < now - timedelta(seconds=settings.SREDESK_SLACK_GIVE_UP_SECONDS)


def inbound_sweep(*, now=None) -> dict[str, int]:
    """Beat, every minute: queue again the requests whose task was lost, fail the ones waiting too long, purge old rows.

    A request ``queued`` for more than ``SREDESK_SLACK_REQUEUE_AFTER_SECONDS`` is published again (the worker's
    claim makes a second task a no-op); one queued for more than ``SREDESK_SLACK_GIVE_UP_SECONDS`` is marked
    ``failed`` with a sentence (its response_url has expired); rows older than
    ``SREDESK_SLACK_INBOUND_RETENTION_DAYS`` are deleted, 10,000 at a time. Returns the counts.
    """
    from datetime import timedelta

    from django.conf import settings

    from .tasks import inbound_handle_task

    now = now or timezone.now()
    queued = InboundRequest.objects.filter(status=InboundRequest.Status.QUEUED)
    give_up = now - timedelta(seconds=settings.SREDESK_SLACK_GIVE_UP_SECONDS)
    failed = queued.filter(received_at__lt=give_up).update(
        status=InboundRequest.Status.FAILED,
        handled_at=now,
        error=TOO_LATE,
    )
    stale = now - timedelta(seconds=settings.SREDESK_SLACK_REQUEUE_AFTER_SECONDS)
    requeued = 0
    for pk in queued.filter(received_at__lt=stale, received_at__gte=give_up).values_list("pk", flat=True)[:1000]:
        inbound_handle_task.apply_async((pk,))
        requeued += 1
    old = now - timedelta(days=settings.SREDESK_SLACK_INBOUND_RETENTION_DAYS)
    ids = list(InboundRequest.objects.filter(received_at__lt=old).values_list("pk", flat=True)[:10_000])
    purged = InboundRequest.objects.filter(pk__in=ids).delete()[0] if ids else 0
    return {"requeued": requeued, "failed": failed, "purged": purged}


PEEK, CHUNK = 200, 20  # newest messages of the broker's queue the health view reads at most, and per LRANGE


def newest_waiting() -> tuple[dict[str, Any] | None, int]:
    """The newest request a door handed over that no worker has taken yet (``inbound.hand_over``'s message, whose
    ``received_at`` is ISO text), looked for among the ``PEEK`` newest messages of the task's queue, and how many
    messages of any task wait in that queue; ``(None, 0)`` when the broker is no Redis or does not answer in 2 s.

    For the Slack health view: the ledger has a handed-over request only once a worker took it, so with no worker
    running, Slack's latest requests are only here. Read-only (``LLEN``, ``LRANGE`` of ``CHUNK`` messages until one
    is found: a message may be as big as a Slack request, ``SREDESK_SLACK_MAX_BODY_BYTES``).
    """
    import base64

    import redis

    from .tasks import inbound_receive_task

    url = app.conf.broker_write_url or app.conf.broker_url
    if app.conf.task_always_eager or not str(url).startswith(("redis://", "rediss://")):
        return None, 0
    queue = app.conf.task_default_queue
    try:
        with redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) as client:
            depth = client.llen(queue)
            for start in range(0, min(depth, PEEK), CHUNK):
                for raw in client.lrange(queue, start, start + CHUNK - 1):  # LPUSH: the newest first
                    with suppress(ValueError, KeyError, TypeError, IndexError):
                        message = json.loads(raw)
                        if message["headers"]["task"] == inbound_receive_task.name:
                            return json.loads(base64.b64decode(message["body"]))[0][0], depth
    except redis.RedisError:
        return None, 0
    return None, depth
