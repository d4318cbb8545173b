"""The API writes what it reads (issue 15 item 8): objects by id or by the slug / username / name it shows,
timeline notes as ``message`` both ways, and a transition that changed nothing says so, and who was first."""

import pytest

from incidents.models import Incident
from postmortems.models import ActionItem, RegressionTest
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_incident_is_declared_with_services_team_and_commander_named_as_the_api_shows_them(api, world):
    commander = world["commander"]

    response = api.post(
        "/api/v1/incidents/",
        {"title": "Checkout errors", "primary_service": "checkout", "services": ["checkout"],
         "owning_team": "payments", "commander": commander.username},
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["primary_service"]["slug"] == "checkout" and [s["slug"] for s in body["services"]] == ["checkout"]
    assert body["owning_team"]["slug"] == "payments" and body["commander"]["username"] == commander.username
    by_id = api.post("/api/v1/incidents/", {"title": "By id", "primary_service": world["service"].pk}, format="json")
    assert by_id.status_code == 201 and by_id.json()["primary_service"]["slug"] == "checkout"


@pytest.mark.parametrize(
    ("field", "value"), [("primary_service", "no-such-service"), ("owning_team", "nobody"), ("commander", "ghost")]
)
def test_an_unknown_name_is_a_400_on_its_field(api, field, value):
    response = api.post("/api/v1/incidents/", {"title": "x", field: value}, format="json")

    assert response.status_code == 400
    assert repr(value) in response.json()["error"]["fields"][field][0]


def test_roles_responders_and_owners_by_username(api, world):
    responder = UserFactory(username="rosa")
    url = f"/api/v1/incidents/{world['incident'].pk}/"

    body = api.patch(url, {"communications_lead": "lead", "responders": ["rosa", world["member"].pk]}, format="json")

    assert body.status_code == 200, body.json()
    assert body.json()["communications_lead"]["username"] == "lead"
    assert {r["username"] for r in body.json()["responders"]} == {responder.username, "member"}
    item = api.post(
        "/api/v1/action-items/", {"postmortem": world["postmortem"].pk, "title": "Budget", "owner": "lead"},
        format="json",
    )  # fmt: skip
    assert item.status_code == 201 and ActionItem.objects.get().owner == world["lead"]
    linked = api.post(
        "/api/v1/regression-tests/",
        {"postmortem": world["postmortem"].pk, "repository": "acme/payments", "test_id": "tests/test_pay.py::test_x"},
        format="json",
    )
    assert linked.status_code == 201, linked.json()
    assert RegressionTest.objects.get().repository == world["repository"]


def test_a_note_is_written_as_message_as_it_is_read(api, world):
    url = f"/api/v1/incidents/{world['incident'].pk}/timeline/"

    written = api.post(url, {"message": "Rolled back the canary."}, format="json")
    old_name = api.post(url, {"text": "Still accepted for one release."}, format="json")

    assert written.status_code == old_name.status_code == 201
    assert written.json()["message"] == "Rolled back the canary."
    assert old_name.json()["message"] == "Still accepted for one release."
    assert api.post(url, {"message": "a", "text": "b"}, format="json").status_code == 400
    missing = api.post(url, {}, format="json")
    assert missing.status_code == 400 and "message" in missing.json()["error"]["fields"]
    messages = [e["message"] for e in api.get(url).json()["results"]]
    assert "Rolled back the canary." in messages


def test_a_repeated_transition_says_nothing_changed_and_who_was_first(api, world):
    url = f"/api/v1/incidents/{world['incident'].pk}/acknowledge/"
    first = api.post(url, {}, format="json").json()

    again = api.post(url, {}, format="json")

    assert first["changed"] is True and first["hint"] == ""
    assert again.status_code == 200
    body = again.json()
    assert body["changed"] is False and body["status"] == "acknowledged"
    member = world["member"]
    assert body["hint"].startswith(f"{world['incident'].public_id} was already acknowledged by {member} at ")
    assert Incident.objects.get(pk=world["incident"].pk).timeline.filter(data__to="acknowledged").count() == 1
    resolved = api.post(f"/api/v1/incidents/{world['incident'].pk}/resolve/", {}, format="json").json()
    assert resolved["changed"] is True
    assert api.post(f"/api/v1/incidents/{world['incident'].pk}/resolve/", {}, format="json").json()["hint"]


@pytest.mark.parametrize("value", ["bad\x00value", "x" * 301])
def test_a_name_that_cannot_be_text_is_a_400_on_its_field(api, value):
    response = api.post("/api/v1/incidents/", {"title": "x", "commander": value}, format="json")

    assert response.status_code == 400 and "commander" in response.json()["error"]["fields"]


def test_a_repeated_post_mortem_move_says_nothing_changed_and_who_was_first(world):
    from tests.api.clients import client_for

    lead = client_for(world["lead"])
    url = f"/api/v1/postmortems/{world['postmortem'].pk}/publish/"
    first = lead.post(url, {}, format="json").json()

    again = lead.post(url, {}, format="json")

    assert first["changed"] is True and first["hint"] == "" and first["status"] == "published"
    assert again.status_code == 200 and again.json()["changed"] is False
    assert again.json()["hint"].startswith(f"The post-mortem was already published by {world['lead']} at ")
