"""Fixtures for the Slack app's tests: a configured app talking to a local Slack (tests/fakes.FakeSlack)."""

import base64
import json
from typing import NamedTuple

import pytest
import redis

from slackapp import ledger
from sredesk.celery import app
from tests.factories import UserFactory
from tests.fakes import FakeSlack

from .handlers_for_tests import CALLS
from .signing import SECRET


@pytest.fixture
def slack_app(settings, db):
    """Slack set up: signing secret ``SECRET``, a bot token, the Web API and response_urls at a FakeSlack (yielded)."""
    with FakeSlack() as fake:
        settings.SLACK_SIGNING_SECRET = SECRET
        settings.SREDESK_SLACK_SIGNING_SECRET_PREVIOUS = ""
        settings.SLACK_BOT_TOKEN = "xoxb-test-token"
        settings.SREDESK_SLACK_API_URL = fake.url
        settings.SREDESK_SLACK_RESPONSE_URL_PREFIXES = ["https://hooks.slack.com/", fake.url_root + "response/"]
        yield fake


class Broker(NamedTuple):
    client: redis.Redis
    queue: str
    before: frozenset[bytes]  # the queue's messages when the test began (another test's leftovers)


@pytest.fixture
def real_broker(redis_broker_url):
    """Tasks go to the Redis broker, not run eagerly; yields a ``Broker`` (client, default queue, its messages then)."""
    app.conf.task_always_eager = False
    ledger._forget_channel()
    client = redis.Redis.from_url(redis_broker_url)
    queue = app.conf.task_default_queue
    yield Broker(client, queue, frozenset(client.lrange(queue, 0, -1)))
    app.conf.task_always_eager = True
    ledger._forget_channel()


@pytest.fixture
def broker_down():
    """``broker_down()``: from then until the test ends, the door's broker is a port nothing listens on (refused)."""
    saved = app.conf.broker_write_url

    def down() -> None:
        app.conf.broker_write_url = "redis://127.0.0.1:1/0"
        ledger._forget_channel()

    yield down
    app.conf.broker_write_url = saved
    ledger._forget_channel()
    app._after_fork()  # Celery's producer pool, should it have been made while the broker was down, is made again


def take_messages(broker: Broker, task_name: str) -> list[list]:
    """Remove the messages of task ``task_name`` queued since the test began (oldest first); each one's Celery body
    (``[args, kwargs, embed]``)."""
    taken = []
    for raw in reversed(broker.client.lrange(broker.queue, 0, -1)):
        message = json.loads(raw)
        if raw not in broker.before and message["headers"]["task"] == task_name:
            broker.client.lrem(broker.queue, 1, raw)
            taken.append(json.loads(base64.b64decode(message["body"])))
    return taken


@pytest.fixture(autouse=True)
def _test_handler_calls():
    """What the test handlers (``handlers_for_tests``) record starts empty in every test, and is emptied after."""
    CALLS.clear()
    yield
    CALLS.clear()


@pytest.fixture
def person(db):
    """Ada, whose Slack member id is the one the signed test requests carry (``U0000001``)."""
    return UserFactory(username="ada", slack_user_id="U0000001", email="ada@example.com")
