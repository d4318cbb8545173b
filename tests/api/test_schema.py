"""The OpenAPI document: valid OpenAPI 3, every operation typed, errors documented, docs served offline."""

import re

import pytest
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on an invalid document


def test_every_operation_has_typed_responses_and_the_error_shape(schema):
    untyped = []
    for path, method, operation in _operations(schema):
        for code, response in operation["responses"].items():
            if code == "204":
                assert "content" not in response
                continue
            content = response.get("content", {}).get("application/json")
            body = (content or {}).get("schema")
            if not body or "Unspecified" in response.get("description", ""):
                untyped.append(f"{method.upper()} {path} {code}")
        assert "401" in operation["responses"] and "403" in operation["responses"], (method, path)
        assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
        assert operation.get("description") or operation.get("summary"), f"{method} {path} has no docstring"
    assert not untyped, untyped


def test_transitions_document_their_409(schema):
    for verb in ("acknowledge", "mitigate", "resolve", "reopen"):
        assert "409" in schema["paths"][f"/api/v1/incidents/{{id}}/{verb}/"]["post"]["responses"]
    assert "409" in schema["paths"]["/api/v1/postmortems/{id}/complete/"]["post"]["responses"]


def test_every_resource_is_there(schema):
    expected = {
        "/api/v1/teams/", "/api/v1/people/", "/api/v1/services/", "/api/v1/repositories/", "/api/v1/incidents/",
        "/api/v1/incidents/{id}/timeline/", "/api/v1/alerts/", "/api/v1/integrations/", "/api/v1/postmortems/",
        "/api/v1/postmortems/{id}/snooze/", "/api/v1/action-items/", "/api/v1/regression-tests/",
        "/api/v1/test-runs/", "/api/v1/test-runs/upload/", "/api/v1/test-results/", "/api/v1/reminders/",
    }  # fmt: skip
    assert expected <= set(schema["paths"])
    assert {"tokenAuth", "cookieAuth", "repositoryToken"} <= set(schema["components"]["securitySchemes"])


def test_list_parameters_are_documented(schema):
    params = {p["name"] for p in schema["paths"]["/api/v1/incidents/"]["get"]["parameters"]}
    assert {"status", "severity", "service", "team", "commander", "detected_after", "started_before", "search",
            "ordering", "cursor", "page_size"} <= params  # fmt: skip


def test_swagger_ui_is_served_from_our_own_static_files(db):
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    # Every script and stylesheet is ours. (Not a search for "cdn" in the page: the CSRF token it embeds
    # is random and once contained those three letters.)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/static/") for source in sources), sources
    assert not re.search(r"https?://(?!testserver)", html), "the page loads something from another host"
