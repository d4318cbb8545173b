"""GET /api/v1/reports/teams/ and /services/: JSON, CSV (by ?format= or Accept), spreadsheet-safe, errors in JSON."""

import csv
import io

import pytest
import time_machine

from tests.factories import IncidentFactory, ServiceFactory, TeamFactory, UserFactory
from tests.reports.test_figures import NOW, at, world  # noqa: F401 - the hand-computed fixture

pytestmark = pytest.mark.django_db
PERIOD = {"start": "2026-11-02", "end": "2026-11-08"}


@pytest.fixture
def api(client):
    client.force_login(UserFactory(username="reader"))
    return client


def test_json_figures_per_team(api, world):  # noqa: F811
    with time_machine.travel(NOW, tick=False):
        body = api.get("/api/v1/reports/teams/", PERIOD).json()
    assert body["group_by"] == "team"
    assert body["period"] == {"start": "2026-11-02T00:00:00Z", "end": "2026-11-09T00:00:00Z"}
    pay = next(row for row in body["results"] if row["group"]["slug"] == "payments")
    assert pay["postmortems"]["published_to_verified_seconds"] == {"count": 2, "median": 54000.0, "p90": 79920.0}
    sev1 = pay["incidents"]["by_severity"][0]
    assert sev1["time_to_acknowledge_seconds"] == {"count": 3, "median": 600.0, "p90": 1560.0, "mean": 900.0}


def test_json_figures_per_service(api, world):  # noqa: F811
    with time_machine.travel(NOW, tick=False):
        body = api.get("/api/v1/reports/services/", PERIOD).json()
    assert [row["group"]["slug"] for row in body["results"]] == ["pay", "search", ""]
    assert body["results"][0]["regression_tests"]["turned_red"] == 2


def _csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_csv_by_format_or_accept(api, world):  # noqa: F811
    with time_machine.travel(NOW, tick=False):
        by_format = api.get("/api/v1/reports/teams/", {**PERIOD, "format": "csv"})
        by_accept = api.get("/api/v1/reports/teams/", PERIOD, HTTP_ACCEPT="text/csv")
    assert by_format.content == by_accept.content
    assert 'filename="sredesk-teams-20261102-20261109.csv"' in by_format["Content-Disposition"]
    rows = {row["name"]: row for row in _csv(by_format)}
    pay = rows["Payments"]
    assert pay["postmortems_published"] == "3"
    assert pay["published_to_verified_median_seconds"] == "54000.0"
    assert pay["sev1_tta_p90_seconds"] == "1560.0"
    assert pay["sev2_tta_median_seconds"] == ""  # nothing to measure
    assert pay["period_start"] == "2026-11-02T00:00:00+00:00"


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.test")', "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1"])
def test_csv_cells_are_never_formulas(api, name):
    team = TeamFactory(name=name, slug="evil")
    IncidentFactory(owning_team=team, primary_service=ServiceFactory(name=name, slug="evil-svc", team=team),
                    started_at=at(3), detected_at=at(3))  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        for door in ("teams", "services"):
            rows = _csv(api.get(f"/api/v1/reports/{door}/", {**PERIOD, "format": "csv"}))
            assert rows[0]["name"] == "'" + name


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"days": "0"}, "days"),
        ({"start": "2026-11-02"}, "end"),
        ({"days": "7", "end": "2026-11-02"}, "days"),
        ({"format": "xml"}, "format"),
    ],
)
def test_bad_periods_answer_400_in_json_even_for_csv(api, query, field):
    for extra in ({}, {"format": "csv"}) if "format" not in query else ({},):
        response = api.get("/api/v1/reports/teams/", {**query, **extra})
        assert response.status_code == 400
        assert response["Content-Type"].startswith("application/json")
        assert field in response.json()["error"]["fields"]


def test_sign_in_needed(client):
    assert client.get("/api/v1/reports/teams/").status_code in (401, 403)


def test_documented_in_the_schema(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for door in ("teams", "services"):
        get = schema["paths"][f"/api/v1/reports/{door}/"]["get"]
        assert {"application/json", "text/csv"} <= set(get["responses"]["200"]["content"])
        assert {"start", "end", "days", "format"} <= {p["name"] for p in get["parameters"]}
