"""Fixtures for the Slack app's tests: a configured app talking to a local Slack (tests/fakes.FakeSlack)."""

import pytest

from tests.fakes import FakeSlack

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
