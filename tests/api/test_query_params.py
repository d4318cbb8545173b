"""Bad query strings are 400s naming each bad parameter, never 500s (BR-25); filters work on good ones."""

import datetime as dt

import pytest

from incidents.models import Incident
from tests.api.clients import client_for
from tests.factories import IncidentFactory, ServiceFactory, UserFactory

BR25 = (
    "/api/v1/incidents/?severity=SEV9&status=open,resolved&detected_after=not-a-date"
    "&detected_before=2024-05-01T10:00:00.000Z&service=abc&ordering=commander__password,;drop"
    "&page=-1&page_size=100000"
)


def test_br25_query_string_is_one_400_naming_every_bad_parameter(api):
    response = api.get(BR25)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"severity", "detected_after", "service", "ordering", "page"}
    assert "detected_before" not in error["fields"]  # Z and milliseconds are fine
    assert "status" not in error["fields"]  # open is an alias of the unresolved statuses
    assert "SEV9" in error["fields"]["severity"][0]
    assert "password" not in str(error["fields"]["ordering"]).replace("commander__password", "")


def test_page_size_is_capped(api, world):
    Incident.objects.bulk_create(Incident(title=f"i{n}") for n in range(205))
    body = api.get("/api/v1/incidents/?page_size=100000").json()
    assert len(body["results"]) == 200 and body["next"]


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "9" * 30])
def test_a_bad_page_size_is_a_400(api, value):
    response = api.get(f"/api/v1/incidents/?page_size={value}")
    assert response.status_code == 400 and "page_size" in response.json()["error"]["fields"]


@pytest.mark.parametrize("ordering", ["commander__password", "title", "-summary", "id,password", ",", "severity;drop"])
def test_ordering_is_limited_to_a_whitelist(api, ordering):
    response = api.get(f"/api/v1/incidents/?ordering={ordering}")
    assert response.status_code == 400
    assert "Allowed:" in response.json()["error"]["fields"]["ordering"][0]


def test_whitelisted_ordering_works(reader):
    api = reader
    low, high = IncidentFactory(severity=4), IncidentFactory(severity=1)
    ids = [r["id"] for r in api.get("/api/v1/incidents/?ordering=severity").json()["results"]]
    assert ids == [high.pk, low.pk]
    ids = [r["id"] for r in api.get("/api/v1/incidents/?ordering=-severity").json()["results"]]
    assert ids == [low.pk, high.pk]


def test_time_filters_accept_z_milliseconds_offsets_and_dates(reader):
    api = reader
    t = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
    early = IncidentFactory(started_at=t - dt.timedelta(hours=2), detected_at=t - dt.timedelta(hours=1))
    late = IncidentFactory(started_at=t, detected_at=t + dt.timedelta(minutes=1))

    def ids(query):
        response = api.get(f"/api/v1/incidents/?{query}")
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids("detected_before=2024-05-01T10:00:00.000Z") == {early.pk}
    assert ids("detected_after=2024-05-01T12:00:00.500%2B02:00") == {late.pk}
    assert ids("detected_after=2024-05-01") == {early.pk, late.pk}
    assert ids("started_after=2024-05-01T10:00:00Z&started_before=2024-05-01T10:00:01Z") == {late.pk}


@pytest.mark.parametrize(
    "query",
    [
        "detected_after=2024-13-01T00:00:00Z",
        "detected_after=0001-01-01T00:00:00%2B01:00",
        "resolved_before=yesterday",
        "severity=0",
        "severity=SEV5",
        "status=closed",
        "team=nosuchteam",
        "commander=999999999999999999999999",
        "service=%00",
        "search=" + "x" * 300,
    ],
)
def test_bad_filter_values_are_400s(api, query):
    response = api.get(f"/api/v1/incidents/?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]


def test_filters_by_status_severity_service_team_commander_and_search(api, world):
    other = ServiceFactory(slug="search-api")
    boss = UserFactory(username="boss")
    match = IncidentFactory(severity=1, owning_team=world["team"], commander=boss, title="Payments latency")
    match.services.add(other)
    IncidentFactory(severity=3, owning_team=world["other_team"])

    def ids(query):
        response = api.get(f"/api/v1/incidents/?{query}")
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert match.pk in ids("severity=SEV1") and match.pk in ids("severity=1,2") and match.pk in ids("severity=sev1")
    assert match.pk not in ids("severity=3&severity=4")
    assert match.pk in ids("status=open") and match.pk not in ids("status=resolved")
    assert ids("service=search-api") == {match.pk} == ids(f"service={other.pk}")
    assert match.pk in ids("team=payments") and match.pk not in ids("team=search")
    assert ids("commander=boss") == {match.pk}
    assert ids("search=latency") == {match.pk} == ids(f"search=INC-{match.pk}")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/postmortems/?status=nope",
        "/api/v1/postmortems/?has_verified_test=maybe",
        "/api/v1/postmortems/?overdue=2",
        "/api/v1/postmortems/?owner=ghost",
        "/api/v1/action-items/?priority=P9",
        "/api/v1/action-items/?due_after=tomorrow",
        "/api/v1/action-items/?incident=INC-x",
        "/api/v1/alerts/?incident=abc",
        "/api/v1/test-runs/?created_after=never",
        "/api/v1/reminders/?kind=spam",
        "/api/v1/services/?tier=9",
        "/api/v1/people/?is_active=perhaps",
    ],
)
def test_bad_values_on_other_lists_are_400s(api, url):
    response = api.get(url)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]


def test_postmortem_filters(world):
    from django.utils import timezone

    from postmortems.models import PostMortem, RegressionTest
    from tests.factories import RegressionTestFactory

    pm = world["postmortem"]
    api = client_for(world["member"])

    def ids(query):
        response = api.get(f"/api/v1/postmortems/?{query}")
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids("has_verified_test=false") == {pm.pk} and ids("has_verified_test=true") == set()
    RegressionTestFactory(postmortem=pm, state=RegressionTest.State.VERIFIED)
    assert ids("has_verified_test=true") == {pm.pk}
    assert ids("overdue=true") == set()
    PostMortem.objects.filter(pk=pm.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    assert ids("overdue=true") == {pm.pk} == ids("team=payments") == ids("owner=lead") == ids("status=draft")
    assert ids("team=search") == set()


def test_anonymous_requests_are_401_with_the_error_shape(db):
    response = client_for(None).get(BR25)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Token")


def test_unknown_api_urls_are_json_404s(api):
    for url in ["/api/v1/nothing/", "/api/v1/incidents/abc/", "/api/v1/incidents/99999999999999999999999/"]:
        response = api.get(url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
