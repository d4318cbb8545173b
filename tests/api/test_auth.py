"""Tokens, sessions and CSRF (BR-26), the token command, and the repository-token upload."""

import io

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from ownership.services import api_token_issue
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
JUNIT = b"""<testsuite name="pytest" tests="1"><testcase classname="tests.test_pay" name="test_retry"/></testsuite>"""


@pytest.fixture
def person(db):
    user = UserFactory(username="alice")
    user.set_password(PASSWORD)
    user.save()
    return user


def _browser(person) -> APIClient:
    """A browser-like client: signed in with a session, CSRF enforced, holding the CSRF cookie."""
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=person.username, password=PASSWORD)
    client.get("/accounts/login/")  # the login page sets the CSRF cookie
    return client


def test_token_with_a_session_cookie_and_no_csrf_token_is_201(person):
    """BR-26 (1): the token is honoured; the leftover browser session does not make it need CSRF."""
    client = _browser(person)
    token = api_token_issue(user=person)
    response = client.post(
        "/api/v1/incidents/", {"title": "CI found it"}, format="json", HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert response.status_code == 201, response.content


def test_token_with_a_stale_session_cookie_is_201(person):
    client = APIClient(enforce_csrf_checks=True)
    client.cookies[settings.SESSION_COOKIE_NAME] = "stale-session-from-last-week"
    token = api_token_issue(user=person)
    response = client.post("/api/v1/incidents/", {"title": "x"}, format="json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 201, response.content


def test_session_without_csrf_token_is_403(person):
    """BR-26 (2)."""
    response = _browser(person).post("/api/v1/incidents/", {"title": "x"}, format="json")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied" and "CSRF" in error["message"]


def test_session_with_csrf_token_is_201(person):
    """BR-26 (3)."""
    client = _browser(person)
    csrf = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/api/v1/incidents/", {"title": "x"}, format="json", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201, response.content


def test_a_session_reads_without_csrf(person):
    assert _browser(person).get("/api/v1/incidents/").status_code == 200


def test_a_wrong_token_is_401_even_with_a_valid_session(person):
    client = _browser(person)
    response = client.get("/api/v1/incidents/", HTTP_AUTHORIZATION="Token not-a-token")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


@pytest.fixture
def repo_token(db):
    from ownership.models import Repository
    from sredesk.tokens import new_token

    token, digest = new_token("sdci")
    Repository.objects.create(name="acme/payments", ci_token_hash=digest)
    return token


def _upload(client, token, **extra):
    return client.post(
        "/api/v1/test-runs/upload/?ignored=1",
        {"file": io.BytesIO(JUNIT), "branch": "main", "commit": "abc123", "complete": "true"},
        format="multipart",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **extra,
    )


def test_upload_with_the_repository_token_and_a_session_cookie_is_201(person, repo_token):
    """BR-26 (1) for CI uploads: repository token + browser session, no CSRF token."""
    response = _upload(_browser(person), repo_token)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["tests"] == 1 and body["run"]["commit"] == "abc123" and body["run"]["complete"] is True
    again = _upload(APIClient(enforce_csrf_checks=True), repo_token)
    assert again.status_code == 201 and again.json()["new_files"] == 0


def test_upload_needs_a_repository_token(person, repo_token):
    assert _upload(APIClient(), "sdci_wrong").status_code == 401
    user_token = api_token_issue(user=person)
    assert _upload(APIClient(), user_token).status_code == 401
    no_header = APIClient().post("/api/v1/test-runs/upload/", {"branch": "main"}, format="multipart")
    assert no_header.status_code == 401


def test_upload_of_bad_xml_is_a_400_naming_the_file(repo_token):
    response = APIClient().post(
        "/api/v1/test-runs/upload/",
        {"file": io.BytesIO(b"<testsuite"), "branch": "main", "commit": "abc"},
        format="multipart",
        HTTP_AUTHORIZATION=f"Bearer {repo_token}",
    )
    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]


def test_too_many_files_is_a_json_400(repo_token, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    response = APIClient().post(
        "/api/v1/test-runs/upload/",
        {"file": [io.BytesIO(JUNIT), io.BytesIO(JUNIT), io.BytesIO(JUNIT)], "branch": "main", "commit": "abc"},
        format="multipart",
        HTTP_AUTHORIZATION=f"Bearer {repo_token}",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
