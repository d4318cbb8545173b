"""Two workers at once (PostgreSQL): the same declare handled concurrently acts once (BR-10)."""

import threading

import pytest
from django.db import connection

from incidents import cards, services
from incidents.models import Incident, TimelineEvent
from slackapp import inbound, payloads
from slackapp.models import InboundRequest
from tests.factories import MembershipFactory, ServiceFactory, TeamFactory, UserFactory

from .signing import block_actions, command_body, interactivity_body


@pytest.mark.django_db(transaction=True)
def test_br10_two_workers_handling_the_same_declare_at_once_declare_one_incident(slack_app, requires_postgres):
    team = TeamFactory(slug="payments")
    ada = UserFactory(username="ada", slack_user_id="U0000001")
    MembershipFactory(team=team, user=ada)
    ServiceFactory(slug="checkout", team=team)
    rows = []
    for n in range(2):  # two submits of the same line: two trigger ids, so two requests in the ledger
        body = command_body("declare sev1 checkout Checkout errors", response_url=slack_app.response_url(f"w{n}"))
        parsed = payloads.parse_command(body)
        rows.append(InboundRequest.objects.create(kind="command", key=parsed.key, name="declare",
                                                  slack_user_id="U0000001", payload=parsed.payload))  # fmt: skip
    results = run_at_once(rows)

    assert sorted(results) == ["done", "done"]
    incident = Incident.objects.get()
    texts = sorted(r.body["text"] for r in slack_app.responses())
    assert len(texts) == 2 and incident.public_id in texts[0] and incident.public_id in texts[1]
    assert sum("a moment ago" in t for t in texts) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_handling_a_double_clicked_resolve_at_once_resolve_once(slack_app, requires_postgres):
    """A double click on a card's Resolve (two action_ts) handled by two workers at the same moment: the button's
    claim (a unique row) makes them take turns; one resolves, the other hears who clicked first."""
    team = TeamFactory(slug="payments")
    ana = UserFactory(username="ana", first_name="Ana", last_name="Ops", slack_user_id="U0000001")
    MembershipFactory(team=team, user=ana)
    incident = services.incident_declare(title="Checkout 5xx", severity=2, actor=ana, source="web", owning_team=team)
    rows = []
    for n in range(2):
        payload = block_actions(cards.RESOLVE, value=str(incident.pk), channel_id="C0000001", message_ts="1700.000001",
                                response_url=slack_app.response_url(f"w{n}"))  # fmt: skip
        parsed = payloads.parse_interactivity(interactivity_body(payload))
        rows.append(InboundRequest.objects.create(kind="action", key=parsed.key, name=cards.RESOLVE,
                                                  slack_user_id="U0000001", payload=parsed.payload))  # fmt: skip
    assert rows[0].key != rows[1].key
    results = run_at_once(rows)

    assert sorted(results) == ["done", "done"]
    assert TimelineEvent.objects.filter(incident=incident, data__to="resolved").count() == 1
    [said] = [r.body["text"] for r in slack_app.responses()]
    assert said.startswith(f"{incident.public_id} was already resolved by Ana Ops at ")


def run_at_once(rows: list[InboundRequest]) -> list[str]:
    """``inbound.run`` of each row in its own thread and database connection, released together by a barrier, as
    two workers handling them at the same moment would; the outcomes, in the order they finished."""
    barrier = threading.Barrier(len(rows))
    results = []

    def worker(pk):
        try:
            barrier.wait()
            results.append(inbound.run(pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(row.pk,)) for row in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
