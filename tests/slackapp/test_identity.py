"""Slack user -> sredesk person: the stored id, else Slack's confirmed email (then stored), else a one-time link."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from ownership.models import User
from slackapp.identity import person_for_slack_user
from slackapp.models import InboundRequest, SlackLinkToken
from tests.factories import UserFactory

from . import handlers_for_tests
from .handlers_for_tests import CALLS
from .signing import signed_command

assert handlers_for_tests


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
    assert "Link this Slack account to me" in client.get(path).content.decode()
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


def link_path(slack_app, client, capture, user_id="U0000077", **fields) -> str:
    """The path of the one-time link an unmapped Slack user is sent (a command through the door)."""
    name = f"link-{user_id}"
    run_command(client, capture, "test-echo hi", user_id=user_id, response_url=slack_app.response_url(name), **fields)
    [reply] = slack_app.responses(name)
    url = re.search(r"<(http[^|>]+)\|", reply.body["text"]).group(1)
    return url[url.index("/slack/link/") :]


def test_the_link_page_shows_which_slack_account_and_workspace_it_ties_and_stores_nothing_until_confirmed(
    slack_app, client, db, django_capture_on_commit_callbacks
):
    ada = UserFactory(username="ada", email="ada@example.com")
    slack_app.add_user("U0000077", "", name="mallory", team_id="T0000001", profile={"real_name": "Mallory M"})
    path = link_path(slack_app, client, django_capture_on_commit_callbacks, team_domain="acme-corp")
    client.force_login(ada)

    page = client.get(path).content.decode()

    assert "@mallory" in page and "Mallory M" in page and "U0000077" in page
    assert "acme-corp" in page and "T0000001" in page
    assert "Link this Slack account to me" in page and page.count("csrfmiddlewaretoken") == 2  # and Log out
    assert not User.objects.filter(slack_user_id="U0000077").exists()  # a GET links nothing


def test_confirming_the_link_needs_the_page_s_csrf_token(slack_app, db, django_capture_on_commit_callbacks):
    ada = UserFactory(username="ada", email="ada@example.com")
    browser = Client(enforce_csrf_checks=True)
    path = link_path(slack_app, browser, django_capture_on_commit_callbacks)
    browser.force_login(ada)

    forged = browser.post(path)  # a form on another site, posting with ada's cookie
    assert forged.status_code == 403 and not User.objects.filter(slack_user_id="U0000077").exists()

    browser.get(path)
    token = browser.cookies["csrftoken"].value
    done = browser.post(path, {"csrfmiddlewaretoken": token}, follow=True)
    assert "is linked" in done.content.decode() and User.objects.get(pk=ada.pk).slack_user_id == "U0000077"


def test_a_slack_account_whose_confirmed_email_is_someone_else_s_is_not_linked(
    slack_app, client, db, django_capture_on_commit_callbacks
):
    """Link-CSRF / phishing: Mallory (unknown to sredesk) sends Ada the link sredesk gave Mallory. Slack has
    confirmed Mallory's email, and it is not Ada's: the page says so and offers no button, the POST is refused,
    and the link stays unused."""
    ada = UserFactory(username="ada", email="ada@example.com")
    slack_app.add_user("U0000077", "mallory@evil.example", name="mallory")
    path = link_path(slack_app, client, django_capture_on_commit_callbacks)
    client.force_login(ada)

    page = client.get(path).content.decode()
    refused = client.post(path, follow=True).content.decode()

    sentence = "This link is for the Slack account @mallory (U0000077), whose confirmed email in Slack is not yours"
    assert sentence in page and "Link this Slack account to me" not in page
    assert sentence in refused and "is linked" not in refused
    assert "mallory@evil.example" not in page + refused
    assert User.objects.get(pk=ada.pk).slack_user_id == ""
    assert SlackLinkToken.objects.get(slack_user_id="U0000077").used_at is None


@pytest.mark.parametrize("case", ["same email, other case", "email not confirmed", "slack unreachable"])
def test_a_slack_account_is_linked_when_its_email_is_the_person_s_or_unknown(
    slack_app, client, db, django_capture_on_commit_callbacks, case
):
    ada = UserFactory(username="ada", email="ada@example.com")
    email = "mallory@evil.example" if case == "email not confirmed" else "ADA@Example.com"
    slack_app.add_user("U0000077", email, confirmed=case != "email not confirmed")
    UserFactory(username="ada2", email="ada@example.com")  # two people with that email: not mapped, a link is sent
    path = link_path(slack_app, client, django_capture_on_commit_callbacks)
    client.force_login(ada)
    if case == "slack unreachable":
        slack_app.fail_method("users.info", "fatal_error", status=500, times=5)

    done = client.post(path, follow=True).content.decode()

    assert "is linked" in done and User.objects.get(pk=ada.pk).slack_user_id == "U0000077"


def test_an_expired_link_is_refused_on_the_page_and_on_confirming(
    slack_app, client, db, django_capture_on_commit_callbacks, settings
):
    ada = UserFactory(username="ada", email="ada@example.com")
    path = link_path(slack_app, client, django_capture_on_commit_callbacks)
    SlackLinkToken.objects.update(expires_at=timezone.now())
    client.force_login(ada)

    page = client.get(path).content.decode()
    refused = client.post(path, follow=True).content.decode()

    assert "This Slack link has expired." in page and "Link this Slack account to me" not in page
    assert "This Slack link has expired." in refused and User.objects.get(pk=ada.pk).slack_user_id == ""
