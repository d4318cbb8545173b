"""Incident channels (issue 16; FIELD-CASES BR-33): one channel per incident, Slack's name rules, invites one by one,
topic and bookmarks, archiving, and Slack being down never blocking a declaration."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from incidents import effects, services, update
from incidents.models import Incident, SideEffect, Source, TimelineEvent
from notifications.models import SlackCallFailure, SlackProblem
from ownership.models import Responsibility, User
from postmortems.models import PostMortem
from slackchannels.models import IncidentChannel
from slackchannels.names import channel_name
from slackchannels.services import channels_archive_due, incident_channel_sync, incident_for_channel
from tests.api.clients import client_for
from tests.factories import IncidentFactory, TeamFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db

BR33_TITLE = (
    "Payments: 5xx spike — EU/Zürich 🚨 checkout & refunds failing for Premium customers since the 14:00 deploy "
    "(rollback pending)"
)
CHANNEL = SideEffect.Kind.INCIDENT_CHANNEL


def declare(commander, service, title="Checkout errors", capture=None, **kwargs) -> Incident:
    """Declare through the service every door uses; with ``capture`` the after-commit work runs (eager worker)."""
    fields = {"title": title, "severity": 2, "actor": commander, "source": Source.WEB, "primary_service": service}
    if capture is None:
        return services.incident_declare(**fields, commander=commander, **kwargs)
    with capture(execute=True):
        return services.incident_declare(**fields, commander=commander, **kwargs)


def notes(incident) -> list[str]:
    return list(
        TimelineEvent.objects.filter(incident=incident, kind=TimelineEvent.Kind.NOTE).values_list("message", flat=True)
    )


# --- names (BR-33 a) -----------------------------------------------------------------------------------


def test_channel_name_follows_slacks_rules_from_a_free_text_title():
    name = channel_name(42, BR33_TITLE)
    assert name == "inc-42-payments-5xx-spike-eu-zurich-checkout-refunds-failing-for-premium-custome"
    assert len(name) <= 80


@pytest.mark.parametrize("attempt", [2, 10])
def test_a_suffix_shortens_the_slug_to_stay_within_80_characters(attempt):
    name = channel_name(42, BR33_TITLE, attempt)
    assert name.startswith("inc-42-payments-") and name.endswith(f"-{attempt}")
    assert len(name) <= 80


def test_a_title_of_only_symbols_still_names_the_channel():
    assert channel_name(7, "🚨🚨 !!! ") == "inc-7"


# --- declare -> channel ------------------------------------------------------------------------------


def test_declare_creates_the_channel_invites_and_bookmarks(
    slack, team, commander, service, django_capture_on_commit_callbacks
):
    incident = declare(commander, service, BR33_TITLE, capture=django_capture_on_commit_callbacks)

    row = IncidentChannel.objects.get(incident=incident)
    assert row.name == channel_name(incident.pk, BR33_TITLE)
    channel = slack.workspace.channels[row.channel_id]
    assert channel.name == row.name and "U0000001" in channel.members
    assert channel.topic == f"{incident.public_id}: https://sredesk.example/incidents/{incident.pk}/"
    assert [b["link"] for b in channel.bookmarks] == [f"https://sredesk.example/incidents/{incident.pk}/"]
    assert incident_for_channel(row.channel_id) == incident
    assert incident_for_channel("C0UNKNOWN") is None
    assert not SideEffect.objects.filter(incident=incident, kind=CHANNEL, done_at__isnull=True).exists()
    assert f"Slack channel #{row.name} created for this incident" in notes(incident)


def test_no_channel_for_a_team_that_wants_none_nor_without_slack(
    settings, slack, team, commander, service, django_capture_on_commit_callbacks
):
    team.slack_incident_channels = False
    team.save()
    declare(commander, service, capture=django_capture_on_commit_callbacks)
    team.slack_incident_channels = True
    team.save()
    settings.SLACK_BOT_TOKEN = ""  # make run: no Slack at all
    declare(commander, service, capture=django_capture_on_commit_callbacks)
    assert not IncidentChannel.objects.exists() and not SideEffect.objects.filter(kind=CHANNEL).exists()
    assert slack.requests == []


def test_an_archived_channel_of_the_same_name_is_not_reused(slack, team, commander, service):
    """BR-33 b: the name belongs to an archived channel sredesk never recorded: a suffix, never that channel."""
    incident = declare(commander, service, BR33_TITLE)
    leftover = slack.workspace.add_channel(channel_name(incident.pk, BR33_TITLE), archived=True)

    row = incident_channel_sync(incident.pk)

    assert row.channel_id != leftover.id and leftover.archived
    assert row.name == channel_name(incident.pk, BR33_TITLE, 2) and len(row.name) <= 80
    assert [r.body["name"] for r in slack.calls("conversations.create")] == [leftover.name, row.name]


def test_repeated_set_up_creates_once_and_repeats_nothing(slack, team, commander, service):
    incident = declare(commander, service)
    for _ in range(3):
        incident_channel_sync(incident.pk)
    assert len(slack.calls("conversations.create")) == 1
    assert len(slack.calls("conversations.invite")) == 1
    assert len(slack.calls("conversations.setTopic")) == 1
    assert len(slack.calls("bookmarks.add")) == 1
    assert IncidentChannel.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_create_one_channel(requires_postgres, slack, team, commander, service):
    """BR-33 c: two set-ups 50 ms apart (a double-clicked declare, a redelivered task): one channel, one id."""
    incident = declare(commander, service)
    slack.workspace.slow["conversations.create"] = 0.5
    errors = []

    def work():
        try:
            incident_channel_sync(incident.pk)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    threads[0].start()
    threading.Event().wait(0.05)
    threads[1].start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert len(slack.calls("conversations.create")) == 1
    assert len(slack.workspace.channels) == 1
    row = IncidentChannel.objects.get(incident=incident)
    assert row.channel_id in slack.workspace.channels


def test_one_bad_id_does_not_stop_the_other_invites(
    slack, team, commander, service, django_capture_on_commit_callbacks
):
    """BR-33 d: commander, a deactivated person, one already in, the bot itself, and the paged person."""
    deactivated = member_of(team, username="gone", slack_user_id="U0000002")
    already = member_of(team, username="there", slack_user_id="U0000003")
    bot = member_of(team, username="bot")
    User.objects.filter(pk=bot.pk).update(slack_user_id="B0000001")  # a service account holding the bot's id
    paged = member_of(team, username="oncall", slack_user_id="U0000004")
    Responsibility.objects.create(service=service, role=Responsibility.Role.PAGED, user=paged)
    slack.workspace.deactivated.add("U0000002")
    slack.workspace.join_on_create.add("U0000003")
    incident = declare(commander, service)
    for person in (deactivated, already, User.objects.get(pk=bot.pk)):
        update.incident_set_responder(
            incident_id=incident.pk, user=person, responding=True, actor=commander, source=Source.WEB
        )

    with django_capture_on_commit_callbacks(execute=True):
        effects.side_effects_recover(now=timezone.now() + dt.timedelta(minutes=5))

    row = IncidentChannel.objects.get(incident=incident)
    members = slack.workspace.channels[row.channel_id].members
    assert {"U0000001", "U0000003", "U0000004"} <= members
    assert "U0000002" not in members and "B0000001" not in members
    assert row.invites == {
        "U0000001": "invited",
        "U0000002": "skipped: cant_invite",
        "U0000003": "already_in_channel",
        "B0000001": "skipped: a bot",
        "U0000004": "invited",
    }
    skipped = [n for n in notes(incident) if n.startswith("Not invited")]
    assert len(skipped) == 2 and any("U0000002" in n for n in skipped) and any("B0000001" in n for n in skipped)
    assert all(r.body["users"].count(",") == 0 for r in slack.calls("conversations.invite"))  # one by one
    problem = SlackProblem.objects.get(error="cant_invite")
    assert problem.person == deactivated and problem.key == f"person:{deactivated.pk}"


def test_a_new_responder_is_invited_later(slack, team, commander, service, django_capture_on_commit_callbacks):
    incident = declare(commander, service, capture=django_capture_on_commit_callbacks)
    newcomer = member_of(team, username="newcomer", slack_user_id="U0000009")
    with django_capture_on_commit_callbacks(execute=True):
        update.incident_set_responder(
            incident_id=incident.pk, user=newcomer, responding=True, actor=commander, source=Source.WEB
        )
    row = IncidentChannel.objects.get(incident=incident)
    assert "U0000009" in slack.workspace.channels[row.channel_id].members
    assert len(slack.calls("conversations.create")) == 1


def test_slack_down_never_blocks_a_declaration(slack, team, commander, service, django_capture_on_commit_callbacks):
    """BR-33 e: every Slack call fails: the incident is declared (201), the channel is owed and made later."""
    slack.reply_next(503, {"ok": False, "error": "service_unavailable"}, times=50)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(commander).post(
            "/api/v1/incidents/", {"title": "Checkout errors", "primary_service": service.pk}, format="json"
        )
    assert response.status_code == 201, response.content
    incident = Incident.objects.get(pk=response.json()["id"])
    owed = SideEffect.objects.get(incident=incident, kind=CHANNEL)
    assert owed.done_at is None and owed.attempts == 1 and "service_unavailable" in owed.last_error
    assert not IncidentChannel.objects.filter(incident=incident).exclude(channel_id="").exists()
    assert SlackCallFailure.objects.filter(error="service_unavailable", method="conversations.create").exists()

    slack._script.clear()  # Slack is back; the sweep runs once the back-off is over
    with django_capture_on_commit_callbacks(execute=True):
        effects.side_effects_recover(now=timezone.now() + dt.timedelta(minutes=5))
    owed.refresh_from_db()
    assert owed.done_at is not None
    assert IncidentChannel.objects.get(incident=incident).channel_id in slack.workspace.channels


def test_a_revoked_token_is_a_visible_problem_and_stays_owed(
    slack, team, commander, service, django_capture_on_commit_callbacks
):
    slack.fail_method("conversations.create", "token_revoked", times=3)
    incident = declare(commander, service, capture=django_capture_on_commit_callbacks)
    problem = SlackProblem.objects.get(error="token_revoked")
    assert problem.key == "workspace" and "reinstall" in problem.words
    owed = SideEffect.objects.get(incident=incident, kind=CHANNEL)
    assert owed.done_at is None and owed.next_attempt_at > timezone.now()


def test_a_deleted_channel_stops_set_up_with_a_problem_on_the_team(
    slack, team, commander, service, django_capture_on_commit_callbacks
):
    incident = declare(commander, service, capture=django_capture_on_commit_callbacks)
    row = IncidentChannel.objects.get(incident=incident)
    del slack.workspace.channels[row.channel_id]  # someone deleted it in Slack
    newcomer = member_of(team, username="late", slack_user_id="U0000010")
    with django_capture_on_commit_callbacks(execute=True):
        update.incident_set_responder(
            incident_id=incident.pk, user=newcomer, responding=True, actor=commander, source=Source.WEB
        )
    row.refresh_from_db()
    assert "Slack has no channel" in row.problem
    problem = SlackProblem.objects.get(error="channel_not_found")
    assert problem.team == team
    assert SideEffect.objects.get(incident=incident, kind=CHANNEL).done_at is not None  # not a retry loop
    calls = len(slack.requests)
    incident_channel_sync(incident.pk)
    assert len(slack.requests) == calls  # stopped until an operator retries


# --- post-mortem and archiving ----------------------------------------------------------------------


def test_post_mortem_is_bookmarked_and_archive_happens_once_days_after_it_completes(
    slack, team, commander, service, django_capture_on_commit_callbacks
):
    incident = declare(commander, service, capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_resolve(incident_id=incident.pk, actor=commander, source=Source.WEB)
    postmortem = PostMortem.objects.get(incident=incident)
    row = IncidentChannel.objects.get(incident=incident)
    channel = slack.workspace.channels[row.channel_id]
    pm_url = f"https://sredesk.example/postmortems/{postmortem.pk}/"
    assert pm_url in channel.topic
    assert [b["link"] for b in channel.bookmarks][-1] == pm_url and len(channel.bookmarks) == 2

    now = timezone.now()
    PostMortem.objects.filter(pk=postmortem.pk).update(
        status=PostMortem.Status.COMPLETE,
        published_at=now - dt.timedelta(days=9),
        completed_at=now - dt.timedelta(days=6),
    )
    assert channels_archive_due(now=now) == 0  # the team's 7 days are not over
    assert channels_archive_due(now=now + dt.timedelta(days=1, minutes=1)) == 1
    assert channels_archive_due(now=now + dt.timedelta(days=2)) == 0
    assert channel.archived and len(slack.calls("conversations.archive")) == 1
    row.refresh_from_db()
    assert row.archived_at is not None


def test_a_reopened_incident_gets_its_own_archived_channel_back(slack, team, commander, service):
    incident = IncidentFactory(owning_team=team, commander=commander, title="Disk full")
    row = incident_channel_sync(incident.pk)
    slack.workspace.channels[row.channel_id].archived = True
    IncidentChannel.objects.filter(pk=row.pk).update(archived_at=timezone.now())
    incident_channel_sync(incident.pk)
    assert not slack.workspace.channels[row.channel_id].archived
    assert len(slack.calls("conversations.create")) == 1


def test_a_team_without_a_channel_setting_but_an_existing_channel_keeps_it_up_to_date(slack, commander):
    other = TeamFactory(slack_incident_channels=False)
    incident = IncidentFactory(owning_team=other, commander=UserFactory(slack_user_id="U0000077"))
    IncidentChannel.objects.create(incident=incident, channel_id=slack.workspace.add_channel("inc-x").id, name="inc-x")
    incident_channel_sync(incident.pk)
    assert len(slack.calls("conversations.invite")) == 1


def test_the_incident_page_links_its_channel(
    slack, team, commander, service, client, django_capture_on_commit_callbacks
):
    incident = declare(commander, service, capture=django_capture_on_commit_callbacks)
    row = IncidentChannel.objects.get(incident=incident)
    client.force_login(commander)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f'<a href="https://slack.com/app_redirect?channel={row.channel_id}">#{row.name}</a>' in page
    other = IncidentFactory(owning_team=team)
    assert "slack-channel" not in client.get(f"/incidents/{other.pk}/").content.decode()
