"""Incident channels against the local Slack stand-in (``tests.fakes.FakeSlack``) through the real slack_sdk client."""

import pytest

from tests.factories import MembershipFactory, ServiceFactory, TeamFactory, UserFactory
from tests.fakes import FakeSlack


@pytest.fixture
def fake_slack():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def slack(settings, fake_slack) -> FakeSlack:
    """Slack is on (a bot token) and every Web API call goes to the fake."""
    settings.SLACK_BOT_TOKEN = "xoxb-test-channels"
    settings.SREDESK_SLACK_API_URL = fake_slack.url
    settings.SREDESK_SLACK_TIMEOUT_SECONDS = 2
    settings.SREDESK_BASE_URL = "https://sredesk.example"
    return fake_slack


@pytest.fixture
def team(db):
    """A team that wants a Slack channel per incident, with a lead who commands."""
    return TeamFactory(slug="payments", slack_channel="C0PAYMENTS", slack_incident_channels=True)


@pytest.fixture
def commander(team):
    return MembershipFactory(
        team=team, role="lead", user=UserFactory(username="casey", first_name="Casey", slack_user_id="U0000001")
    ).user


@pytest.fixture
def service(team):
    return ServiceFactory(slug="checkout", team=team)
