"""The buttons on an incident's Slack card, clicked through the signed interactivity door: Acknowledge and
Resolve through the same services and write rule as the web (source slack), acting once however often clicked
(FIELD-CASES BR-15), and Add note's modal opened with a loading view before any slow work (BR-31)."""

import time

import pytest

from incidents import cards, moves, services
from incidents.models import Incident, IncidentCard, Source, TimelineEvent
from notifications import memory
from tests.api.clients import client_for
from tests.factories import MembershipFactory, ServiceFactory, TeamFactory, UserFactory

from .signing import signed_action, signed_view_submission

INTERACTIVITY = "/slack/interactivity"


@pytest.fixture
def world(slack_app, django_capture_on_commit_callbacks):
    team = TeamFactory(name="Payments", slack_channel="C0000001")
    ana = MembershipFactory(
        team=team, user=UserFactory(username="ana", first_name="Ana", last_name="Ops", slack_user_id="U0000001")
    ).user
    bob = MembershipFactory(
        team=team, user=UserFactory(username="bob", first_name="Bob", last_name="Dev", slack_user_id="U0000002")
    ).user
    UserFactory(username="eve", slack_user_id="U0000003")  # not in the team
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_declare(
            title="Checkout 5xx", severity=1, actor=ana, source=Source.WEB, primary_service=ServiceFactory(team=team)
        )
    card = IncidentCard.objects.get(incident=incident, address="C0000001")
    return {"incident": incident, "ana": ana, "bob": bob, "card": card, "slack": slack_app}


class Clicks:
    """Clicks buttons on the card through the door; reads the ephemeral replies the worker sent."""

    def __init__(self, client, capture, world):
        self.client, self.capture, self.world, self.n = client, capture, world, 0

    def click(self, action_id: str, *, user: str = "U0000001", value: str | None = None, **fields):
        self.n += 1
        name = f"click{self.n}"
        card = self.world["card"]
        with self.capture(execute=True):
            answer = self.client.post(
                INTERACTIVITY,
                **signed_action(
                    action_id,
                    value=str(self.world["incident"].pk) if value is None else value,
                    user_id=user,
                    channel_id=card.conversation,
                    message_ts=card.ts,
                    response_url=self.world["slack"].response_url(name),
                    **fields,
                ),
            )
        assert answer.status_code == 200, answer.content
        return [r.body for r in self.world["slack"].responses(name)]


@pytest.fixture
def clicks(world, client, django_capture_on_commit_callbacks):
    return Clicks(client, django_capture_on_commit_callbacks, world)


def test_br15_acknowledge_clicked_twice_and_by_a_colleague_acts_once(world, clicks):
    """BR-15: two clicks by U0000001 300 ms apart (two trigger ids), one by U0000002 later: one acknowledgement,
    the first click's person and time kept, one timeline entry; later clicks hear who got there first."""
    incident = world["incident"]
    first = clicks.click(cards.ACK)
    time.sleep(0.3)
    second = clicks.click(cards.ACK)
    third = clicks.click(cards.ACK, user="U0000002")

    incident.refresh_from_db()
    assert (incident.status, incident.acknowledged_by) == ("acknowledged", world["ana"])
    acks = TimelineEvent.objects.filter(incident=incident, kind="status_change", data__to="acknowledged")
    assert [(e.actor, e.source) for e in acks] == [(world["ana"], "slack")]
    assert first == []
    when = f"{incident.acknowledged_at:%Y-%m-%d %H:%M} UTC"
    expected = f"{incident.public_id} was already acknowledged by Ana Ops at {when}."
    assert [r["text"] for r in second] == [expected] and [r["text"] for r in third] == [expected]
    assert all(r["response_type"] == "ephemeral" for r in second + third)
    # The card was edited once, in place: Acknowledge gone, who acknowledged shown.
    [message] = [m for p, m in memory.updates if p.ref == world["card"].ts and p.conversation == "C0000001"]
    assert message.text.splitlines()[1].startswith("Acknowledged by Ana Ops")
    assert [b.label for b in message.buttons] == ["Resolve", "Add note", "Open"]


def test_resolve_then_a_late_resolve_hears_who_resolved(world, clicks):
    incident = world["incident"]
    assert clicks.click(cards.RESOLVE, user="U0000002") == []
    late = clicks.click(cards.RESOLVE)
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert [r["text"] for r in late] == [
        f"{incident.public_id} was already resolved by Bob Dev at {incident.resolved_at:%Y-%m-%d %H:%M} UTC."
    ]
    assert TimelineEvent.objects.filter(incident=incident, data__to="resolved").count() == 1


def test_a_person_outside_the_team_is_refused_with_a_sentence(world, clicks):
    replies = clicks.click(cards.ACK, user="U0000003")
    assert Incident.objects.get().status == "triggered"
    [reply] = replies
    assert "Only members of the owning team" in reply["text"] and reply["response_type"] == "ephemeral"


def test_a_forged_value_is_refused_with_a_sentence(world, clicks):
    [reply] = clicks.click(cards.ACK, value="1 OR 1=1")
    assert "whole number" in reply["text"] and Incident.objects.get().status == "triggered"


def test_open_is_a_link_and_does_nothing(world, clicks):
    assert clicks.click(cards.OPEN) == []
    assert Incident.objects.get().version == world["incident"].version


def test_br31_add_note_opens_a_loading_modal_first_then_fills_it_and_the_note_is_added(world, clicks, client):
    """BR-31: the Add note button (``incident.note.open``) opens a small "Loading…" modal with the trigger id
    before anything slow; the form is put in with views.update (the returned view id and hash)."""
    fake = world["slack"]
    clicks.click(cards.NOTE, trigger_id="1111.2222.aaaa")

    [opened] = fake.calls("views.open")
    [updated] = fake.calls("views.update")
    assert opened.body["trigger_id"] == "1111.2222.aaaa" and "Loading" in str(opened.body["view"])
    assert opened.at < updated.at
    assert updated.body["view_id"] == opened.reply["view"]["id"]
    assert updated.body["hash"] == opened.reply["view"]["hash"]
    view = updated.body["view"]
    assert view["callback_id"] == "incident.note" and view["private_metadata"] == str(world["incident"].pk)

    empty = client.post(
        INTERACTIVITY,
        **signed_view_submission(
            "incident.note", {"note": {"text": {"value": "  "}}}, private_metadata=view["private_metadata"]
        ),
    )
    assert empty.json() == {"response_action": "errors", "errors": {"note": "A note needs some text."}}
    ok = client.post(
        INTERACTIVITY,
        **signed_view_submission(
            "incident.note",
            {"note": {"text": {"value": "Rolled back *v42* <!channel>"}}},
            private_metadata=view["private_metadata"],
            view_hash="2.hash",
        ),
    )
    assert ok.status_code == 200 and "errors" not in ok.json()
    note = TimelineEvent.objects.get(incident=world["incident"], kind="note")
    assert (note.message, note.actor, note.source) == ("Rolled back *v42* <!channel>", world["ana"], "slack")


def test_br31_expired_trigger_adds_nothing_and_says_try_again(world, clicks):
    world["slack"].reply_next_for("views.open", body={"ok": False, "error": "expired_trigger_id"})
    replies = clicks.click(cards.NOTE)
    assert not world["slack"].calls("views.update")
    assert any("try again" in r["text"].lower() for r in replies)
    assert not TimelineEvent.objects.filter(kind="note").exists()


def test_add_note_for_someone_who_may_not_write_says_so_in_the_modal(world, clicks):
    clicks.click(cards.NOTE, user="U0000003")
    [updated] = world["slack"].calls("views.update")
    assert "You may not write to" in str(updated.body["view"]) and "callback_id" not in updated.body["view"]


def test_a_double_clicked_resolve_acts_once_even_when_the_incident_moved_in_between(world, clicks):
    """Two clicks of Resolve on the same message seconds apart (two action_ts) act once, even when the incident
    was re-opened between them (the state check alone would resolve it again): the second hears who clicked first."""
    incident = world["incident"]
    assert clicks.click(cards.RESOLVE) == []
    moves.incident_move(verb="reopen", incident_id=incident.pk, actor=world["bob"], source=Source.WEB)
    second = clicks.click(cards.RESOLVE)

    incident.refresh_from_db()
    assert incident.status == "triggered"
    assert TimelineEvent.objects.filter(incident=incident, data__to="resolved").count() == 1
    [reply] = second
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("Ana Ops clicked Resolve on this message first, at ")
    assert reply["text"].endswith(": your click did nothing.")


def test_a_click_after_the_double_click_window_acts(world, clicks, settings):
    settings.SREDESK_SLACK_CLICK_WINDOW_SECONDS = 0
    incident = world["incident"]
    assert clicks.click(cards.RESOLVE) == []
    moves.incident_move(verb="reopen", incident_id=incident.pk, actor=world["bob"], source=Source.WEB)
    assert clicks.click(cards.RESOLVE) == []
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert TimelineEvent.objects.filter(incident=incident, data__to="resolved").count() == 2


def test_a_repeated_click_answers_as_the_web_and_the_api_do(world, clicks, settings):
    """A Resolve click after the window on a resolved incident hears ``incidents.moves``' sentence, the API's hint."""
    settings.SREDESK_SLACK_CLICK_WINDOW_SECONDS = 0
    incident = world["incident"]
    clicks.click(cards.RESOLVE, user="U0000002")
    [late] = clicks.click(cards.RESOLVE)
    api = client_for(world["ana"]).post(f"/api/v1/incidents/{incident.pk}/resolve/", {}, format="json")
    assert late["text"] == api.json()["hint"] and api.json()["changed"] is False
    assert late["text"].startswith(f"{incident.public_id} was already resolved by Bob Dev at ")
