"""Signed Events API deliveries of pin_added / reaction_added through /slack/events (the real door), and the
incident implied inside its channel for the slash command."""

import pytest

from incidents.models import Source, TimelineEvent
from slackchannels.models import IncidentChannel
from tests.factories import IncidentFactory, MembershipFactory, TeamFactory, UserFactory
from tests.fakes import FakeSlack
from tests.slackapp.signing import SECRET, signed_command, signed_event

pytestmark = pytest.mark.django_db
TS = "1700000000.000100"


@pytest.fixture
def slack(settings):
    with FakeSlack() as fake:
        settings.SLACK_SIGNING_SECRET = SECRET
        settings.SREDESK_SLACK_SIGNING_SECRET_PREVIOUS = ""
        settings.SLACK_BOT_TOKEN = "xoxb-test-events"
        settings.SREDESK_SLACK_API_URL = fake.url
        settings.SREDESK_SLACK_RESPONSE_URL_PREFIXES = [fake.url_root + "response/"]
        yield fake


@pytest.fixture
def channel(slack):
    team = TeamFactory(slug="payments", slack_timeline_reaction="memo")
    lead = MembershipFactory(team=team, role="lead", user=UserFactory(username="casey", slack_user_id="U0000001")).user
    incident = IncidentFactory(owning_team=team, commander=lead, title="Checkout errors")
    fake = slack.workspace.add_channel(f"inc-{incident.pk}-checkout-errors", bot_in=True)
    fake.messages[TS] = {"ts": TS, "user": "U0000002", "text": "root cause: pool exhausted"}
    return IncidentChannel.objects.create(incident=incident, channel_id=fake.id, name=fake.name)


def deliver(client, capture, event, event_id, retry_num=None):
    with capture(execute=True):
        response = client.post("/slack/events", **signed_event(event, event_id=event_id, retry_num=retry_num))
    assert response.status_code == 200
    return response


def slack_entries(incident):
    return list(TimelineEvent.objects.filter(incident=incident, source=Source.SLACK).values_list("message", flat=True))


def pin(channel, user="U0000001", ts=TS, text="root cause: pool exhausted"):
    message = {"type": "message", "user": "U0000002", "text": text, "ts": ts}
    item = {"type": "message", "channel": channel.channel_id, "created_by": user, "message": message}
    return {"type": "pin_added", "user": user, "channel_id": channel.channel_id, "item": item, "event_ts": "1.2"}


def reaction(channel, name="memo", user="U0000001", ts=TS):
    item = {"type": "message", "channel": channel.channel_id, "ts": ts}
    return {"type": "reaction_added", "user": user, "reaction": name, "item_user": "U0000002", "item": item}


def test_a_pin_and_the_teams_reaction_make_one_entry_per_message(channel, client, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    deliver(client, capture, pin(channel), "Ev10000001")
    deliver(client, capture, pin(channel), "Ev10000001", retry_num=1)  # Slack's retry of the same event
    deliver(client, capture, reaction(channel), "Ev10000002")  # the same message, now also given the reaction
    deliver(client, capture, reaction(channel, "eyes", ts="1700000000.000999"), "Ev10000003")  # not the team's
    assert slack_entries(channel.incident) == [f"Pinned in #{channel.name}: root cause: pool exhausted"]
    entry = TimelineEvent.objects.get(incident=channel.incident, source=Source.SLACK)
    assert entry.actor.username == "casey"


def test_the_teams_reaction_reads_the_message(channel, client, slack, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, reaction(channel), "Ev20000001")
    assert slack_entries(channel.incident) == [f"Marked :memo: in #{channel.name}: root cause: pool exhausted"]
    assert len(slack.calls("conversations.history")) == 1


def test_someone_unknown_is_told_why_only_they_see_it(channel, client, slack, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, pin(channel, user="U0STRANGER"), "Ev30000001")
    assert slack_entries(channel.incident) == []
    [told] = slack.calls("chat.postEphemeral")
    assert told.body["user"] == "U0STRANGER" and "Slack member id" in told.body["text"]


def test_a_pin_elsewhere_is_ignored(channel, client, slack, django_capture_on_commit_callbacks):
    other = slack.workspace.add_channel("random")
    event = pin(channel)
    event["channel_id"] = event["item"]["channel"] = other.id
    deliver(client, django_capture_on_commit_callbacks, event, "Ev40000001")
    assert not TimelineEvent.objects.filter(source=Source.SLACK).exists()
    assert slack.calls("chat.postEphemeral") == []


def test_inside_an_incidents_channel_the_command_needs_no_id(
    channel, client, slack, django_capture_on_commit_callbacks
):
    kwargs = signed_command("note deploy rolled back", channel_id=channel.channel_id, user_id="U0000001",
                            response_url=slack.response_url("note"))  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/slack/commands", **kwargs).status_code == 200
    assert TimelineEvent.objects.filter(incident=channel.incident, message="deploy rolled back").exists()
