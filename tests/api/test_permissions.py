"""Who may write what: each role x each write endpoint -> status (reads are for everyone signed in)."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.models import Incident
from postmortems.models import PostMortem, RegressionTest
from tests.api.clients import client_for
from tests.factories import ActionItemFactory, RegressionTestFactory

ROLES = ["anonymous", "outsider", "member", "commander", "staff"]
WRITERS = {"member", "commander", "staff"}
TEAM_ONLY = {"member", "staff"}  # services belong to a team: an incident commander from outside is not in it


def _resolved(world):
    Incident.objects.filter(pk=world["incident"].pk).update(
        status="resolved", mitigated_at=timezone.now(), resolved_at=timezone.now()
    )


def _in_review(world):
    PostMortem.objects.filter(pk=world["postmortem"].pk).update(status="in_review")


def _completable(world):
    pm = world["postmortem"]
    PostMortem.objects.filter(pk=pm.pk).update(status="published", published_at=timezone.now())
    RegressionTestFactory(postmortem=pm, repository=world["repository"], state=RegressionTest.State.VERIFIED)


def _item(world):
    return ActionItemFactory(postmortem=world["postmortem"]).pk


def _test(world):
    return RegressionTestFactory(postmortem=world["postmortem"], repository=world["repository"]).pk


def inc(world):
    return f"/api/v1/incidents/{world['incident'].pk}"


def pm(world):
    return f"/api/v1/postmortems/{world['postmortem'].pk}"


# (name, method, url(world, setup result), body(world), setup(world), who may, success status)
CASES = [
    ("declare", "post", lambda w, s: "/api/v1/incidents/", lambda w: {"title": "Checkout down"}, None, None, 201),
    ("edit incident", "patch", lambda w, s: f"{inc(w)}/", lambda w: {"title": "New title"}, None, WRITERS, 200),
    ("acknowledge", "post", lambda w, s: f"{inc(w)}/acknowledge/", lambda w: {}, None, WRITERS, 200),
    ("mitigate", "post", lambda w, s: f"{inc(w)}/mitigate/", lambda w: {}, None, WRITERS, 200),
    ("resolve", "post", lambda w, s: f"{inc(w)}/resolve/", lambda w: {}, None, WRITERS, 200),
    ("reopen", "post", lambda w, s: f"{inc(w)}/reopen/", lambda w: {}, _resolved, WRITERS, 200),
    ("note", "post", lambda w, s: f"{inc(w)}/timeline/", lambda w: {"text": "Rolled back."}, None, WRITERS, 201),
    (
        "edit service",
        "patch",
        lambda w, s: f"/api/v1/services/{w['service'].pk}/",
        lambda w: {"runbook_url": "https://runbooks.example.test/checkout"},
        None,
        TEAM_ONLY,
        200,
    ),
    (
        "edit post-mortem",
        "patch",
        lambda w, s: f"{pm(w)}/",
        lambda w: {"impact": "5% of checkouts"},
        None,
        WRITERS,
        200,
    ),
    ("submit for review", "post", lambda w, s: f"{pm(w)}/submit_for_review/", lambda w: {}, None, WRITERS, 200),
    ("request changes", "post", lambda w, s: f"{pm(w)}/request_changes/", lambda w: {}, _in_review, WRITERS, 200),
    ("publish", "post", lambda w, s: f"{pm(w)}/publish/", lambda w: {}, None, WRITERS, 200),
    ("complete", "post", lambda w, s: f"{pm(w)}/complete/", lambda w: {}, _completable, WRITERS, 200),
    (
        "snooze",
        "post",
        lambda w, s: f"{pm(w)}/snooze/",
        lambda w: {"until": (timezone.now() + dt.timedelta(days=1)).isoformat(), "reason": "On leave"},
        None,
        WRITERS,
        200,
    ),
    (
        "add action item",
        "post",
        lambda w, s: "/api/v1/action-items/",
        lambda w: {"postmortem": w["postmortem"].pk, "title": "Add a retry budget"},
        None,
        WRITERS,
        201,
    ),
    (
        "edit action item",
        "patch",
        lambda w, s: f"/api/v1/action-items/{s}/",
        lambda w: {"status": "done"},
        _item,
        WRITERS,
        200,
    ),
    ("delete action item", "delete", lambda w, s: f"/api/v1/action-items/{s}/", lambda w: None, _item, WRITERS, 204),
    (
        "link regression test",
        "post",
        lambda w, s: "/api/v1/regression-tests/",
        lambda w: {
            "postmortem": w["postmortem"].pk,
            "repository": w["repository"].pk,
            "test_id": "tests/payments/test_retry.py::test_timeout_is_retried",
        },
        None,
        WRITERS,
        201,
    ),
    (
        "unlink regression test",
        "delete",
        lambda w, s: f"/api/v1/regression-tests/{s}/",
        lambda w: None,
        _test,
        WRITERS,
        204,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "url", "body", "setup", "writers", "ok"), CASES, ids=[c[0] for c in CASES])
def test_write_permission_matrix(world, role, name, method, url, body, setup, writers, ok):
    state = setup(world) if setup else None
    client = client_for(None if role == "anonymous" else world[role])
    response = getattr(client, method)(url(world, state), body(world), format="json")
    if role == "anonymous":
        expected = 401
    elif writers is None or role in writers:  # None: anyone signed in (declaring an incident)
        expected = ok
    else:
        expected = 403
    assert response.status_code == expected, response.content
    if expected >= 400:
        error = response.json()["error"]
        assert error["code"] in ("not_authenticated", "permission_denied")
        assert error["message"]


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
