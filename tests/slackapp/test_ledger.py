"""The ledger's cheap writes: one INSERT that tells a duplicate, and the same task message apply_async would send."""

import base64
import json

from slackapp import ledger
from slackapp.models import InboundRequest
from slackapp.tasks import inbound_handle_task


def test_record_once_inserts_once_per_natural_key(db):
    first = ledger.record_once(kind="event", key="Ev1", name="x", payload={"a": "ü"}, retry_num=0)
    again = ledger.record_once(kind="event", key="Ev1", name="x", payload={"a": "other"}, retry_num=1)
    other_kind = ledger.record_once(kind="command", key="Ev1", name="x", payload={})

    row = InboundRequest.objects.get(pk=first)
    assert again is None and other_kind not in (None, first)
    assert (row.payload, row.retry_num, row.status, row.error) == ({"a": "ü"}, 0, "queued", "")


def _decoded(raw: bytes) -> dict:
    message = json.loads(raw)
    message["body"] = json.loads(base64.b64decode(message["body"]))
    for volatile in ("correlation_id", "delivery_tag"):
        message["properties"].pop(volatile)
    for volatile in ("id", "root_id"):
        message["headers"].pop(volatile)
    return message


def test_publish_sends_the_message_apply_async_sends(real_broker):
    client, queue, _ = real_broker
    sent = [inbound_handle_task.apply_async((41,)).id, ledger.publish(inbound_handle_task, (41,))]

    raws = [raw for raw in client.lrange(queue, 0, 50) if json.loads(raw)["headers"]["id"] in sent]
    for raw in raws:
        client.lrem(queue, 1, raw)
    by_id = {json.loads(raw)["headers"]["id"]: raw for raw in raws}
    assert set(by_id) == set(sent)
    assert _decoded(by_id[sent[0]]) == _decoded(by_id[sent[1]])
    assert json.loads(by_id[sent[1]])["properties"]["delivery_info"] == {"exchange": "", "routing_key": queue}


def test_publish_goes_on_after_redis_dropped_its_connection(real_broker):
    """Redis restarted, or closed an idle connection: the next command's task is still queued at once, not left
    for the sweep a minute later."""
    client, queue, _ = real_broker
    first = ledger.publish(inbound_handle_task, (42,))
    ledger._local.redis.send_command("CLIENT", "ID")  # this thread's connection, the one the door publishes on
    killed = client.client_kill_filter(_id=ledger._local.redis.read_response())  # no other client of the server
    second = ledger.publish(inbound_handle_task, (43,))

    ids = {json.loads(raw)["headers"]["id"]: raw for raw in client.lrange(queue, 0, 50)}
    for task_id in (first, second):
        client.lrem(queue, 1, ids.get(task_id, b""))
    assert killed == 1 and {first, second} <= set(ids)


def test_the_sweep_requeues_lost_requests_fails_expired_ones_and_purges_old_rows(db):
    from datetime import timedelta

    from django.utils import timezone

    from . import handlers_for_tests

    handlers_for_tests.CALLS.clear()
    now = timezone.now()
    envelope = {"type": "event_callback", "event_id": "", "event": {"type": "test_event", "channel": "C1"}}

    def row(key, age, status="queued"):
        pk = ledger.record_once(kind="event", key=key, name="test_event", payload={**envelope, "event_id": key},
                                received_at=now - age, status=status)  # fmt: skip
        return InboundRequest.objects.get(pk=pk)

    fresh, lost, expired = (
        row("Ev-fresh", timedelta(seconds=5)),
        row("Ev-lost", timedelta(minutes=2)),
        row("Ev-expired", timedelta(minutes=31)),
    )
    old = row("Ev-old", timedelta(days=31), status="done")

    counts = ledger.inbound_sweep(now=now)

    assert counts == {"requeued": 1, "failed": 1, "purged": 1}
    assert [ctx.payload["event_id"] for _, ctx in handlers_for_tests.CALLS] == ["Ev-lost"]
    states = dict(InboundRequest.objects.values_list("key", "status"))
    assert states == {"Ev-fresh": "queued", "Ev-lost": "done", "Ev-expired": "failed"}
    assert "not acted on" in InboundRequest.objects.get(pk=expired.pk).error
    assert not InboundRequest.objects.filter(pk=old.pk).exists() and fresh.pk and lost.pk
