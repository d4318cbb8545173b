"""Every write of the web UI and of the REST API x every kind of person: the answer of each cell is written below.

The rule is ``ownership.permissions`` (README "Who may write"). A refused cell
must also have stored nothing: the rows a write could touch are compared
before and after (``stored``); an allowed cell must have changed them, so
each "yes" is a write that really happened.

Columns: ``member`` of the owning team; ``outsider``, a member of another
team; ``nobody``, a person in no team; ``commander``, in no team, appointed
incident commander by a member; ``staff``; ``anonymous``. Cells: the HTTP
status expected. Web writes answer 302 (back to the page) when done, 403 when
refused, and send an anonymous visitor to the login page (302 there, checked
separately); the API answers 200/201/204, 403, and 401 without credentials.
"""

import datetime as dt

import pytest
from django.utils import timezone

from incidents import services as incident_services
from incidents.models import Incident, Source, TimelineEvent
from ownership.models import Membership, Service
from postmortems.models import ActionItem, PostMortem, RegressionTest
from slos.models import SLO, Sample, bucket_floor
from tests.api.clients import client_for
from tests.factories import (
    ActionItemFactory,
    IncidentFactory,
    MembershipFactory,
    PostMortemFactory,
    RegressionTestFactory,
    RepositoryFactory,
    ServiceFactory,
    SLOFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("member", "outsider", "nobody", "commander", "staff", "anonymous")


@pytest.fixture
def world():
    """The Payments team (a member, a lead) owns a service, an open incident and a resolved incident's draft
    post-mortem (owned by the lead); Search has a member; a person in no team was appointed commander of both
    incidents by the member; staff is staff."""
    team = TeamFactory(slug="payments", name="Payments")
    member = MembershipFactory(team=team, user=UserFactory(username="member")).user
    lead = MembershipFactory(team=team, user=UserFactory(username="lead"), role=Membership.Role.LEAD).user
    outsider = MembershipFactory(team=TeamFactory(slug="search"), user=UserFactory(username="outsider")).user
    service = ServiceFactory(team=team, slug="checkout", name="Checkout")
    repository = RepositoryFactory(name="acme/payments")
    service.repositories.add(repository)
    incident = IncidentFactory(owning_team=team, primary_service=service, severity=2, commander=None)
    incident.services.add(service)
    postmortem = PostMortemFactory(
        incident=IncidentFactory(owning_team=team, primary_service=service, resolved=True, commander=None),
        owner=lead,
        due_at=timezone.now() + dt.timedelta(days=5),
    )
    commander = UserFactory(username="commander")
    for pk in (incident.pk, postmortem.incident_id):
        incident_services.incident_assign_role(
            incident_id=pk, role="commander", user=commander, actor=member, source=Source.WEB
        )
    return {
        "team": team,
        "member": member,
        "lead": lead,
        "outsider": outsider,
        "nobody": UserFactory(username="nobody"),
        "commander": commander,
        "staff": UserFactory(username="staff", is_staff=True),
        "service": service,
        "repository": repository,
        "incident": incident,
        "postmortem": postmortem,
    }


def stored() -> tuple:
    """Every row a write of the matrix could touch (``updated_at`` included, so a no-op save shows too)."""
    return (
        list(Incident.objects.order_by("pk").values()),
        list(Incident.responders.through.objects.order_by("pk").values_list("incident_id", "user_id")),
        list(TimelineEvent.objects.order_by("pk").values_list("pk", flat=True)),
        list(PostMortem.objects.order_by("pk").values()),
        list(ActionItem.objects.order_by("pk").values()),
        list(RegressionTest.objects.order_by("pk").values()),
        list(Service.objects.order_by("pk").values()),
        list(SLO.objects.order_by("pk").values()),
        list(Sample.objects.order_by("pk").values()),
    )


# --- set-ups: put the world in the state a write needs; return what the URL needs ------------------------


def _resolved(w):
    Incident.objects.filter(pk=w["incident"].pk).update(
        status="resolved", mitigated_at=timezone.now(), resolved_at=timezone.now()
    )


def _in_review(w):
    PostMortem.objects.filter(pk=w["postmortem"].pk).update(status="in_review")


def _declined(w):
    PostMortem.objects.filter(pk=w["postmortem"].pk).update(
        status="declined", declined_at=timezone.now(), decline_reason="Flapping alert"
    )


def _completable(w):
    PostMortem.objects.filter(pk=w["postmortem"].pk).update(status="published", published_at=timezone.now())
    RegressionTestFactory(postmortem=w["postmortem"], repository=w["repository"], state=RegressionTest.State.VERIFIED)


def _item(w):
    return ActionItemFactory(postmortem=w["postmortem"], title="Add a retry budget").pk


def _test(w):
    return RegressionTestFactory(postmortem=w["postmortem"], repository=w["repository"]).pk


def _inc(w):
    return w["incident"].pk


def _slo(w):
    return SLOFactory(service=w["service"], slug="checkout-availability").pk


def _pm(w):
    return w["postmortem"].pk


OPENSLO = """apiVersion: openslo/v1
kind: SLO
metadata: {name: latency}
spec:
  service: checkout
  indicator: {spec: {ratioMetric: {good: {metricSource: {type: sredesk, spec: {pushed: good}}},
                                  total: {metricSource: {type: sredesk, spec: {pushed: total}}}}}}
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
"""
SOON = lambda: (timezone.localtime(timezone.now()) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")  # noqa: E731
TEST_ID = "tests/payments/test_retry.py::test_timeout_is_retried"
SECTIONS = ("summary", "impact", "trigger", "root_cause", "detection", "resolution", "went_well", "went_wrong",
            "got_lucky", "timeline")  # fmt: skip

# --- the web UI: (write, url(w, s), form(w, s), set-up, "member outsider nobody commander staff") ----------------
# anonymous is always sent to the login page (test_web_anonymous_is_sent_to_sign_in).
INCIDENT_WRITERS = "302 403 403 302 302"
WEB = [
    ("declare", lambda w, s: "/incidents/declare/", lambda w, s: {"title": "Checkout down", "severity": 2,
     "primary_service": w["service"].pk}, None, "302 302 302 302 302"),
    ("declare naming oneself commander", lambda w, s: "/incidents/declare/", lambda w, s: {"title": "Mine now",
     "severity": 2, "primary_service": w["service"].pk, "commander": w["_actor"].pk}, None, "302 403 403 403 302"),
    ("note", lambda w, s: f"/incidents/{_inc(w)}/notes/add/", lambda w, s: {"text": "Rolled back 4.2"}, None,
     INCIDENT_WRITERS),
    ("severity", lambda w, s: f"/incidents/{_inc(w)}/severity/", lambda w, s: {"severity": 1}, None,
     INCIDENT_WRITERS),
    ("make oneself commander", lambda w, s: f"/incidents/{_inc(w)}/roles/", lambda w, s: {"role": "commander",
     "user": w["_actor"].pk if w["_actor"] != w["commander"] else ""}, None, INCIDENT_WRITERS),
    ("communications lead", lambda w, s: f"/incidents/{_inc(w)}/roles/", lambda w, s: {
     "role": "communications_lead", "user": w["lead"].pk}, None, INCIDENT_WRITERS),
    ("add responder", lambda w, s: f"/incidents/{_inc(w)}/responders/", lambda w, s: {"user": w["lead"].pk,
     "responding": "1"}, None, INCIDENT_WRITERS),
    ("acknowledge", lambda w, s: f"/incidents/{_inc(w)}/acknowledge/", lambda w, s: {}, None, INCIDENT_WRITERS),
    ("mitigate", lambda w, s: f"/incidents/{_inc(w)}/mitigate/", lambda w, s: {}, None, INCIDENT_WRITERS),
    ("resolve", lambda w, s: f"/incidents/{_inc(w)}/resolve/", lambda w, s: {}, None, INCIDENT_WRITERS),
    ("reopen", lambda w, s: f"/incidents/{_inc(w)}/reopen/", lambda w, s: {}, _resolved, INCIDENT_WRITERS),
    ("edit post-mortem", lambda w, s: f"/postmortems/{_pm(w)}/edit/", lambda w, s: {
     **{f: "" for f in SECTIONS}, "impact": "5% of checkouts"}, None, INCIDENT_WRITERS),
    ("add action item", lambda w, s: f"/postmortems/{_pm(w)}/action-items/add/", lambda w, s: {
     "title": "Add a retry budget", "kind": "prevent", "priority": 1}, None, INCIDENT_WRITERS),
    ("edit action item", lambda w, s: f"/postmortems/{_pm(w)}/action-items/{s}/edit/", lambda w, s: {
     "title": "Add a retry budget to checkout", "kind": "prevent", "priority": 2}, _item, INCIDENT_WRITERS),
    ("action item status", lambda w, s: f"/postmortems/{_pm(w)}/action-items/{s}/status/", lambda w, s: {
     f"item{s}-status": "done", f"item{s}-wont_do_reason": ""}, _item, INCIDENT_WRITERS),
    ("link regression test", lambda w, s: f"/postmortems/{_pm(w)}/link-test/", lambda w, s: {
     "repository": w["repository"].pk, "test_id": TEST_ID}, None, INCIDENT_WRITERS),
    ("snooze", lambda w, s: f"/postmortems/{_pm(w)}/snooze/", lambda w, s: {"until": SOON(),
     "reason": "On leave"}, None, INCIDENT_WRITERS),
    ("decline", lambda w, s: f"/postmortems/{_pm(w)}/decline/", lambda w, s: {"reason": "Flapping alert"}, None,
     INCIDENT_WRITERS),
    ("reopen declined", lambda w, s: f"/postmortems/{_pm(w)}/reopen/", lambda w, s: {}, _declined,
     INCIDENT_WRITERS),
    ("submit for review", lambda w, s: f"/postmortems/{_pm(w)}/submit_for_review/", lambda w, s: {}, None,
     INCIDENT_WRITERS),
    ("request changes", lambda w, s: f"/postmortems/{_pm(w)}/request_changes/", lambda w, s: {}, _in_review,
     INCIDENT_WRITERS),
    ("publish", lambda w, s: f"/postmortems/{_pm(w)}/publish/", lambda w, s: {}, None, INCIDENT_WRITERS),
    ("complete", lambda w, s: f"/postmortems/{_pm(w)}/complete/", lambda w, s: {}, _completable, INCIDENT_WRITERS),
]  # fmt: skip

# --- the REST API: (write, method, url(w, s), body(w, s), set-up, "member outsider nobody commander staff anonymous")
API_WRITERS = {"ok": "{0} 403 403 {0} {0} 401", "team": "{0} 403 403 403 {0} 401"}


def _api(ok: int, who: str = "ok") -> str:
    return API_WRITERS[who].format(ok)


INC = "/api/v1/incidents/{}/"
PM = "/api/v1/postmortems/{}/"
API = [
    ("declare", "post", lambda w, s: "/api/v1/incidents/", lambda w, s: {"title": "Checkout down",
     "primary_service": w["service"].pk}, None, "201 201 201 201 201 401"),
    ("declare naming oneself commander", "post", lambda w, s: "/api/v1/incidents/", lambda w, s: {
     "title": "Mine now", "primary_service": w["service"].pk, "commander": (w["_actor"] or w["member"]).pk},
     None, "201 403 403 403 201 401"),
    ("edit incident", "patch", lambda w, s: INC.format(_inc(w)), lambda w, s: {"title": "New title"}, None, _api(200)),
    ("make oneself commander", "patch", lambda w, s: INC.format(_inc(w)), lambda w, s: {
     "commander": w["_actor"].pk if w["_actor"] and w["_actor"] != w["commander"] else None}, None,
     _api(200)),
    ("acknowledge", "post", lambda w, s: INC.format(_inc(w)) + "acknowledge/", lambda w, s: {}, None, _api(200)),
    ("mitigate", "post", lambda w, s: INC.format(_inc(w)) + "mitigate/", lambda w, s: {}, None, _api(200)),
    ("resolve", "post", lambda w, s: INC.format(_inc(w)) + "resolve/", lambda w, s: {}, None, _api(200)),
    ("reopen", "post", lambda w, s: INC.format(_inc(w)) + "reopen/", lambda w, s: {}, _resolved, _api(200)),
    ("note", "post", lambda w, s: INC.format(_inc(w)) + "timeline/", lambda w, s: {"text": "Rolled back."}, None,
     _api(201)),
    ("edit service", "patch", lambda w, s: f"/api/v1/services/{w['service'].pk}/", lambda w, s: {
     "runbook_url": "https://runbooks.example.test/checkout"}, None, _api(200, "team")),
    ("edit post-mortem", "patch", lambda w, s: PM.format(_pm(w)), lambda w, s: {"impact": "5% of checkouts"}, None,
     _api(200)),
    ("submit for review", "post", lambda w, s: PM.format(_pm(w)) + "submit_for_review/", lambda w, s: {}, None,
     _api(200)),
    ("request changes", "post", lambda w, s: PM.format(_pm(w)) + "request_changes/", lambda w, s: {}, _in_review,
     _api(200)),
    ("publish", "post", lambda w, s: PM.format(_pm(w)) + "publish/", lambda w, s: {}, None, _api(200)),
    ("complete", "post", lambda w, s: PM.format(_pm(w)) + "complete/", lambda w, s: {}, _completable, _api(200)),
    ("decline", "post", lambda w, s: PM.format(_pm(w)) + "decline/", lambda w, s: {"reason": "Flapping alert"},
     None, _api(200)),
    ("reopen declined", "post", lambda w, s: PM.format(_pm(w)) + "reopen/", lambda w, s: {}, _declined, _api(200)),
    ("snooze", "post", lambda w, s: PM.format(_pm(w)) + "snooze/", lambda w, s: {
     "until": (timezone.now() + dt.timedelta(days=1)).isoformat(), "reason": "On leave"}, None, _api(200)),
    ("add action item", "post", lambda w, s: "/api/v1/action-items/", lambda w, s: {
     "postmortem": _pm(w), "title": "Add a retry budget"}, None, _api(201)),
    ("edit action item", "patch", lambda w, s: f"/api/v1/action-items/{s}/", lambda w, s: {"status": "done"}, _item,
     _api(200)),
    ("delete action item", "delete", lambda w, s: f"/api/v1/action-items/{s}/", lambda w, s: None, _item,
     _api(204)),
    ("link regression test", "post", lambda w, s: "/api/v1/regression-tests/", lambda w, s: {
     "postmortem": _pm(w), "repository": w["repository"].pk, "test_id": TEST_ID}, None, _api(201)),
    ("unlink regression test", "delete", lambda w, s: f"/api/v1/regression-tests/{s}/", lambda w, s: None, _test,
     _api(204)),
    ("add SLO", "post", lambda w, s: "/api/v1/slos/", lambda w, s: {"service": "checkout", "slug": "latency",
     "name": "Latency", "target": 0.99, "sli_kind": "events_pushed"}, None, _api(201, "team")),
    ("edit SLO", "patch", lambda w, s: f"/api/v1/slos/{s}/", lambda w, s: {"target": 0.995}, _slo, _api(200, "team")),
    ("delete SLO", "delete", lambda w, s: f"/api/v1/slos/{s}/", lambda w, s: None, _slo, _api(204, "team")),
    ("push SLO samples", "post", lambda w, s: f"/api/v1/slos/{s}/samples/", lambda w, s: {"samples": [{
     "bucket_start": bucket_floor(timezone.now() - dt.timedelta(hours=1), 300).isoformat(), "good": 9,
     "total": 10}]}, _slo, _api(200, "team")),
    ("import SLO", "post", lambda w, s: "/api/v1/slos/import/", lambda w, s: {"yaml": OPENSLO}, None,
     _api(200, "team")),
]  # fmt: skip

WEB_CELLS = [(row[0], role, row) for row in WEB for role in ROLES[:-1]]
API_CELLS = [(row[0], role, row) for row in API for role in ROLES]


def _expected(cells: str, role: str) -> int:
    return int(dict(zip(ROLES, cells.split(), strict=False))[role])


@pytest.mark.parametrize(("write", "role", "row"), WEB_CELLS, ids=[f"web-{w}-{r}" for w, r, _ in WEB_CELLS])
def test_web_write(world, client, write, role, row):
    _, url, form, setup, cells = row
    state = setup(world) if setup else None
    world["_actor"] = world[role]
    client.force_login(world[role])
    before = stored()

    response = client.post(url(world, state), form(world, state))

    expected = _expected(cells, role)
    assert response.status_code == expected, response.content[:500]
    if expected == 403:
        assert stored() == before, "a refused write stored something"
    else:
        assert stored() != before, "an allowed write stored nothing"


@pytest.mark.parametrize("row", WEB, ids=[row[0] for row in WEB])
def test_web_anonymous_is_sent_to_sign_in(world, client, row):
    _, url, form, setup, _ = row
    state = setup(world) if setup else None
    world["_actor"] = world["member"]
    before = stored()

    response = client.post(url(world, state), form(world, state))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert stored() == before


@pytest.mark.parametrize(("write", "role", "row"), API_CELLS, ids=[f"api-{w}-{r}" for w, r, _ in API_CELLS])
def test_api_write(world, write, role, row):
    _, method, url, body, setup, cells = row
    state = setup(world) if setup else None
    world["_actor"] = None if role == "anonymous" else world[role]
    client = client_for(world["_actor"])
    before = stored()

    response = getattr(client, method)(url(world, state), body(world, state), format="json")

    expected = _expected(cells, role)
    assert response.status_code == expected, response.content[:500]
    if expected >= 400:
        assert response.json()["error"]["code"] in ("not_authenticated", "permission_denied")
        assert stored() == before, "a refused write stored something"
    else:
        assert stored() != before, "an allowed write stored nothing"


def test_the_matrix_cell_count():
    """Written down so the closing note's figure is checkable: (23 web writes + 28 API writes) x 6 kinds of person."""
    assert (len(WEB), len(API), len(ROLES)) == (23, 28, 6)
    assert len(WEB_CELLS) + len(WEB) + len(API_CELLS) == 306
