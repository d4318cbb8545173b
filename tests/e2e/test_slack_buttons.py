"""Issue 16 end to end: run an incident and settle its reminder from Slack, through a real gunicorn and worker.

A signed ``/sredesk declare`` goes to gunicorn; the worker (``celery worker
--beat``, Redis, PostgreSQL) declares the incident and posts its card to the
local Slack (``tests.fakes.FakeSlack``); Acknowledge and Resolve are clicked
on the card through ``/slack/interactivity`` and the card is edited in place;
the post-mortem, once published, is reminded to its owner with buttons;
*Link regression test…* opens a loading modal, the form is filled in by the
worker, the picker is searched as the owner types (over the test ids a CI
upload sent through ``/ci/junit/``), and the submitted test is linked; the
reminders go on while the test fails in CI and stop after CI uploads it passing.

Skips without PostgreSQL and Redis; fails instead when SREDESK_REQUIRE_SERVICES=1 (CI).
"""

import http.client
import json
import time

import pytest
from django.utils import timezone

from incidents.models import Incident
from postmortems.models import Heartbeat, PostMortem, RegressionTest
from postmortems.reminders import SWEEP_HEARTBEAT
from postmortems.services import postmortem_transition
from sredesk.tokens import new_token
from tests.e2e.workers import WAIT
from tests.factories import MembershipFactory, RepositoryFactory, ServiceFactory, TeamFactory, UserFactory
from tests.fakes import wait_until
from tests.slackapp.signing import SECRET, signed_action, signed_command, signed_suggestion, signed_view_submission

pytestmark = pytest.mark.e2e

CHANNEL, ANA = "C0E2ESLACK", "U0E2EANA1"
TEST_ID = "tests/payments/test_retry.py::test_timeout_is_retried"


def junit(outcome: str) -> bytes:
    inner = '<failure message="timed out"/>' if outcome == "failed" else ""
    return (
        '<testsuites><testsuite name="pytest" tests="1">'
        f'<testcase classname="tests.payments.test_retry" name="test_timeout_is_retried" time="0.2">{inner}</testcase>'
        "</testsuite></testsuites>"
    ).encode()


@pytest.fixture
def stack(celery_workers, fake_slack, tmp_path):
    """gunicorn (the web doors) and a ``celery worker --beat`` on one database, broker and local Slack."""
    slack_env = {
        "SLACK_SIGNING_SECRET": SECRET,
        "SREDESK_SLACK_RESPONSE_URL_PREFIXES": fake_slack.url_root,
        "SREDESK_REMINDER_SWEEP_SECONDS": "1",
        "SREDESK_REMINDER_CADENCE_SECONDS": "0",
        "SREDESK_REMINDER_REPEAT_SECONDS": "2",
        "SREDESK_REMINDER_LEAD_FROM_STEP": "100000",
        "SREDESK_REMINDER_TEAM_CHANNEL_FROM_STEP": "100000",
        "SREDESK_REMINDER_MAX_PER_PERSON": "100000",
    }
    worker = celery_workers.start("worker", beat=True, env=slack_env)
    web, port = celery_workers.start_web("web", env=slack_env, workers=2)
    celery_workers.wait_ready(worker)
    yield {"port": port, "worker": worker, "log": web.log}


def post(port: int, path: str, signed: dict) -> tuple[int, bytes, float]:
    """POST a request built by ``tests.slackapp.signing`` (test-client kwargs) to gunicorn; (status, body, seconds)."""
    headers = {"Content-Type": signed["content_type"]}
    headers["X-Slack-Request-Timestamp"] = signed["HTTP_X_SLACK_REQUEST_TIMESTAMP"]
    headers["X-Slack-Signature"] = signed["HTTP_X_SLACK_SIGNATURE"]
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    connection.request("POST", path, body=signed["data"], headers=headers)
    response = connection.getresponse()
    return response.status, response.read(), time.monotonic() - started


def test_declare_acknowledge_resolve_and_settle_the_reminder_from_slack(stack, fake_slack):
    port = stack["port"]
    team = TeamFactory(name="Payments", slack_channel=CHANNEL)
    ana = MembershipFactory(
        team=team, user=UserFactory(username="ana", first_name="Ana", last_name="Ops", slack_user_id=ANA)
    ).user
    token, digest = new_token("sdci")
    repository = RepositoryFactory(name="acme/checkout", default_branch="main", ci_token_hash=digest)
    service = ServiceFactory(slug="checkout", team=team)
    service.repositories.add(repository)

    def diagnostics() -> str:
        calls = "\n".join(f"  {r.status} {r.method} {r.channel}: {str(r.body)[:160]!r}" for r in fake_slack.requests)
        return f"Slack saw:\n{calls}\n{stack['worker'].log_tail()}\n{stack['log'].read_text()[-3000:]}"

    def updates(status: str) -> list:
        return [r for r in fake_slack.calls("chat.update") if r.status == 200 and f"\n{status}" in r.text]

    # 1. /sredesk declare through gunicorn: answered at once; the worker declares and posts the card.
    status, body, seconds = post(
        port,
        "/slack/commands",
        signed_command(
            "declare sev1 checkout Checkout 5xx",
            user_id=ANA,
            channel_id=CHANNEL,
            response_url=fake_slack.response_url("declare"),
        ),
    )
    assert status == 200 and seconds < 3, body
    [card] = wait_until(
        lambda: [r for r in fake_slack.ok_posts(CHANNEL) if "\nTriggered" in r.text],
        timeout=WAIT, what="the incident's card in the team channel", diagnostics=diagnostics,
    )  # fmt: skip
    incident = Incident.objects.get()
    assert card.text.startswith(f"{incident.public_id} (SEV1) Checkout 5xx")
    ts = card.reply["ts"]

    # 2. Acknowledge, then Resolve, on the card: the same message is edited each time.
    for action_id, shown in (("incident.ack", "Acknowledged by Ana Ops"), ("incident.resolve", "Resolved at")):
        status, body, seconds = post(
            port, "/slack/interactivity",
            signed_action(action_id, value=str(incident.pk), user_id=ANA, channel_id=CHANNEL, message_ts=ts,
                          response_url=fake_slack.response_url(action_id)),
        )  # fmt: skip
        assert status == 200 and seconds < 3, body
        wait_until(lambda s=shown: updates(s), timeout=WAIT, what=f"the card edited: {shown}", diagnostics=diagnostics)
    assert all(r.body["ts"] == ts and r.body["channel"] == CHANNEL for r in fake_slack.calls("chat.update"))
    assert len([r for r in fake_slack.posts(CHANNEL) if incident.public_id in r.text]) == 1
    incident.refresh_from_db()
    assert (incident.status, incident.acknowledged_by) == ("resolved", ana)

    # 3. The draft (made by the worker) is written and published; its owner is reminded on Slack, with buttons.
    postmortem = wait_until(
        lambda: PostMortem.objects.filter(incident=incident).first(), timeout=WAIT, what="the post-mortem draft"
    )
    PostMortem.objects.filter(pk=postmortem.pk).update(owner=ana)
    for verb in ("submit_for_review", "publish"):
        postmortem_transition(postmortem_id=postmortem.pk, verb=verb, actor=ana, source="web")

    def reminders() -> list:
        return [r for r in fake_slack.ok_posts(ANA) if incident.public_id in r.text and "regression test" in r.text]

    [reminder, *_] = wait_until(reminders, timeout=WAIT, what="a reminder to the owner", diagnostics=diagnostics)
    buttons = [e["action_id"] for e in reminder.body["blocks"][1]["elements"]]
    assert buttons[0] == "reminder.link_test"

    # 4. CI runs the test and it fails: the picker offers it.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    connection.request("POST", "/ci/junit/?branch=main&commit=c1&run_key=b1&complete=1", body=junit("failed"),
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"})  # fmt: skip
    assert connection.getresponse().status == 201

    # 5. Link regression test… on the reminder: a loading modal at once, then the form; search; submit.
    dm = reminder.reply["channel"]
    status, body, seconds = post(
        port, "/slack/interactivity",
        signed_action("reminder.link_test", value=str(postmortem.pk), user_id=ANA, channel_id=dm,
                      message_ts=reminder.reply["ts"], response_url=fake_slack.response_url("link")),
    )  # fmt: skip
    assert status == 200 and seconds < 3, body

    def link_forms() -> list:
        updates = fake_slack.calls("views.update")
        return [r for r in updates if r.body["view"].get("callback_id") == "reminder.link_test"]

    [form] = wait_until(link_forms, timeout=WAIT, what="the link form in the modal", diagnostics=diagnostics)
    assert fake_slack.calls("views.open")[0].at < form.at
    view = {"id": form.body["view_id"], "private_metadata": form.body["view"]["private_metadata"]}
    status, body, _ = post(
        port, "/slack/interactivity", signed_suggestion("reminder.test_pick", "retry", user_id=ANA, view=view)
    )
    [option] = json.loads(body)["options"]
    assert option["value"].startswith("r:") and "test_timeout_is_retried" in option["text"]["text"]
    status, body, _ = post(
        port, "/slack/interactivity",
        signed_view_submission("reminder.link_test", {"test": {"reminder.test_pick": {"selected_option": option}}},
                               user_id=ANA, private_metadata=view["private_metadata"], view_id=view["id"]),
    )  # fmt: skip
    assert json.loads(body)["response_action"] == "update", body
    test = RegressionTest.objects.get()
    assert (test.test_id, test.state) == (TEST_ID, "failing")

    # The reminder's own message is edited in place by a worker: who linked which test, and no buttons left.
    def settled() -> dict:
        message = fake_slack.message(dm, reminder.reply["ts"])
        return message if "Settled by Ana Ops at " in str(message.get("text", "")) else {}

    edited = wait_until(settled, timeout=WAIT, what="the reminder edited to settled", diagnostics=diagnostics)
    assert not [b for b in edited.get("blocks") or [] if b.get("type") == "actions"], edited

    # 6. The reminders go on while the test fails; CI uploads it passing: verified, and the loop stops.
    count = len(reminders())
    wait_until(lambda: len(reminders()) > count, timeout=WAIT, what="another reminder while the test fails")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    connection.request("POST", "/ci/junit/?branch=main&commit=c2&run_key=b2&complete=1", body=junit("passed"),
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"})  # fmt: skip
    assert connection.getresponse().status == 201
    test.refresh_from_db()
    assert test.state == "verified"
    verified_at, verified_clock = timezone.now(), time.monotonic()
    sweeps: set = set()

    def two_more_sweeps() -> bool:
        beat = Heartbeat.objects.filter(name=SWEEP_HEARTBEAT).values_list("last_success_at", flat=True).first()
        if beat and beat > verified_at:
            sweeps.add(beat)
        return len(sweeps) >= 2

    wait_until(two_more_sweeps, timeout=WAIT, what="two reminder sweeps after CI verified the test")
    time.sleep(2)
    late = [r for r in reminders() if r.at > verified_clock + 1.0]
    assert not late, f"reminded {len(late)} time(s) after CI verified the test\n{diagnostics()}"
