"""The database locked or down at a Slack door while the broker is down too (the door hands requests to the broker
and records one only when the broker cannot take it, ``inbound.hand_over``): a person gets a sentence, never
Slack's generic failure; an event gets 503 so Slack delivers it again (PostgreSQL: another session holds the
ledger's table, as a migration would). With the broker up the door needs no database: ``test_handover``."""

import pytest

from slackapp.models import InboundRequest
from tests.sredesk.test_db_trouble import locked, web_timeouts  # noqa: F401 (fixtures)

from .signing import signed_action, signed_command, signed_event

pytestmark = pytest.mark.django_db(transaction=True)
TABLE = InboundRequest._meta.db_table


def test_a_command_says_the_database_is_busy_and_an_event_asks_slack_to_retry(
    slack_app,
    client,
    locked,  # noqa: F811
    real_broker,
    broker_down,
):
    locked(TABLE)
    broker_down()
    command = client.post("/slack/commands", **signed_command("ack INC-1"))
    click = client.post(
        "/slack/interactivity", **signed_action("incident.ack", response_url=slack_app.response_url("x"))
    )
    event = client.post("/slack/events", **signed_event({"type": "reaction_added", "user": "U1"}))

    assert command.status_code == 200 and "database is busy or unreachable" in command.json()["text"]
    assert command.json()["response_type"] == "ephemeral"
    assert click.status_code == 200 and "try again" in slack_app.responses("x")[0].body["text"]
    assert event.status_code == 503 and event.headers["Retry-After"]
