"""Slack user -> sredesk person: the stored id, else Slack's confirmed email (then stored), else a one-time link."""

import re

import pytest

from ownership.models import User
from slackapp.identity import person_for_slack_user
from slackapp.models import InboundRequest
from tests.factories import UserFactory

from . import handlers_for_tests
from .handlers_for_tests import CALLS
from .signing import signed_command

assert handlers_for_tests


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()
    yield
    CALLS.clear()


def run_command(client, capture, text, **fields):
    with capture(execute=True):
        return client.post("/slack/commands", **signed_command(text, **fields))


def test_a_person_is_found_by_the_slack_email_slack_confirmed_and_the_id_is_stored(slack_app, db):
    ada = UserFactory(username="ada", email="Ada@Example.com")
    slack_app.add_user("U0000009", "ada@example.com")

    assert person_for_slack_user("U0000009") == ada
    assert User.objects.get(pk=ada.pk).slack_user_id == "U0000009"
    assert person_for_slack_user("U0000009") == ada
    assert len(slack_app.calls("users.info")) == 1  # stored: asked once


@pytest.mark.parametrize("case", ["unconfirmed", "nobody", "two people", "tied to another slack id", "slack error"])
def test_no_person_is_guessed(slack_app, db, case):
    UserFactory(username="ada", email="ada@example.com", slack_user_id="U0000042" if "another" in case else "")
    if case == "two people":
        UserFactory(username="ada2", email="ADA@example.com")
    email = "nobody@example.com" if case == "nobody" else "ada@example.com"
    slack_app.add_user("U0000009", email, confirmed=case != "unconfirmed")
    if case == "slack error":
        slack_app.reply_next_for("users.info", body={"ok": False, "error": "missing_scope"})

    assert person_for_slack_user("U0000009") is None
    assert not User.objects.filter(slack_user_id="U0000009").exists()


def test_an_unknown_slack_user_gets_a_one_time_link_that_ties_the_account(
    slack_app, client, db, django_capture_on_commit_callbacks
):
    ada = UserFactory(username="ada", email="ada@example.com")
    run_command(
        client,
        django_capture_on_commit_callbacks,
        "test-echo hi",
        user_id="U0000077",
        response_url=slack_app.response_url("u"),
    )

    [reply] = slack_app.responses("u")
    assert CALLS == [] and reply.body["response_type"] == "ephemeral"
    assert "Link your Slack account" in reply.body["text"]
    url = re.search(r"<(http[^|>]+)\|", reply.body["text"]).group(1)
    path = url.split("127.0.0.1:8000", 1)[-1] if "127.0.0.1" in url else url
    path = path[path.index("/slack/link/") :]

    assert client.get(path).status_code == 302  # sign in first
    client.force_login(ada)
    assert "Link my Slack account" in client.get(path).content.decode()
    done = client.post(path, follow=True)
    assert "is linked" in done.content.decode()
    assert User.objects.get(pk=ada.pk).slack_user_id == "U0000077"

    again = client.post(path, follow=True)
    assert "used already" in again.content.decode()

    run_command(
        client,
        django_capture_on_commit_callbacks,
        "test-echo hi",
        user_id="U0000077",
        response_url=slack_app.response_url("v"),
    )
    assert slack_app.responses("v")[0].body["text"] == "echo hi as ada"
    assert InboundRequest.objects.filter(status="done", error="").count() == 1
