"""Slack created an incident's channel but its reply was lost: the retry finds that channel again instead of making
``<name>-2``, and only when it is provably this incident's (our bot made it after the row was claimed)."""

import datetime as dt

import pytest

from incidents import services
from incidents.models import Source, TimelineEvent
from notifications.slack_api import SlackCallError
from slackchannels.models import IncidentChannel
from slackchannels.names import channel_name
from slackchannels.services import incident_channel_sync

pytestmark = pytest.mark.django_db


def declare(commander, service, title="Checkout errors"):
    return services.incident_declare(
        title=title, severity=2, actor=commander, source=Source.WEB, primary_service=service, commander=commander
    )


def test_a_channel_whose_creation_reply_was_lost_is_found_again_not_duplicated(slack, team, commander, service):
    for n in range(3):  # other channels first, so the lookup reads more than one page
        slack.workspace.add_channel(f"general-{n}")
    incident = declare(commander, service)
    slack.lose_reply_to("conversations.create")

    with pytest.raises(SlackCallError) as lost:
        incident_channel_sync(incident.pk)
    assert lost.value.error == "unreachable"
    made = slack.workspace.by_name(channel_name(incident.pk, incident.title))
    assert made is not None  # Slack did create it

    row = incident_channel_sync(incident.pk)

    assert (row.channel_id, row.name) == (made.id, made.name)
    assert [c.name for c in slack.workspace.channels.values() if c.name.startswith(f"inc-{incident.pk}-")] == [
        made.name
    ]
    assert commander.slack_user_id in made.members and incident.public_id in made.topic
    assert len(slack.calls("conversations.list")) >= 2
    note = TimelineEvent.objects.filter(incident=incident, kind=TimelineEvent.Kind.NOTE, data__slack__channel=made.id)
    assert "found again" in note.get().message


def _claimed_without_channel(slack, incident) -> IncidentChannel:
    """A first set-up that claimed the row and failed before Slack created anything (Slack answered 503)."""
    slack.reply_next(503, {"ok": False, "error": "service_unavailable"}, method="conversations.create")
    with pytest.raises(SlackCallError):
        incident_channel_sync(incident.pk)
    row = IncidentChannel.objects.get(incident=incident)
    assert row.channel_id == ""
    return row


def test_a_same_named_channel_someone_else_made_is_not_taken(slack, team, commander, service):
    incident = declare(commander, service)
    _claimed_without_channel(slack, incident)
    theirs = slack.workspace.add_channel(channel_name(incident.pk, incident.title), creator="U0SOMEONE")

    row = incident_channel_sync(incident.pk)

    assert row.channel_id != theirs.id and row.name == channel_name(incident.pk, incident.title, 2)
    assert theirs.members == set()


def test_a_channel_our_bot_made_before_this_incident_claimed_its_row_is_not_taken(slack, team, commander, service):
    """A leftover of an older database (the same incident number, the same bot) is older than the claim."""
    incident = declare(commander, service)
    claimed = _claimed_without_channel(slack, incident)
    earlier = int((claimed.created_at - dt.timedelta(days=30)).timestamp())
    leftover = slack.workspace.add_channel(
        channel_name(incident.pk, incident.title), creator=slack.workspace.bot_user_id, created=earlier
    )

    row = incident_channel_sync(incident.pk)

    assert row.channel_id != leftover.id and row.name == channel_name(incident.pk, incident.title, 2)


def test_a_first_set_up_does_not_look_names_up(slack, team, commander, service):
    """No earlier conversations.create for this incident: a taken name is someone else's without asking Slack."""
    incident = declare(commander, service)
    slack.workspace.add_channel(channel_name(incident.pk, incident.title), creator=slack.workspace.bot_user_id)

    row = incident_channel_sync(incident.pk)

    assert row.name == channel_name(incident.pk, incident.title, 2)
    assert slack.calls("conversations.list") == []


def test_a_rate_limited_lookup_is_retried_later_not_answered_with_a_second_channel(slack, team, commander, service):
    incident = declare(commander, service)
    slack.lose_reply_to("conversations.create")
    with pytest.raises(SlackCallError):
        incident_channel_sync(incident.pk)
    slack.reply_next(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"}, method="conversations.list")

    with pytest.raises(SlackCallError) as limited:
        incident_channel_sync(incident.pk)

    assert limited.value.error == "ratelimited"
    assert [c.name for c in slack.workspace.channels.values()] == [channel_name(incident.pk, incident.title)]
    row = incident_channel_sync(incident.pk)  # the side effect's next try
    assert row.name == channel_name(incident.pk, incident.title)
