"""``/sredesk`` crosses the broker for real: signed command -> door (records, one LPUSH) -> a ``celery worker`` ->
the domain services -> the reply at the command's ``response_url`` on the local Slack.

The door's publish (``slackapp.ledger.publish``) bypasses ``apply_async``'s machinery; this proves a real worker
takes its message and runs the handler once, the declare repeated within the window included (BR-10).

Skips without PostgreSQL and Redis; fails instead when SREDESK_REQUIRE_SERVICES=1 (CI).
"""

import pytest
from django.test import Client

from incidents.models import Incident
from slackapp import ledger
from slackapp.models import InboundRequest
from tests.e2e.test_announcements import publish_to_broker  # noqa: F401 (fixture)
from tests.e2e.workers import WAIT
from tests.factories import MembershipFactory, ServiceFactory, TeamFactory, UserFactory
from tests.fakes import wait_until
from tests.slackapp.signing import SECRET, signed_command

pytestmark = pytest.mark.e2e


def test_a_real_worker_runs_what_the_door_published(celery_workers, fake_slack, publish_to_broker, settings):  # noqa: F811
    settings.SLACK_SIGNING_SECRET = SECRET
    settings.SREDESK_SLACK_RESPONSE_URL_PREFIXES = [fake_slack.url_root + "response/"]
    team = TeamFactory(slug="payments")
    MembershipFactory(team=team, user=UserFactory(username="ada", slack_user_id="U0E2EADA"))
    ServiceFactory(slug="checkout", team=team)
    worker = celery_workers.start_ready(
        "slack", env={"SREDESK_SLACK_RESPONSE_URL_PREFIXES": fake_slack.url_root + "response/"}
    )
    publish_to_broker(celery_workers.broker_url)
    web = Client()

    def command(text: str, name: str) -> list:
        answer = web.post(
            "/slack/commands", **signed_command(text, user_id="U0E2EADA", response_url=fake_slack.response_url(name))
        )
        assert answer.status_code == 200 and answer.json()["response_type"] == "ephemeral"
        return wait_until(
            lambda: fake_slack.responses(name), timeout=WAIT, what=f"the reply to {text!r}", diagnostics=worker.log_tail
        )

    try:
        [declared] = command("declare sev2 checkout Checkout 5xx spike", "declare")
        [repeated] = command("declare sev2 checkout checkout 5xx  spike", "again")
        incident = Incident.objects.get()
        [acked] = command(f"ack {incident.public_id}", "ack")
    finally:
        ledger._forget_channel()

    incident.refresh_from_db()
    assert incident.public_id in declared.body["text"] and declared.body["response_type"] == "in_channel"
    assert "a moment ago" in repeated.body["text"]
    assert incident.status == "acknowledged" and "acknowledged" in acked.body["text"]
    assert set(InboundRequest.objects.values_list("status", flat=True)) == {"done"}
