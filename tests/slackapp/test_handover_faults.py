"""Faults around the hand-over (``inbound.hand_over`` / ``tasks.inbound_receive_task``) a person on call would meet:
database trouble longer than Celery's default three retries, what a retried task shows of its arguments, a broker
that takes the connection and never answers."""

import json
import socket
import threading
import time
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.db import connection
from django.utils import timezone

from slackapp import inbound, ledger
from slackapp.models import InboundRequest
from slackapp.tasks import inbound_receive_task
from sredesk.celery import app
from tests.sredesk.test_db_trouble import locked, web_timeouts  # noqa: F401 (fixtures)

from . import handlers_for_tests
from .handlers_for_tests import CALLS
from .signing import signed_command
from .test_handover import _message

assert handlers_for_tests  # registers the test handlers
pytestmark = pytest.mark.django_db(transaction=True)


def _queued(broker) -> list[dict]:
    """The headers of the inbound_receive messages queued since the test began (removed from the queue)."""
    found = []
    for raw in broker.client.lrange(broker.queue, 0, -1):
        message = json.loads(raw)
        if raw not in broker.before and message["headers"]["task"] == inbound_receive_task.name:
            broker.client.lrem(broker.queue, 1, raw)
            found.append(message["headers"])
    return found


def test_database_trouble_past_celerys_default_retries_is_still_retried_and_shows_no_payload(
    slack_app,
    person,
    locked,  # noqa: F811
    real_broker,
):
    """The fourth retry (8 s after the first try) is still well inside the give-up time: the request is queued
    again, not dropped by Celery's max_retries of 3; the queued message shows the kind and key, not the payload
    (its response_url, the person's text) to logs, events and monitors."""
    message = _message(slack_app, "test-echo secret words")
    locked(InboundRequest._meta.db_table)
    inbound_receive_task.push_request(
        id="t-1", args=[message], kwargs={}, retries=3, called_directly=False, is_eager=False,
        delivery_info={"exchange": "", "routing_key": real_broker.queue}, argsrepr="(command U0000001:x)",
    )  # fmt: skip
    try:
        with pytest.raises(Retry):
            inbound_receive_task.run(message)
    finally:
        inbound_receive_task.pop_request()

    [headers] = _queued(real_broker)
    assert headers["retries"] == 4
    assert "secret words" not in headers["argsrepr"] and "response" not in headers["argsrepr"]
    assert headers["argsrepr"] == f"(command {message['key']})"
    assert CALLS == []


@pytest.fixture
def silent_broker(broker_down):
    """A broker that takes the connection and never answers (Redis frozen, a network black hole); yields its URL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    saved = app.conf.broker_write_url
    app.conf.broker_write_url = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    yield
    app.conf.broker_write_url = saved
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_broker_that_never_answers_does_not_hold_the_door_past_slacks_3_s(
    slack_app,
    client,
    person,
    real_broker,
    silent_broker,
):
    """The door gives up on the broker in time to record the request for the sweep and answer Slack."""
    result = {}

    def post() -> None:
        start = time.monotonic()
        try:
            result["answer"] = client.post("/slack/commands", **signed_command("test-echo hi"))
            result["seconds"] = time.monotonic() - start
        finally:
            connection.close()  # this thread's own

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the door still waits for the broker after 10 s"
    assert result["seconds"] < 3.0
    assert result["answer"].json()["text"] == "Working on it…"
    assert InboundRequest.objects.get().status == "queued"


def test_a_task_redelivered_after_the_give_up_time_does_not_act(slack_app, person, settings):
    """Redis redelivers the task of a worker that died before recording it after its visibility timeout (an hour
    by default), past the give-up time: the person was answered "Working on it…" long ago and its response_url has
    expired, so the request is recorded as failed, as the sweep fails a recorded one, and not acted on."""
    late = timezone.now() - timedelta(seconds=settings.SREDESK_SLACK_GIVE_UP_SECONDS + 60)
    message = {**_message(slack_app, "test-echo an hour ago"), "received_at": late.isoformat()}

    assert inbound.accept(message) == "failed"
    assert CALLS == [] and slack_app.responses("c") == []
    row = InboundRequest.objects.get()
    assert row.status == "failed" and "not acted on" in row.error


def test_give_up_comes_no_sooner_than_the_give_up_time(slack_app, settings):
    """The sweep queues a recorded request again until the give-up time: a worker that told the person nothing was
    done before then could see the request run after all."""
    message = _message(slack_app, "test-echo hi")
    late = timezone.now() - timedelta(seconds=settings.SREDESK_SLACK_GIVE_UP_SECONDS - 30)
    wait = inbound.retry_wait({**message, "received_at": late.isoformat()}, attempts=6)  # 32 s would pass it
    assert wait is not None and 28 < wait <= 30
    past = timezone.now() - timedelta(seconds=settings.SREDESK_SLACK_GIVE_UP_SECONDS + 1)
    assert inbound.retry_wait({**message, "received_at": past.isoformat()}, attempts=1) is None


def test_in_eager_mode_database_trouble_is_not_retried_in_the_door(
    slack_app,
    client,
    person,
    locked,  # noqa: F811
):
    """Eager mode (tests) runs the task inside the door: its retry (Celery's ``Retry``) reaches ``hand_over`` as a
    broker failure would, so the door does not try again and again until the give-up time; it tells the person at
    once, as with the broker down. (Holds on the hand-over as written: a guard.)"""
    assert app.conf.task_always_eager
    locked(InboundRequest._meta.db_table)
    result = {}

    def post() -> None:
        try:
            result["answer"] = client.post("/slack/commands", **signed_command("test-echo hi"))
        finally:
            connection.close()  # this thread's own

    thread = threading.Thread(target=post, daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive(), "the door still retries after 20 s"
    assert time.monotonic() - start < 5
    assert "database is busy or unreachable" in result["answer"].json()["text"]
    assert CALLS == []


def test_the_health_view_shows_a_request_still_waiting_for_a_worker(slack_app, client, person, real_broker):
    """No worker runs (stopped, or far behind): the door answered, the request waits in the broker, the ledger has
    nothing yet. The admin's Slack health view says Slack reached sredesk and the request waits for a worker, not
    that Slack never sent anything (which points the person on call at the Slack app's URLs)."""
    from django.urls import reverse

    from tests.factories import UserFactory

    client.post("/slack/commands", **signed_command("test-echo hi"))
    operator = UserFactory(username="op", is_staff=True, is_superuser=True)
    client.force_login(operator)
    page = client.get(reverse("admin:notifications_slackproblem_changelist")).content.decode()
    _queued(real_broker)

    assert "Slack has not sent sredesk any request yet" not in page
    assert "Slash command test-echo" in page and "waiting for a worker" in page


def test_a_retry_arriving_while_the_first_delivery_runs_is_skipped_and_a_rolled_back_run_is_run_again(
    slack_app,
    person,
):
    """Another worker holds the request's claim (it is running it): Slack's retry of it, handed over meanwhile, is
    skipped at once. That worker dies and its transaction rolls back: the redelivered task runs the request once.
    (Holds on the hand-over as written: a guard.)"""
    import psycopg

    from tests.sredesk.test_db_trouble import dsn

    message = _message(slack_app, "test-echo once")
    pk = ledger.record_once(**{**message, "received_at": timezone.now()})
    running = psycopg.connect(dsn())
    running.execute(f"SELECT id FROM {InboundRequest._meta.db_table} WHERE id = %s FOR UPDATE", [pk])
    start = time.monotonic()
    assert inbound.accept({**message, "retry_num": 1}) == "skipped"
    assert time.monotonic() - start < 1 and CALLS == []
    running.rollback()  # the worker died mid-run
    running.close()

    assert inbound.accept(message) == "done"
    assert [name for name, _ in CALLS] == ["test-echo"]
    assert InboundRequest.objects.get().retry_num == 0
