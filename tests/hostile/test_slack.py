"""The hostile-input table crossed with the Slack doors: ``/slack/commands``, ``/interactivity``, ``/events``.

Headers that fail the signature check are a 401 sentence; a signed body sredesk cannot take is a 4xx naming the
field; a command it cannot act on gets an ephemeral sentence. Never a 5xx, and nothing of sredesk's own is written.
"""

import json
from urllib.parse import urlencode

import pytest

from incidents.models import Incident
from tests.factories import IncidentFactory, MembershipFactory, ServiceFactory, TeamFactory, UserFactory
from tests.slackapp.conftest import slack_app  # noqa: F401 (the fixture)
from tests.slackapp.signing import FORM, block_actions, command_body, signed, signed_command

from .table import HOSTILE_TEXT, UNICODE_DIGITS, RowCounts, deep_json

JSON = "application/json"


@pytest.fixture
def world(slack_app, db):  # noqa: F811
    team = TeamFactory(slug="payments")
    ada = UserFactory(username="ada", slack_user_id="U0000001")
    MembershipFactory(team=team, user=ada)
    UserFactory(username="eve", slack_user_id="U0000003")  # signed in to sredesk, outside the team
    incident = IncidentFactory(primary_service=ServiceFactory(team=team), owning_team=team, commander=None)
    return {"ada": ada, "incident": incident, "slack": slack_app}


def run(client, capture, fake, text, user="U0000001"):
    """``/sredesk <text>`` by ``user`` through the door and a worker: (the ack, the replies at response_url)."""
    with capture(execute=True):
        ack = client.post("/slack/commands", **signed_command(text, user_id=user, response_url=fake.response_url("r")))
    assert ack.status_code == 200, ack.content
    return ack.json(), [r.body for r in fake.responses("r")]


@pytest.mark.parametrize("header", ["v0=é", "v0=" + "ÿ" * 64, "v0=\x7f", "v0", "x" * 5000], ids=lambda v: repr(v[:8]))
def test_a_signature_header_of_any_bytes_is_a_401(world, client, header):
    kwargs = signed(command_body("help"), FORM)
    kwargs["HTTP_X_SLACK_SIGNATURE"] = header
    counts = RowCounts()
    response = client.post("/slack/commands", **kwargs)
    assert response.status_code == 401 and "signature" in response.json()["error"].lower(), response.content
    counts.assert_unchanged()


@pytest.mark.parametrize("timestamp", [*UNICODE_DIGITS, "-1", "1e9", "9" * 40, "é"], ids=repr)
def test_a_timestamp_header_that_is_not_unix_seconds_is_a_401(world, client, timestamp):
    kwargs = signed(command_body("help"), FORM)
    kwargs["HTTP_X_SLACK_REQUEST_TIMESTAMP"] = timestamp
    assert client.post("/slack/commands", **kwargs).status_code == 401


@pytest.mark.parametrize("door", ["interactivity", "events"])
def test_a_deep_payload_is_refused(world, client, door):
    body = deep_json() if door == "events" else urlencode({"payload": deep_json().decode()}).encode()
    counts = RowCounts()
    response = client.post(f"/slack/{door}", **signed(body, JSON if door == "events" else FORM))
    assert response.status_code in (400, 413), response.content[:300]
    counts.assert_unchanged()


@pytest.mark.parametrize("name", sorted(HOSTILE_TEXT))
def test_hostile_text_in_an_event_or_a_click_is_refused(world, client, name):
    text = HOSTILE_TEXT[name]
    mention = {"type": "app_mention", "text": text, "user": "U0000001", "channel": "C1", "ts": "1.2"}
    event = {"type": "event_callback", "event_id": "Ev1", "event": mention}
    click = urlencode({"payload": json.dumps(block_actions("incident_ack", value=text))}).encode()
    counts = RowCounts()
    for door, response in [
        ("events", client.post("/slack/events", **signed(json.dumps(event).encode(), JSON))),
        ("interactivity", client.post("/slack/interactivity", **signed(click, FORM))),
    ]:
        assert response.status_code in (400, 413), (door, response.status_code, response.content[:300])
    counts.assert_unchanged()


@pytest.mark.parametrize("retry", ["-1", "١", "9" * 50, "x"])
def test_any_retry_num_header_is_taken_as_a_first_delivery(world, client, retry):
    kwargs = signed_command("help")
    kwargs["HTTP_X_SLACK_RETRY_NUM"] = retry
    assert client.post("/slack/commands", **kwargs).status_code == 200


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("ack INC-99999999999999999999999", "is no incident"),
        ("ack INC-0", "is no incident"),
        ("ack INC-٣", "is no incident"),
        *[(f"sev {digits} INC-{{n}}", "from 1 (worst) to 4") for digits in UNICODE_DIGITS],
        ("sev 99999999999999999999 INC-{n}", "from 1 (worst) to 4"),
        ("frobnicate INC-{n}", "No command 'frobnicate'"),
        ("commander <@U9999999> INC-{n}", "has not linked a sredesk account"),
        ("note " + "x" * 10_001 + " INC-{n}", "At most 10000 characters"),
        ("declare sev2 " + "t" * 400, "At most 300 characters"),
        ("snooze 99999999999d because INC-{n}", "is not a duration"),
        ("snooze -1d because INC-{n}", "is not a duration"),
    ],
    ids=lambda v: v[:40],
)
def test_a_command_sredesk_cannot_act_on_gets_a_sentence_and_changes_nothing(
    world, client, django_capture_on_commit_callbacks, text, said
):
    before = Incident.objects.values().get()
    counts = RowCounts()
    ack, replies = run(
        client, django_capture_on_commit_callbacks, world["slack"], text.replace("{n}", str(world["incident"].pk))
    )
    assert said in " ".join([ack["text"], *(r["text"] for r in replies)])
    assert Incident.objects.values().get() == before
    counts.assert_unchanged()


@pytest.mark.parametrize("verb", ["ack", "mitigate", "resolve", "reopen", "sev 1", "commander @eve", "note hi"])
def test_someone_without_write_rights_gets_the_write_rule_and_nothing_is_stored(
    world, client, django_capture_on_commit_callbacks, verb
):
    before = Incident.objects.values().get()
    counts = RowCounts()
    _, replies = run(
        client, django_capture_on_commit_callbacks, world["slack"], f"{verb} INC-{world['incident'].pk}", "U0000003"
    )
    assert [r["text"] for r in replies] == [
        "Only members of the owning team, the incident commander and staff may change this incident."
    ]
    assert Incident.objects.values().get() == before
    counts.assert_unchanged()


@pytest.mark.parametrize("verb", ["ack INC-{n}", "resolve INC-{n}", "commander @ada INC-{n}", "declare sev1 x"])
def test_an_unmapped_slack_user_is_asked_to_link_and_nothing_is_stored(
    world, client, django_capture_on_commit_callbacks, verb
):
    counts = RowCounts()
    text = verb.replace("{n}", str(world["incident"].pk))
    _, replies = run(client, django_capture_on_commit_callbacks, world["slack"], text, "U0000777")
    assert len(replies) == 1 and "Link your Slack account" in replies[0]["text"], replies
    counts.assert_unchanged()


def test_a_response_url_elsewhere_is_never_called(world, client, django_capture_on_commit_callbacks):
    fake = world["slack"]
    for url in [
        fake.url_root + "elsewhere/",
        "http://hooks.slack.com/x",
        "https://hooks.slack.com.evil.example/x",
        "https://hooks.slack.com@evil.example/",
        "javascript:alert(1)",
    ]:
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/slack/commands", **signed_command(f"status INC-{world['incident'].pk}", response_url=url))
    assert [r.method for r in fake.requests if "elsewhere" in r.method or r.method.startswith("response")] == []


@pytest.mark.parametrize("event_id", [1, 2.5, ["Ev1"], {"id": "Ev1"}, True], ids=repr)
def test_an_event_id_that_is_not_text_is_refused_not_keyed_as_empty(world, client, event_id):
    """Two such events would share the key "" and the second would be dropped as a duplicate of the first."""
    mention = {"type": "app_mention", "text": "<@UAPP> help", "user": "U0000001", "channel": "C1", "ts": "1.2"}
    body = json.dumps({"type": "event_callback", "event_id": event_id, "event": mention}).encode()
    counts = RowCounts()
    response = client.post("/slack/events", **signed(body, JSON))
    assert response.status_code == 400 and response.json()["field"] == "event_id", response.content
    counts.assert_unchanged()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"actions": [{"action_id": "incident_ack", "value": "1"}]}, "actions.0.action_ts"),
        ({"actions": [{"action_id": "incident_ack", "action_ts": 1.5}]}, "actions.0.action_ts"),
        ({"type": "view_submission", "view": {"callback_id": "x", "hash": "h"}}, "view.id"),
        ({"type": "view_submission", "view": {"callback_id": "x", "id": "V1", "hash": 7}}, "view.hash"),
    ],
)
def test_an_interaction_without_the_parts_of_its_key_is_refused(world, client, change, field):
    """Without them two different clicks (or submissions) would share one key and the second would be dropped."""
    click = urlencode({"payload": json.dumps({**block_actions("incident_ack"), **change})}).encode()
    counts = RowCounts()
    response = client.post("/slack/interactivity", **signed(click, FORM))
    assert response.status_code == 400 and response.json()["field"] == field, response.content
    counts.assert_unchanged()
