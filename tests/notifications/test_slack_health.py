"""The admin's Slack health view: token, scopes granted against needed, the bot in each team's channel, the last
inbound request and the last outbound error in plain words. Against the local fake Slack (real slack_sdk)."""

import pytest
from django.urls import reverse

from notifications.models import SlackCallFailure
from notifications.slack_api import SCOPES_NEEDED
from slackapp.models import InboundRequest
from tests.factories import TeamFactory
from tests.fakes import FakeSlack

pytestmark = pytest.mark.django_db
URL = reverse("admin:notifications_slackproblem_changelist")


@pytest.fixture
def slack(settings):
    with FakeSlack() as fake:
        settings.SLACK_BOT_TOKEN = "xoxb-test-health"
        settings.SREDESK_SLACK_API_URL = fake.url
        settings.SREDESK_SLACK_TIMEOUT_SECONDS = 2
        yield fake


def test_health_names_missing_scopes_and_each_team_channel(slack, operator_client):
    slack.workspace.scopes = ",".join([*sorted(SCOPES_NEEDED - {"bookmarks:write"}), "admin"])
    joined = slack.workspace.add_channel("sre-payments", bot_in=True)
    outside = slack.workspace.add_channel("sre-search")
    TeamFactory(name="Payments", slack_channel=joined.id)
    TeamFactory(name="Search", slack_channel=outside.id)
    TeamFactory(name="Storage", slack_channel="#sre-storage")
    TeamFactory(name="Gone", slack_channel="C0DELETED")
    SlackCallFailure.objects.create(method="chat.postMessage", error="not_in_channel", target="C0SEARCH")

    page = operator_client.get(URL).content.decode()

    assert "The bot token works: it is sredesk in the Acme workspace." in page
    assert "Missing: <code>bookmarks:write</code>" in page and "Granted but unused: <code>admin</code>" in page
    assert "The bot is in #sre-payments." in page
    assert f"The sredesk bot is not in {outside.id}: in Slack, type /invite @sredesk" in page
    assert "Give the channel&#x27;s id (C…) to check it." in page
    assert "Slack has no channel C0DELETED the bot can see" in page
    assert "chat.postMessage to C0SEARCH: The sredesk bot is not in C0SEARCH" in page


def test_a_bad_token_is_said_in_plain_words(slack, operator_client):
    slack.fail_method("auth.test", "invalid_auth")
    page = operator_client.get(URL).content.decode()
    assert "Slack refuses sredesk&#x27;s bot token" in page
    assert [r.method for r in slack.requests] == ["auth.test"]  # no team checks with a token that does not work


def test_without_slack_the_view_calls_nothing(settings, operator_client):
    settings.SLACK_BOT_TOKEN = ""
    page = operator_client.get(URL).content.decode()
    assert "Slack is off: SLACK_BOT_TOKEN is not set" in page
    assert "No Slack call has failed." in page


def test_opening_the_view_records_nothing(slack, operator_client):
    TeamFactory(name="Gone", slack_channel="C0DELETED")
    operator_client.get(URL)
    assert not SlackCallFailure.objects.exists()


def test_the_last_inbound_request_is_named(slack, operator_client):
    assert "Slack has not sent sredesk any request yet" in operator_client.get(URL).content.decode()
    InboundRequest.objects.create(kind="command", key="U1:T1", name="ack", payload={})
    assert "Slash command ack (queued)" in operator_client.get(URL).content.decode()


def test_the_page_is_titled_for_what_it_shows_and_says_when_nothing_is_wrong(settings, operator_client):
    settings.SLACK_BOT_TOKEN = ""
    page = operator_client.get(URL).content.decode()
    assert "<h1>Slack health and problems</h1>" in page
    assert "Select Slack problem to change" not in page
    assert "No Slack problem has been recorded: there is nothing for a person to fix." in page
