"""Pinned messages, and messages given the team's reaction, in an incident channel become timeline entries, once."""

import pytest

from incidents.models import Source, TimelineEvent
from slackchannels.models import IncidentChannel
from slackchannels.timeline import reaction_counts, slack_message_to_timeline
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(slack, team, commander):
    incident = IncidentFactory(owning_team=team, commander=commander, title="Checkout errors")
    fake = slack.workspace.add_channel(f"inc-{incident.pk}-checkout-errors", bot_in=True)
    fake.messages["1700000000.000100"] = {"ts": "1700000000.000100", "user": "U0000001", "text": "rolled back &amp; ok"}
    return IncidentChannel.objects.create(incident=incident, channel_id=fake.id, name=fake.name)


def entries(incident):
    return list(TimelineEvent.objects.filter(incident=incident, source=Source.SLACK).values_list("message", flat=True))


def test_a_pinned_message_goes_on_the_timeline_once(channel, commander):
    for _ in range(2):  # pinned, unpinned, pinned again
        outcome = slack_message_to_timeline(
            channel_id=channel.channel_id, ts="1700000000.000200", text="cause: bad deploy <https://x|x>",
            actor=commander, how="Pinned",
        )  # fmt: skip
    assert outcome.already
    assert entries(channel.incident) == [f"Pinned in #{channel.name}: cause: bad deploy <https://x|x>"]
    entry = TimelineEvent.objects.get(incident=channel.incident, source=Source.SLACK)
    assert entry.actor == commander and entry.data["slack"]["message_ts"] == "1700000000.000200"


def test_a_reaction_reads_the_message_from_slack(channel, commander, slack):
    outcome = slack_message_to_timeline(
        channel_id=channel.channel_id, ts="1700000000.000100", text=None, actor=commander, how="Marked :memo:"
    )
    assert outcome.entry is not None
    assert entries(channel.incident) == [f"Marked :memo: in #{channel.name}: rolled back & ok"]
    assert [r.body["latest"] for r in slack.calls("conversations.history")] == ["1700000000.000100"]


def test_someone_the_write_rule_refuses_or_nobody_knows_is_told(channel):
    outsider = UserFactory(username="outsider")
    refused = slack_message_to_timeline(
        channel_id=channel.channel_id, ts="1.2", text="hello", actor=outsider, how="Pinned"
    )
    unlinked = slack_message_to_timeline(channel_id=channel.channel_id, ts="1.3", text="hi", actor=None, how="Pinned")
    assert refused.refusal and refused.entry is None
    assert "Slack member id" in unlinked.refusal
    assert entries(channel.incident) == []


def test_other_channels_are_ignored(channel, commander):
    assert slack_message_to_timeline(channel_id="C0ELSE", ts="1.2", text="x", actor=commander, how="Pinned") is None


def test_only_the_teams_reaction_counts(channel, team):
    team.slack_timeline_reaction = "memo"
    team.save()
    incident = channel.incident
    incident.owning_team.refresh_from_db()
    assert reaction_counts(incident, "memo") and reaction_counts(incident, "memo::skin-tone-2")
    assert not reaction_counts(incident, "eyes")
    team.slack_timeline_reaction = ""
    team.save()
    incident.owning_team.refresh_from_db()
    assert not reaction_counts(incident, "memo")


def test_slack_down_while_reading_still_records_that_it_counted(channel, commander, slack):
    slack.fail_method("conversations.history", "internal_error", status=500)
    outcome = slack_message_to_timeline(
        channel_id=channel.channel_id, ts="1700000000.000100", text=None, actor=commander, how="Marked :memo:"
    )
    assert outcome.entry is not None
    assert "Slack did not give its text" in entries(channel.incident)[0]
