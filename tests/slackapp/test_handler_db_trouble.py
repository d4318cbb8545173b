"""Database trouble inside a handler (the incidents table locked by a migration, on real PostgreSQL) is database
trouble, not a failed request: the claim and the handler's writes roll back together, the row stays queued, the
hand-over's task tries it again until the give-up time and then tells the person nothing was done; the sweep's
task leaves it to the next sweep, which fails it at the give-up time."""

import time
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from incidents.models import Incident
from slackapp import inbound, ledger
from slackapp.models import InboundRequest
from slackapp.tasks import inbound_receive_task
from tests.sredesk.test_db_trouble import locked, web_timeouts  # noqa: F401 (fixtures)

from . import handlers_for_tests
from .handlers_for_tests import CALLS
from .test_handover import _message
from .test_handover_faults import _queued

assert handlers_for_tests  # registers the test handlers
pytestmark = pytest.mark.django_db(transaction=True)
INCIDENTS = Incident._meta.db_table


def _run_as_worker(broker, message: dict, *, retries: int) -> str:
    """``inbound_receive_task`` as a worker runs try ``retries`` + 1 of ``message`` (its retry goes to ``broker``)."""
    inbound_receive_task.push_request(
        id="t-1", args=[message], kwargs={}, retries=retries, called_directly=False, is_eager=False,
        delivery_info={"exchange": "", "routing_key": broker.queue}, argsrepr=inbound.message_repr(message),
    )  # fmt: skip
    try:
        return inbound_receive_task.run(message)
    finally:
        inbound_receive_task.pop_request()


def test_a_locked_table_in_the_handler_rolls_back_the_claim_and_is_tried_again(
    slack_app,
    person,
    locked,  # noqa: F811
    real_broker,
):
    """Before: the row was marked failed and the person read "Something went wrong on sredesk's side"."""
    message = _message(slack_app, "test-incidents")
    holder = locked(INCIDENTS)

    with pytest.raises(Retry):
        _run_as_worker(real_broker, message, retries=0)

    [headers] = _queued(real_broker)
    assert headers["retries"] == 1 and headers["argsrepr"] == f"(command {message['key']})"
    row = InboundRequest.objects.get()
    assert (row.status, row.error, row.handled_at) == ("queued", "", None)
    person.refresh_from_db()
    assert person.first_name != "Changed"  # the handler's write rolled back with the claim
    assert slack_app.responses("c") == []

    holder.rollback()  # the migration ends: the retry runs it once
    assert _run_as_worker(real_broker, message, retries=1) == "done"
    assert [r.body["text"] for r in slack_app.responses("c")] == ["0 incidents"]
    person.refresh_from_db()
    assert person.first_name == "Changed"
    assert InboundRequest.objects.get().status == "done"


def test_a_handler_locked_out_until_the_give_up_time_ends_failed_and_the_person_is_told(
    slack_app,
    person,
    locked,  # noqa: F811
    real_broker,
    settings,
):
    """The last retry lands at the give-up time: it tells the person nothing was done and fails the row, rather than
    recording it as too late with nobody told."""
    received = timezone.now() - timedelta(seconds=settings.SREDESK_SLACK_GIVE_UP_SECONDS + 1)
    message = {**_message(slack_app, "test-incidents"), "received_at": received.isoformat()}
    ledger.record_once(**{**message, "received_at": received})  # recorded by an earlier try
    locked(INCIDENTS)

    assert _run_as_worker(real_broker, message, retries=9) == "failed"

    [told] = slack_app.responses("c")
    assert "database is busy or unreachable" in told.body["text"] and "nothing was done" in told.body["text"]
    row = InboundRequest.objects.get()
    assert row.status == "failed" and "give-up time" in row.error
    assert CALLS == [] and _queued(real_broker) == []


def test_a_request_run_meanwhile_is_not_reported_as_given_up(slack_app, person, real_broker, settings):
    """The sweep's task ran the request once the lock went, while the hand-over's retry waited: nobody is told
    nothing was done."""
    received = timezone.now() - timedelta(seconds=settings.SREDESK_SLACK_GIVE_UP_SECONDS + 1)
    message = {**_message(slack_app, "test-incidents"), "received_at": received.isoformat()}
    pk = ledger.record_once(**{**message, "received_at": received})
    InboundRequest.objects.filter(pk=pk).update(status="done")

    assert _run_as_worker(real_broker, message, retries=9) == "failed"
    assert slack_app.responses("c") == []
    assert InboundRequest.objects.get().status == "done"


def test_the_sweeps_task_leaves_a_locked_out_request_queued_and_the_sweep_fails_it_at_the_give_up_time(
    slack_app,
    person,
    locked,  # noqa: F811
    settings,
):
    message = _message(slack_app, "test-incidents")
    pk = ledger.record_once(**{**message, "received_at": timezone.now() - timedelta(minutes=2)})
    locked(INCIDENTS)

    assert ledger.inbound_sweep()["requeued"] == 1  # eager: the task runs here, and meets the lock
    row = InboundRequest.objects.get(pk=pk)
    assert (row.status, row.error) == ("queued", "")
    assert [name for name, _ in CALLS] == ["test-incidents"] and slack_app.responses("c") == []

    late = timezone.now() - timedelta(seconds=settings.SREDESK_SLACK_GIVE_UP_SECONDS + 1)
    InboundRequest.objects.filter(pk=pk).update(received_at=late)
    assert ledger.inbound_sweep() == {"requeued": 0, "failed": 1, "purged": 0}
    assert InboundRequest.objects.get(pk=pk).status == "failed"
    assert len(CALLS) == 1


def test_in_eager_mode_a_locked_out_handler_is_not_retried_in_the_door(
    slack_app,
    client,
    person,
    locked,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    """Eager mode (tests, development) runs the task inside the door: the handler's database trouble is tried
    once there, the row stays queued for the sweep, and Slack has its answer. (A guard.)"""
    from .signing import signed_command

    locked(INCIDENTS)
    start = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/slack/commands", **signed_command("test-incidents"))

    assert time.monotonic() - start < 5
    assert answer.json()["text"] == "Working on it…"
    assert InboundRequest.objects.get().status == "queued" and len(CALLS) == 1
