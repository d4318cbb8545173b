"""Reads are for everyone signed in; the owner of a post-mortem may edit it; a revoked token is refused.

Who may write what at every door (web and API x every kind of person) is
tests/ownership/test_permission_matrix.py.
"""

import pytest

from postmortems.models import PostMortem
from tests.api.clients import client_for


def inc(world):
    return f"/api/v1/incidents/{world['incident'].pk}"


def pm(world):
    return f"/api/v1/postmortems/{world['postmortem'].pk}"


@pytest.mark.parametrize("role", ["outsider", "member", "commander", "staff"])
def test_everyone_signed_in_reads(world, role):
    client = client_for(world[role])
    for url in [f"{inc(world)}/", f"{pm(world)}/", f"/api/v1/services/{world['service'].pk}/", "/api/v1/incidents/"]:
        assert client.get(url).status_code == 200, url


def test_postmortem_owner_from_another_team_may_edit_it(world):
    PostMortem.objects.filter(pk=world["postmortem"].pk).update(owner=world["outsider"])
    response = client_for(world["outsider"]).patch(f"{pm(world)}/", {"summary": "Owner's words"}, format="json")
    assert response.status_code == 200
    assert response.json()["summary"] == "Owner's words"


def test_a_revoked_token_is_401(world):
    from ownership.services import api_token_revoke

    client = client_for(world["member"])
    api_token_revoke(user=world["member"])
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_refused_declaration_says_why_as_the_web_form_does(world):
    """The service's sentence, not DRF's generic 'You do not have permission', and the field it is about."""
    body = {"title": "Mine now", "primary_service": world["service"].pk, "commander": world["outsider"].pk}

    response = client_for(world["outsider"]).post("/api/v1/incidents/", body, format="json")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert error["message"].startswith("Only members of Payments and staff may appoint the commander")
    assert error["fields"] == {"commander": [error["message"]]}
