"""Incident announcements cross the broker for real: alert webhook -> Redis -> a ``celery worker`` -> Slack.

The webhook request only records the announcement (and, for a resolution, the
post-mortem draft it owes) and queues a task after commit; a real worker
subprocess (``tests/e2e/workers.py``) plans and posts it through slack_sdk to
the local Slack stand-in: on Slack, the incident's card, one message per
conversation, edited in place later. When the broker is unreachable at commit
time the webhook still answers 200, and the side-effect sweep later sends the
announcement and the card's edit, once, and has the draft created.

Skips without PostgreSQL and Redis; fails instead when SREDESK_REQUIRE_SERVICES=1 (CI).
"""

import json
import logging

import pytest
from django.test import Client
from django.utils import timezone

from incidents import effects
from incidents.models import Incident, Integration, TimelineEvent
from ownership.models import Responsibility
from postmortems.models import PostMortem
from sredesk.celery import app as celery_app
from tests.e2e.workers import WAIT
from tests.factories import ServiceFactory, TeamFactory, UserFactory
from tests.fakes import wait_until

pytestmark = pytest.mark.e2e

CHANNEL, PAGED = "C0E2ETEAM", "U0E2EPAGED"
UNREACHABLE_BROKER = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there


def alert(status: str) -> bytes:
    return json.dumps(
        {
            "version": "4",
            "status": status,
            "receiver": "sredesk",
            "groupKey": '{}:{alertname="CheckoutErrors"}',
            "truncatedAlerts": 0,
            "groupLabels": {"alertname": "CheckoutErrors"},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "alerts": [
                {
                    "status": status,
                    "labels": {"alertname": "CheckoutErrors", "service": "checkout", "severity": "critical"},
                    "annotations": {"summary": "Checkout 5xx above 5%"},
                    "startsAt": "2026-11-30T08:00:00Z",
                    "endsAt": "2026-11-30T08:20:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
                    "fingerprint": "e2e0000000000001",
                }
            ],
        }
    ).encode()


@pytest.fixture
def publish_to_broker():
    """Tasks this test process sends go to ``url`` (a real broker) instead of running in-process; restored after."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_write_url

    def fresh_producer_pool() -> None:
        # Celery keeps its producer pool (and the broker URL it was made for) once made; start a new one.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    def use(url: str) -> None:
        conf.task_always_eager = False
        conf.broker_write_url = url
        fresh_producer_pool()

    yield use
    conf.task_always_eager, conf.broker_write_url = saved
    fresh_producer_pool()


def test_a_real_worker_announces_what_the_webhook_recorded_and_recovers_what_the_broker_lost(
    celery_workers, fake_slack, publish_to_broker, caplog
):
    team = TeamFactory(slack_channel=CHANNEL)
    service = ServiceFactory(slug="checkout", team=team)
    Responsibility.objects.create(
        service=service, role=Responsibility.Role.PAGED, user=UserFactory(slack_user_id=PAGED)
    )
    integration = Integration(kind=Integration.Kind.ALERTMANAGER, name="e2e alertmanager")
    token = integration.set_new_token()
    integration.save()
    worker = celery_workers.start_ready("announcer")
    web = Client()

    def post(body: bytes):
        return web.post(
            integration.webhook_path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )

    def cards_say(status: str, method: str = "chat.postMessage") -> list:
        ok = [r for r in fake_slack.calls(method) if r.status == 200]
        return [r for r in ok if r.text.split("\n")[1].startswith(status)]

    def diagnostics() -> str:
        posts = "\n".join(f"  {r.status} {r.channel}: {r.text[:120]!r}" for r in fake_slack.requests)
        return f"Slack saw:\n{posts}\n{worker.log_tail()}"

    # 1. The alert fires: the webhook declares the incident; the worker announces it to the team and the paged person.
    publish_to_broker(celery_workers.broker_url)
    assert post(alert("firing")).json()["alerts"]["new"] == 1
    incident = Incident.objects.get()
    wait_until(
        lambda: {r.channel for r in cards_say("Triggered")} == {CHANNEL, PAGED},
        timeout=WAIT,
        what="the incident's card on Slack, in the team channel and to the paged person",
        diagnostics=diagnostics,
    )
    assert all(r.text.startswith(f"{incident.public_id} (SEV1) Checkout 5xx above 5%") for r in cards_say("Triggered"))

    # 2. The broker is down when the alert resolves: the webhook still answers, the announcement waits.
    publish_to_broker(UNREACHABLE_BROKER)
    with caplog.at_level(logging.WARNING, logger="incidents.effects"):
        answer = post(alert("resolved"))
    assert answer.status_code == 200 and answer.json()["alerts"]["resolved"] == 1
    assert "Side effect not queued (broker down)" in caplog.text
    pending = TimelineEvent.objects.filter(incident=incident, announcement="resolved")
    assert pending.get().announced_at is None
    assert not PostMortem.objects.exists()

    # 3. The broker is back: beat's sweep queues all three again (the draft once its first wait is over): the
    # announcement, the cards' edit and the draft; each is done once.
    publish_to_broker(celery_workers.broker_url)
    later = timezone.now() + effects.RETRY_BASE
    assert effects.side_effects_recover(now=later) == 3
    conversations = {(card.conversation, card.ts) for card in incident.cards.all()}
    wait_until(
        lambda: (
            pending.get().announced_at is not None
            and {(r.channel, r.body["ts"]) for r in cards_say("Resolved", "chat.update")} == conversations
            and PostMortem.objects.filter(incident=incident).exists()
        ),
        timeout=WAIT,
        what="the cards edited to resolved and the post-mortem draft after the sweep",
        diagnostics=diagnostics,
    )
    assert effects.side_effects_recover(now=later) == 0
    assert len(fake_slack.posts()) == 2 and len(cards_say("Resolved", "chat.update")) == 2
