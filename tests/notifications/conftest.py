"""Fixtures of the notification tests: the local Slack stand-in (FakeSlack), the real SlackBackend pointed at it,
and a reminder delivery planned by the real sweep."""

import pytest

from notifications import base as notify_base
from postmortems.models import ReminderDelivery
from postmortems.reminders import reminders_sweep
from tests.factories import PostMortemFactory, UserFactory
from tests.fakes import FakeSlack

TOKEN = "xoxb-test-slack-backend"
OWNER_SLACK_ID = "U0OWNER01"


@pytest.fixture
def fake_slack():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def slack_settings(settings, fake_slack):
    """A bot token, and the Slack API base URL pointing at the fake server."""
    settings.SLACK_BOT_TOKEN = TOKEN
    settings.SREDESK_SLACK_API_URL = fake_slack.url
    settings.SREDESK_SLACK_TIMEOUT_SECONDS = 2
    return settings


@pytest.fixture
def real_slack_channel(slack_settings):
    """Reminder deliveries on the "slack" channel go through the real SlackBackend (not the memory one)."""
    slack_settings.SREDESK_NOTIFY_BACKENDS = {
        **slack_settings.SREDESK_NOTIFY_BACKENDS,
        "slack": "notifications.slack.SlackBackend",
    }
    notify_base._backend.cache_clear()
    yield slack_settings
    notify_base._backend.cache_clear()


@pytest.fixture
def slack_delivery(db, real_slack_channel):
    """A pending Slack delivery of a no-regression-test reminder, planned by the real sweep (nothing sent yet).

    The ``db`` fixture wraps the test in a transaction, so the sweep's on-commit enqueue never fires.
    """
    owner = UserFactory(slack_user_id=OWNER_SLACK_ID)
    postmortem = PostMortemFactory(published=True, owner=owner)
    assert reminders_sweep().planned == 1
    delivery = ReminderDelivery.objects.get(reminder__postmortem=postmortem, channel=ReminderDelivery.Channel.SLACK)
    assert (delivery.status, delivery.attempts, delivery.address) == ("pending", 0, OWNER_SLACK_ID)
    return delivery
