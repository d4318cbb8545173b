"""The door hands a request to the broker and answers; a worker records it under its natural key and runs it once.

What Slack waits for is one LPUSH (bench/slack.py times it): no database statement. The ledger's unique key still
makes every request act once, now in the worker: a redelivered task, Slack's retry and a task whose worker died
after recording all end in one run. The broker down at the door: the door records the request for the sweep.
Both down: ``test_db_trouble``. Database trouble in the worker: retried; past the give-up time the person is told
nothing was done.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from slackapp import inbound, ledger
from slackapp.models import InboundRequest
from slackapp.tasks import inbound_receive_task
from sredesk.celery import app
from tests.sredesk.test_db_trouble import locked, web_timeouts  # noqa: F401 (fixtures)

from . import handlers_for_tests
from .conftest import take_messages
from .handlers_for_tests import CALLS
from .signing import signed_command, signed_event

assert handlers_for_tests  # registers the test handlers
RECEIVE = inbound_receive_task.name


def test_a_command_costs_the_door_no_statement_and_its_redelivery_acts_once(
    slack_app, client, person, real_broker, django_capture_on_commit_callbacks
):
    kwargs = signed_command("test-echo hi", trigger_id="1111.2222.abc", response_url=slack_app.response_url("c"))
    answers, statements = [], []
    for retry in ("", "1"):  # Slack's first delivery, then its retry of the same command
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
            answers.append(client.post("/slack/commands", HTTP_X_SLACK_RETRY_NUM=retry, **kwargs))
        statements.append(queries.captured_queries)

    assert [a.json()["text"] for a in answers] == ["Working on it…"] * 2
    assert statements == [[], []]
    messages = take_messages(real_broker, RECEIVE)
    assert len(messages) == 2 and not InboundRequest.objects.exists()
    [request, again] = (args[0] for args, _, _ in messages)
    assert (request["kind"], request["key"], request["name"]) == ("command", "U0000001:1111.2222.abc", "test-echo")
    assert request["payload"]["text"] == "test-echo hi" and request["retry_num"] == 0 and again["retry_num"] == 1

    with django_capture_on_commit_callbacks(execute=True):  # the replies go after the worker's commit
        assert [inbound.accept(request), inbound.accept(again)] == ["done", "skipped"]
    assert [name for name, _ in CALLS] == ["test-echo"]
    [reply] = slack_app.responses("c")
    assert reply.body["text"] == "echo hi as ada"
    row = InboundRequest.objects.get()
    assert (row.status, row.retry_num) == ("done", 0)
    assert abs(row.received_at - timezone.datetime.fromisoformat(request["received_at"])) < timedelta(seconds=1)


def test_a_request_its_worker_recorded_but_never_ran_is_run_by_the_redelivered_task(slack_app, person, real_broker):
    """The worker died between its INSERT and its claim (acks_late: the broker delivers the task again)."""
    message = _message(slack_app, "test-echo once")
    ledger.record_once(**{**message, "received_at": timezone.now()})

    assert inbound.accept(message) == "done"
    assert inbound.accept(message) == "skipped"
    assert [name for name, _ in CALLS] == ["test-echo"]


def test_with_the_broker_down_the_door_records_the_request_and_the_sweep_runs_it(
    slack_app, client, person, real_broker, broker_down, django_capture_on_commit_callbacks
):
    broker_down()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            "/slack/commands", **signed_command("test-echo later", response_url=slack_app.response_url("c"))
        )

    assert answer.json()["text"] == "Working on it…"
    row = InboundRequest.objects.get()
    assert (row.status, row.name) == ("queued", "test-echo")
    assert CALLS == []

    app.conf.task_always_eager = True  # the sweep's apply_async runs the task here
    InboundRequest.objects.update(received_at=timezone.now() - timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert ledger.inbound_sweep()["requeued"] == 1
    assert [name for name, _ in CALLS] == ["test-echo"]
    assert slack_app.responses("c")[0].body["text"] == "echo later as ada"


@pytest.mark.django_db(transaction=True)
def test_an_event_and_a_command_are_answered_while_the_ledger_is_locked(
    slack_app,
    client,
    person,
    real_broker,
    locked,  # noqa: F811
):
    """A migration holds the ledger's table: the door does not need it, so Slack gets its answers at once."""
    locked(InboundRequest._meta.db_table)
    command = client.post("/slack/commands", **signed_command("test-echo hi"))
    event = client.post("/slack/events", **signed_event({"type": "test_event", "user": "U0000001"}))

    assert command.status_code == 200 and command.json()["text"] == "Working on it…"
    assert event.status_code == 200
    assert [args[0]["kind"] for args, _, _ in take_messages(real_broker, RECEIVE)] == ["command", "event"]


@pytest.mark.django_db(transaction=True)
def test_database_trouble_in_the_worker_is_retried_until_the_give_up_time_then_the_person_is_told(
    slack_app,
    person,
    locked,  # noqa: F811
    settings,
):
    message = _message(slack_app, "test-echo hi")
    assert inbound.retry_wait(message, attempts=1) == 1.0
    assert inbound.retry_wait(message, attempts=7) == 60.0  # 2**6 s, capped
    late = {
        **message,
        "received_at": (timezone.now() - timedelta(seconds=settings.SREDESK_SLACK_GIVE_UP_SECONDS - 30)).isoformat(),
    }
    assert inbound.retry_wait(late, attempts=1) == 1.0
    assert 28 < inbound.retry_wait(late, attempts=6) <= 30  # not 32 s: the time left (test_handover_faults)

    locked(InboundRequest._meta.db_table)
    expired = {
        **message,
        "received_at": (timezone.now() - timedelta(seconds=settings.SREDESK_SLACK_GIVE_UP_SECONDS)).isoformat(),
    }
    assert inbound_receive_task.apply(args=(expired,)).result == "failed"  # (.get() refuses after a worker test)

    [told] = slack_app.responses("c")
    assert "database is busy or unreachable" in told.body["text"] and "nothing was done" in told.body["text"]
    assert CALLS == []


def _message(slack_app, text: str) -> dict:
    """What the door hands to the broker for ``/sredesk <text>`` from U0000001 (``inbound.hand_over``)."""
    from slackapp import payloads
    from slackapp.payloads import context_for

    from .signing import command_body

    parsed = payloads.parse_command(command_body(text, response_url=slack_app.response_url("c")))
    values = inbound._values(parsed, context_for(parsed.kind, parsed.payload), 0)
    return {**values, "received_at": values["received_at"].isoformat()}
