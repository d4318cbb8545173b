"""``/sredesk`` verbs end to end through the signed door: the same services and write rule as the web, source slack."""

import pytest

from incidents.models import Incident, TimelineEvent
from postmortems.models import PostMortem, RegressionTest
from postmortems.selectors import postmortem_repositories
from slackapp import registry
from slackapp.models import InboundRequest
from tests.api.clients import client_for
from tests.factories import MembershipFactory, RepositoryFactory, ServiceFactory, TeamFactory, UserFactory

from .signing import signed_command, signed_event


@pytest.fixture
def world(slack_app, db):
    team = TeamFactory(name="Payments", slug="payments")
    ada = UserFactory(username="ada", first_name="Ada", last_name="L", slack_user_id="U0000001")
    bob = UserFactory(username="bob", first_name="Bob", last_name="B", slack_user_id="U0000002")
    UserFactory(username="eve", first_name="Eve", last_name="O", slack_user_id="U0000003")  # outside the team
    MembershipFactory(team=team, user=ada)
    MembershipFactory(team=team, user=bob)
    service = ServiceFactory(slug="checkout", team=team)
    service.repositories.add(RepositoryFactory(name="acme/checkout"))
    return {"team": team, "ada": ada, "bob": bob, "service": service, "slack": slack_app}


class Slack:
    """Sends ``/sredesk`` lines through the door and reads the replies the worker posted."""

    def __init__(self, client, capture, fake):
        self.client, self.capture, self.fake, self.n = client, capture, fake, 0

    def run(self, text, user="U0000001", **fields):
        self.n += 1
        name = f"r{self.n}"
        with self.capture(execute=True):
            ack = self.client.post(
                "/slack/commands",
                **signed_command(text, user_id=user, response_url=self.fake.response_url(name), **fields),
            )
        assert ack.status_code == 200, ack.content
        replies = [r.body for r in self.fake.responses(name)]
        return ack.json(), replies


@pytest.fixture
def slack(world, client, django_capture_on_commit_callbacks):
    return Slack(client, django_capture_on_commit_callbacks, world["slack"])


def only(replies):
    [reply] = replies
    return reply


def test_declare_with_severity_and_service(world, slack):
    ack, replies = slack.run("declare sev2 checkout Checkout 5xx spike")

    incident = Incident.objects.get()
    assert ack == {"response_type": "ephemeral", "text": "Declaring…"}
    assert (incident.title, incident.severity, incident.primary_service, incident.owning_team) == (
        "Checkout 5xx spike",
        2,
        world["service"],
        world["team"],
    )
    reply = only(replies)
    assert reply["response_type"] == "in_channel" and incident.public_id in reply["text"]
    entry = TimelineEvent.objects.get(incident=incident)
    assert (entry.source, entry.actor) == ("slack", world["ada"])


def test_declare_without_a_title_says_how(world, slack):
    _, replies = slack.run("declare sev1 checkout")
    assert "Give the incident a title" in only(replies)["text"] and not Incident.objects.exists()


def test_br10_the_same_declare_repeated_acts_once_and_links_the_first(
    world, slack, client, django_capture_on_commit_callbacks
):
    """BR-10: the door answers before the work; the user's repeat within the window gets the first incident."""
    with django_capture_on_commit_callbacks(execute=False) as pending:
        ack = client.post("/slack/commands", **signed_command("declare sev1 checkout checkout errors"))
    assert ack.json()["text"] == "Declaring…" and not Incident.objects.exists()  # answered, nothing done yet
    for callback in pending:
        callback()

    _, replies = slack.run("declare sev1 checkout  Checkout errors")  # another trigger id, same title

    incident = Incident.objects.get()
    assert "You declared this a moment ago" in only(replies)["text"] and incident.public_id in only(replies)["text"]
    _, others = slack.run("declare sev1 checkout checkout errors", user="U0000002")
    assert Incident.objects.count() == 2 and others[0]["response_type"] == "in_channel"


def test_a_repeat_after_the_window_declares_again(world, slack, settings):
    settings.SREDESK_SLACK_DECLARE_REPEAT_SECONDS = 0
    slack.run("declare db down")
    slack.run("declare db down")
    assert Incident.objects.count() == 2


def test_ack_then_again_says_who_was_first(world, slack):
    slack.run("declare sev2 checkout Checkout errors")
    incident = Incident.objects.get()

    _, first = slack.run(f"ack {incident.public_id}")
    _, second = slack.run(f"ack {incident.public_id}", user="U0000002")

    incident.refresh_from_db()
    assert incident.status == "acknowledged" and incident.acknowledged_by == world["ada"]
    assert only(first)["response_type"] == "in_channel"
    assert "already acknowledged by Ada L at" in only(second)["text"]
    assert TimelineEvent.objects.filter(incident=incident, data__to="acknowledged").count() == 1


def test_someone_outside_the_team_is_refused_and_nothing_changes(world, slack):
    slack.run("declare sev2 checkout Checkout errors")
    incident = Incident.objects.get()

    _, replies = slack.run(f"resolve {incident.public_id}", user="U0000003")

    incident.refresh_from_db()
    assert incident.status == "triggered"
    assert only(replies)["response_type"] == "ephemeral" and "Only members of the owning team" in only(replies)["text"]


@pytest.mark.parametrize(("text", "said"), [("ack", "Which incident?"), ("ack INC-999", "no incident INC-999")])
def test_an_incident_must_be_named_outside_its_channel(world, slack, text, said):
    _, replies = slack.run(text)
    assert said in only(replies)["text"]


@pytest.mark.parametrize("word", ["INC-0", "INC-99999999999999999999999", "INC-٣"])
@pytest.mark.parametrize("verb", ["ack", "note hello"])
def test_an_id_naming_no_incident_is_refused_even_in_an_incident_s_channel(world, slack, monkeypatch, verb, word):
    """``ack INC-0`` typed in INC-1's channel must not act on INC-1: the user named another (impossible) incident."""
    slack.run("declare sev3 checkout Checkout errors")
    incident = Incident.objects.get()
    monkeypatch.setattr(registry, "_channel_resolver", lambda channel: incident if channel == "C0000001" else None)

    _, replies = slack.run(f"{verb} {word}")

    incident.refresh_from_db()
    assert f"{word} is no incident" in only(replies)["text"]
    assert incident.status == "triggered" and not TimelineEvent.objects.filter(incident=incident, kind="note").exists()


def test_the_incident_verbs(world, slack):
    slack.run("declare sev3 checkout Checkout errors")
    incident = Incident.objects.get()
    inc = incident.public_id

    slack.run(f"sev 1 {inc}")
    slack.run(f"commander <@U0000002|bob> {inc}")
    slack.run(f"note {inc} rolled back the <https://example.com|deploy> & waiting")
    slack.run(f"mitigate {inc}")
    _, status = slack.run(f"status {inc}")

    incident.refresh_from_db()
    assert (incident.severity, incident.commander, incident.status) == (1, world["bob"], "mitigated")
    note = TimelineEvent.objects.get(incident=incident, kind="note")
    assert note.message == "rolled back the <https://example.com|deploy> & waiting" and note.source == "slack"
    text = only(status)["text"]
    assert "SEV1" in text and "Mitigated" in text and "Bob B" in text
    assert set(TimelineEvent.objects.filter(incident=incident).values_list("source", flat=True)) >= {"slack"}


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("sev 7", "from 1 (worst) to 4"),
        ("commander", "Name one person"),
        ("commander @nobody", "Nobody in sredesk"),
        ("note", "Say what to note"),
    ],
)
def test_bad_arguments_get_a_sentence(world, slack, text, said):
    slack.run("declare sev3 checkout Checkout errors")
    _, replies = slack.run(f"{text} {Incident.objects.get().public_id}")
    assert said in only(replies)["text"]


def test_postmortem_verbs_after_resolving(world, slack):
    slack.run("declare sev2 checkout Checkout errors")
    inc = Incident.objects.get().public_id
    slack.run(f"resolve {inc}")

    _, pm = slack.run(f"pm {inc}")
    _, empty = slack.run(f"followups {inc}")
    _, linked = slack.run(f"link-test tests/test_pay.py::test_retry {inc}")
    _, again = slack.run(f"link-test tests/test_pay.py::test_retry {inc}")
    _, listed = slack.run(f"followups {inc}")
    _, snoozed = slack.run(f"snooze 2d waiting on the vendor {inc}")
    _, bad = slack.run(f"snooze soon please {inc}")

    postmortem = PostMortem.objects.get()
    assert "post-mortem of " + inc in only(pm)["text"]
    assert "No regression test linked yet" in only(empty)["text"]
    test = RegressionTest.objects.get()
    assert (test.test_id, test.repository.name, test.postmortem) == (
        "tests/test_pay.py::test_retry",
        "acme/checkout",
        postmortem,
    )
    assert "Linked" in only(linked)["text"] and "already" in only(again)["text"]
    assert "tests/test_pay.py::test_retry" in only(listed)["text"]
    assert postmortem.snoozed_until is not None and postmortem.snooze_reason == "waiting on the vendor"
    assert "snoozed until" in only(snoozed)["text"]
    assert "not a duration" in only(bad)["text"]


def test_pm_of_an_open_incident_says_when_it_comes(world, slack):
    slack.run("declare sev2 checkout Checkout errors")
    _, replies = slack.run(f"pm {Incident.objects.get().public_id}")
    assert "not resolved yet" in only(replies)["text"] and not PostMortem.objects.exists()


def test_help_is_answered_in_the_request(world, slack):
    ack, replies = slack.run("help")
    assert "declare [sevN] [service] <title>" in ack["text"] and replies == []


def test_br08_an_app_mention_retried_declares_once(world, client, django_capture_on_commit_callbacks):
    """BR-08: the mention "declare sev2 checkout" delivered three times, twice as Slack's retries: one incident."""
    event = {
        "type": "app_mention",
        "user": "U0000001",
        "text": "<@U0BOT0001> declare sev2 checkout svc-a errors",
        "channel": "C0000001",
        "ts": "1700000000.000200",
    }
    for retry in (None, 1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                client.post("/slack/events", **signed_event(event, event_id="Ev00000001", retry_num=retry)).status_code
                == 200
            )

    assert Incident.objects.get().title == "svc-a errors"
    [posted] = world["slack"].calls("chat.postMessage")
    assert posted.body["thread_ts"] == "1700000000.000200" and "declared" in posted.body["text"]
    assert InboundRequest.objects.get().retry_num == 0


def test_a_note_mentioning_another_incident_goes_to_the_one_named_first_or_last(world, slack):
    slack.run("declare sev3 checkout Checkout errors")
    slack.run("declare sev3 checkout Search errors")
    first, second = Incident.objects.order_by("pk")
    slack.run(f"note {second.public_id} looks like {first.public_id} again, same deploy")

    note = TimelineEvent.objects.get(kind="note")
    assert note.incident == second and note.message == f"looks like {first.public_id} again, same deploy"


def test_a_repeated_move_answers_in_slack_as_the_api_does(world, slack):
    """One sentence for "already done" (``incidents.moves``): a second resolve from Slack says who resolved first
    and when, word for word what the API's ``hint`` says for the same repeat."""
    slack.run("declare sev2 checkout Checkout errors")
    incident = Incident.objects.get()
    slack.run(f"resolve {incident.public_id}")
    _, again = slack.run(f"resolve {incident.public_id}", user="U0000002")

    api = client_for(world["bob"]).post(f"/api/v1/incidents/{incident.pk}/resolve/", {}, format="json")
    assert api.status_code == 200 and api.json()["changed"] is False
    assert only(again)["text"] == api.json()["hint"]
    assert only(again)["text"].startswith(f"{incident.public_id} was already resolved by Ada L at ")
    assert TimelineEvent.objects.filter(incident=incident, data__to="resolved").count() == 1


def test_link_test_picks_from_the_repositories_the_reminder_form_offers(world, slack):
    """The command and the reminder's link form choose among the same repositories (``postmortem_repositories``):
    with two, the command asks which and names exactly those."""
    other = ServiceFactory(slug="ledger", team=world["team"])
    other.repositories.add(RepositoryFactory(name="acme/ledger"))
    slack.run("declare sev2 checkout Checkout errors")
    incident = Incident.objects.get()
    incident.services.add(other)
    slack.run(f"resolve {incident.public_id}")
    postmortem = PostMortem.objects.get()

    _, asked = slack.run(f"link-test tests/test_pay.py::test_retry {incident.public_id}")

    names = ", ".join(r.name for r in postmortem_repositories(postmortem))
    assert names == "acme/checkout, acme/ledger"
    assert f"Which repository ({names})?" in only(asked)["text"] and not RegressionTest.objects.exists()
