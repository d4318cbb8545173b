"""The three Slack doors: signature over the raw bytes, replay window, size limit, idempotency, ack then work."""

import json
import time

import pytest
from django.test import Client

from slackapp import signing
from slackapp.models import InboundRequest

from . import handlers_for_tests
from .handlers_for_tests import CALLS
from .signing import (
    FORM,
    SECRET,
    block_actions,
    interactivity_body,
    signed,
    signed_action,
    signed_command,
    signed_event,
    signed_suggestion,
    signed_view_submission,
)

assert handlers_for_tests  # registers the test handlers


def post(client, door, kwargs, capture):
    """POST to a door; the work it queued runs when the request's on-commit callbacks do (after the answer)."""
    with capture(execute=True):
        return client.post(f"/slack/{door}", **kwargs)


def test_slack_s_own_test_vector_verifies_and_one_changed_byte_does_not(realdata_dir, settings):
    vector = json.loads((realdata_dir / "slack" / "signature-test-vector.json").read_text())
    settings.SLACK_SIGNING_SECRET = vector["signing_secret"]
    body = vector["body"].encode()
    ts, sig = vector["headers"]["X-Slack-Request-Timestamp"], vector["headers"]["X-Slack-Signature"]

    assert signing.verify(body, ts, sig, now=vector["clock_now_for_valid_check"]) is None
    assert signing.verify(body.replace(b"foobar", b"foobaR"), ts, sig, now=int(ts)).status == 401


def test_br11_form_with_stars_percent_and_umlaut_is_verified_over_the_raw_bytes(
    slack_app, client, person, django_capture_on_commit_callbacks
):
    """BR-11: the exact body of the field case, and the same body with one byte changed."""
    body = (
        b"token=x&team_id=T0000001&user_id=U0000001&command=%2Fincident&text=%2Abold%2A+%C3%BCber+50%25+%26+more"
        b"&response_url=https%3A%2F%2Fhooks.slack.invalid%2Fx&trigger_id=1.2.3"
    )
    ok = post(client, "commands", signed(body, FORM), django_capture_on_commit_callbacks)
    tampered = signed(body, FORM)
    tampered["data"] = body.replace(b"50%25", b"51%25")
    refused = client.post("/slack/commands", **tampered)

    assert ok.status_code == 200
    assert "No command '*bold*'" in ok.json()["text"]  # parsed from the bytes as sent: *bold* über 50% & more
    assert refused.status_code == 401 and "does not match" in refused.json()["error"]


def test_br11_interactive_payload_with_mrkdwn_is_verified_and_handled(
    slack_app, client, person, django_capture_on_commit_callbacks
):
    payload = block_actions("test.echo", value="*P1* <svc-a> ü", response_url=slack_app.response_url("a"))
    body = interactivity_body(payload)

    ok = post(client, "interactivity", signed(body, FORM), django_capture_on_commit_callbacks)
    tampered = signed(body, FORM)
    tampered["data"] = body[:-1] + (b"0" if body[-1:] != b"0" else b"1")

    assert ok.status_code == 200
    assert [name for name, _ in CALLS] == ["test.echo"]
    assert slack_app.responses("a")[0].body["text"] == "clicked *P1* <svc-a> ü"
    assert client.post("/slack/interactivity", **tampered).status_code == 401


@pytest.mark.parametrize("age", [-301, 301, 3600])
def test_a_stale_or_future_timestamp_is_refused(slack_app, client, person, age):
    response = client.post("/slack/commands", **signed_command("test-echo hi", timestamp=int(time.time()) - age))

    assert response.status_code == 401
    assert "X-Slack-Request-Timestamp" in response.json()["error"]
    assert not InboundRequest.objects.exists()


def test_the_allowed_age_is_a_setting(slack_app, client, person, settings):
    settings.SREDESK_SLACK_REQUEST_MAX_AGE_SECONDS = 30
    assert client.post("/slack/commands", **signed_command(timestamp=int(time.time()) - 60)).status_code == 401


def test_the_previous_secret_is_accepted_during_a_rotation(slack_app, client, person, settings):
    settings.SLACK_SIGNING_SECRET = "new-secret"
    old = signed_command("help", secret=SECRET)
    assert client.post("/slack/commands", **old).status_code == 401

    settings.SREDESK_SLACK_SIGNING_SECRET_PREVIOUS = SECRET
    assert client.post("/slack/commands", **signed_command("help", secret=SECRET)).status_code == 200
    assert client.post("/slack/commands", **signed_command("help", secret="new-secret")).status_code == 200
    assert client.post("/slack/commands", **signed_command("help", secret="other")).status_code == 401


def test_the_previous_secret_alone_does_not_open_the_doors(client, settings, db):
    """Only SREDESK_SLACK_SIGNING_SECRET_PREVIOUS set (the current one emptied): the retired secret signs nothing."""
    settings.SLACK_SIGNING_SECRET, settings.SREDESK_SLACK_SIGNING_SECRET_PREVIOUS = "", SECRET
    response = client.post("/slack/commands", **signed_command("help", secret=SECRET))
    assert response.status_code == 404 and "SLACK_SIGNING_SECRET" in response.json()["error"]


def test_unsigned_requests_are_refused(slack_app, client):
    response = client.post("/slack/events", data=b"{}", content_type="application/json")
    assert response.status_code == 401 and "not a request from Slack" in response.json()["error"]


def test_without_a_signing_secret_the_doors_say_slack_is_not_set_up(client, settings, db):
    settings.SLACK_SIGNING_SECRET = ""
    for door in ("commands", "interactivity", "events"):
        response = client.post(f"/slack/{door}", **signed_command())
        assert response.status_code == 404
        assert "SLACK_SIGNING_SECRET" in response.json()["error"]


def test_a_body_over_the_limit_is_refused_unread(slack_app, client, settings):
    settings.SREDESK_SLACK_MAX_BODY_BYTES = 1000
    response = client.post("/slack/commands", **signed_command("note " + "x" * 2000))
    assert response.status_code == 413


def test_the_doors_need_no_csrf_token(slack_app, person):
    response = Client(enforce_csrf_checks=True).post("/slack/commands", **signed_command("help"))
    assert response.status_code == 200 and "/sredesk declare" in response.json()["text"]


def test_url_verification_answers_the_challenge(slack_app, client, realdata_dir):
    body = (realdata_dir / "slack" / "events-url_verification.json").read_bytes()
    response = client.post("/slack/events", **signed(body, "application/json"))
    assert response.json() == {"challenge": json.loads(body)["challenge"]}


def test_a_command_is_acked_at_once_then_answered_through_response_url(
    slack_app, client, person, django_capture_on_commit_callbacks
):
    kwargs = signed_command("test-echo hello world", response_url=slack_app.response_url("c"))
    response = post(client, "commands", kwargs, django_capture_on_commit_callbacks)

    assert response.json() == {"response_type": "ephemeral", "text": "Working on it…"}
    [reply] = slack_app.responses("c")
    assert reply.body == {"response_type": "ephemeral", "text": "echo hello world as ada"}
    row = InboundRequest.objects.get()
    assert (row.kind, row.name, row.status) == ("command", "test-echo", "done")


def test_br08_an_event_delivered_three_times_acts_once_and_a_retry_only_event_acts_too(
    slack_app, client, person, django_capture_on_commit_callbacks
):
    """BR-08: dedupe by event_id, never by dropping what carries X-Slack-Retry-Num."""
    event = {"type": "test_event", "user": "U0000001", "text": "declare sev2 svc-a", "channel": "C0000001"}
    answers = [
        post(
            client,
            "events",
            signed_event(event, event_id="Ev00000001", retry_num=n),
            django_capture_on_commit_callbacks,
        )
        for n in (None, 1, 2)
    ]
    only_retry = post(
        client, "events", signed_event(event, event_id="Ev00000002", retry_num=1), django_capture_on_commit_callbacks
    )

    assert [a.status_code for a in [*answers, only_retry]] == [200, 200, 200, 200]
    assert [ctx.payload["event_id"] for _, ctx in CALLS] == ["Ev00000001", "Ev00000002"]
    assert InboundRequest.objects.get(key="Ev00000002").retry_num == 1


def test_br15_the_same_click_delivered_twice_acts_once(slack_app, client, person, django_capture_on_commit_callbacks):
    kwargs = signed_action("test.echo", value="1", action_ts="1700000001.000001")
    first = post(client, "interactivity", kwargs, django_capture_on_commit_callbacks)
    again = post(
        client,
        "interactivity",
        signed_action("test.echo", value="1", action_ts="1700000001.000001", retry_num=1),
        django_capture_on_commit_callbacks,
    )
    second_click = post(
        client,
        "interactivity",
        signed_action("test.echo", value="1", action_ts="1700000001.300001"),
        django_capture_on_commit_callbacks,
    )

    assert first.status_code == again.status_code == second_click.status_code == 200
    assert len(CALLS) == 2  # the redelivery is dropped; a second click is a new request (the handler decides)


def test_a_prefix_action_handler_takes_every_matching_action_id(
    slack_app, client, person, django_capture_on_commit_callbacks
):
    post(client, "interactivity", signed_action("test.prefix.snooze"), django_capture_on_commit_callbacks)
    assert [(name, ctx.action["action_id"]) for name, ctx in CALLS] == [("test.prefix.", "test.prefix.snooze")]


def test_an_unknown_command_lists_the_valid_ones(slack_app, client, person):
    text = client.post("/slack/commands", **signed_command("dance")).json()["text"]
    assert "No command 'dance'" in text and "help" in text and "/sredesk help" in text


@pytest.mark.parametrize(
    ("verb", "said"),
    [("test-denied", "Only the payments team may do that."), ("test-usererror", "Name the incident, e.g. INC-42.")],
)
def test_a_refusal_is_an_ephemeral_sentence(slack_app, client, person, django_capture_on_commit_callbacks, verb, said):
    post(
        client,
        "commands",
        signed_command(verb, response_url=slack_app.response_url("e")),
        django_capture_on_commit_callbacks,
    )
    assert slack_app.responses("e")[0].body == {"response_type": "ephemeral", "text": said}


def test_a_handler_crash_tells_the_user_and_marks_the_request_failed(
    slack_app, client, person, django_capture_on_commit_callbacks
):
    post(
        client,
        "commands",
        signed_command("test-boom", response_url=slack_app.response_url("b")),
        django_capture_on_commit_callbacks,
    )
    row = InboundRequest.objects.get()
    [reply] = slack_app.responses("b")
    assert row.status == "failed" and "kaboom" in row.error
    assert f"Slack request {row.pk}" in reply.body["text"] and "try again" in reply.body["text"]


def test_a_response_url_outside_the_allowed_prefixes_is_not_called(
    slack_app, client, person, settings, django_capture_on_commit_callbacks
):
    settings.SREDESK_SLACK_RESPONSE_URL_PREFIXES = ["https://hooks.slack.com/"]
    post(
        client,
        "commands",
        signed_command("test-echo x", response_url=slack_app.response_url("x")),
        django_capture_on_commit_callbacks,
    )
    assert slack_app.responses() == [] and InboundRequest.objects.get().status == "done"


def test_a_suggestion_is_answered_in_the_request(slack_app, client):
    response = client.post("/slack/interactivity", **signed_suggestion("test_picker", "tests/pay"))
    assert response.json()["options"][0]["value"] == "tests/pay-1"


def test_a_sync_view_submission_answers_with_its_errors(slack_app, client, person):
    response = client.post("/slack/interactivity", **signed_view_submission("test_modal_sync", {}))
    assert response.json() == {"response_action": "errors", "errors": {"b": "Give a reason."}}


def test_a_view_submission_is_keyed_by_view_id_and_hash(slack_app, client, person, django_capture_on_commit_callbacks):
    for _ in range(2):
        post(client, "interactivity", signed_view_submission("test_modal", {}), django_capture_on_commit_callbacks)
    post(
        client,
        "interactivity",
        signed_view_submission("test_modal", {}, view_hash="1700000009.efgh"),
        django_capture_on_commit_callbacks,
    )
    assert len(CALLS) == 2


def test_br31_the_loading_modal_opens_before_the_work_and_is_filled_in_after(
    slack_app, client, person, django_capture_on_commit_callbacks
):
    post(client, "interactivity", signed_action("test.modal"), django_capture_on_commit_callbacks)

    [opened] = slack_app.calls("views.open")
    [updated] = slack_app.calls("views.update")
    assert "Loading" in json.dumps(opened.body["view"])
    assert (
        updated.body["view_id"] == opened.reply["view"]["id"] and updated.body["hash"] == opened.reply["view"]["hash"]
    )
    assert opened.at < updated.at


def test_br31_an_expired_trigger_tells_the_user_to_try_again_and_does_nothing(
    slack_app, client, person, django_capture_on_commit_callbacks
):
    slack_app.reply_next_for("views.open", body={"ok": False, "error": "expired_trigger_id"})
    response = post(
        client,
        "interactivity",
        signed_action("test.modal", response_url=slack_app.response_url("m")),
        django_capture_on_commit_callbacks,
    )

    assert response.status_code == 200
    assert CALLS == [] and slack_app.calls("views.update") == []
    assert "try again" in slack_app.responses("m")[0].body["text"]
    assert InboundRequest.objects.get().status == "failed"


def test_realdata_block_actions_payload_is_parsed(slack_app, client, realdata_dir, django_capture_on_commit_callbacks):
    payload = json.loads((realdata_dir / "slack" / "interactive-block_actions.json").read_text())
    response = post(
        client, "interactivity", signed(interactivity_body(payload), FORM), django_capture_on_commit_callbacks
    )
    row = InboundRequest.objects.get()
    assert response.status_code == 200
    assert (row.kind, row.name, row.key, row.status) == ("action", "a", "111.222:a:1596530385.194939", "ignored")


def test_a_nul_in_a_payload_is_refused_with_400(slack_app, client):
    response = client.post("/slack/commands", **signed(b"user_id=U1&trigger_id=1&text=a%00b", FORM))
    assert response.status_code == 400
