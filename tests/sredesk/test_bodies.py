"""sredesk.bodies: every door reads raw, multipart and chunked bodies within its limit, and says 413 before reading on.

Issue 12 item 5 and issue 13 item 6: a valid 3 MB report sent raw got Django's
bare 400, a chunked body was read as empty, an oversize upload was a 400 on one
path and a 413 on the other, and the multipart path read the whole body before
refusing it. Chunked requests are built as gunicorn hands them to Django: no
``CONTENT_LENGTH``, ``HTTP_TRANSFER_ENCODING: chunked``, the decoded body in
``wsgi.input`` and ``wsgi.input_terminated`` set (``tests/e2e/test_gunicorn_bodies.py``
sends the same through a real gunicorn).
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from postmortems.models import TestResult, TestRun
from sredesk.tokens import new_token
from tests.factories import IncidentFactory, RepositoryFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


class Counting(io.BytesIO):
    """A ``wsgi.input`` that remembers how many bytes the server was asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.taken = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk

    def readline(self, size=-1):
        line = super().readline(size)
        self.taken += len(line)
        return line


def pytest_report(cases: int, *, name_size: int = 0) -> bytes:
    """A pytest report of ``cases`` passing tests; ``name_size`` pads each name to make big files."""
    pad = "x" * name_size
    rows = "".join(f'<testcase classname="tests.test_big" name="test_{i}_{pad}" time="0.01"/>' for i in range(cases))
    return f'<testsuites><testsuite name="pytest" tests="{cases}">{rows}</testsuite></testsuites>'.encode()


@pytest.fixture
def token():
    token, digest = new_token("sdci")
    RepositoryFactory(name="acme/payments", default_branch="main", ci_token_hash=digest)
    return token


def chunked(data: bytes, **extra) -> dict:
    """The environ gunicorn gives Django for a ``Transfer-Encoding: chunked`` body (already de-chunked)."""
    stream = Counting(data)
    return {
        "wsgi.input": stream,
        "wsgi.input_terminated": True,
        "HTTP_TRANSFER_ENCODING": "chunked",
        "CONTENT_LENGTH": "",
        **extra,
    }


def with_length(data: bytes, **extra) -> dict:
    return {"wsgi.input": Counting(data), "CONTENT_LENGTH": str(len(data)), **extra}


def post(client, url, environ, content_type, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.generic("POST", url, b"", CONTENT_TYPE=content_type, **environ, **headers)


JUNIT = reverse("ci:junit_upload") + "?branch=main&commit=c1"
API_UPLOAD = "/api/v1/test-runs/upload/"


def multipart(*files: tuple[str, bytes], **fields) -> bytes:
    return encode_multipart(BOUNDARY, {"file": [SimpleUploadedFile(n, c) for n, c in files], **fields})


# --- a valid report over Django's in-memory limit ---------------------------------------------


@pytest.mark.parametrize("framing", [with_length, chunked], ids=["content-length", "chunked"])
def test_a_3_mb_raw_report_is_accepted(client, token, framing):
    report = pytest_report(4000, name_size=800)
    assert len(report) > 3_000_000

    response = post(client, JUNIT, framing(report), "application/xml", token)

    assert response.status_code == 201, response.content
    assert response.json()["tests"] == 4000
    assert TestResult.objects.count() == 4000


@pytest.mark.parametrize("framing", [with_length, chunked], ids=["content-length", "chunked"])
def test_multipart_reports_are_read_raw_or_chunked(client, token, framing):
    body = multipart(("TEST-a.xml", pytest_report(3)), ("TEST-b.xml", pytest_report(5)))

    for url in (JUNIT, API_UPLOAD + "?"):
        extra = {} if url == JUNIT else {"branch": "main", "commit": "c2"}
        if extra:
            body = multipart(("TEST-a.xml", pytest_report(3)), ("TEST-b.xml", pytest_report(5)), **extra)
        response = post(client, url, framing(body), MULTIPART_CONTENT, token)
        assert response.status_code == 201, response.content
        assert response.json()["files"] == 2
    assert TestRun.objects.count() == 2


# --- over the limit: 413, the limit named, nothing read past it --------------------------------


@pytest.mark.parametrize("framing", [with_length, chunked], ids=["content-length", "chunked"])
@pytest.mark.parametrize("kind", ["raw", "multipart"])
@pytest.mark.parametrize("url", [JUNIT, API_UPLOAD], ids=["ci-junit", "api-upload"])
def test_an_oversize_upload_is_413_on_every_path_before_reading_past_the_limit(
    client, token, settings, framing, kind, url
):
    settings.SREDESK_JUNIT_MAX_BYTES = 200_000
    report = pytest_report(1400, name_size=600)
    body = multipart(("big.xml", report), branch="main", commit="c3") if kind == "multipart" else report
    assert len(body) > 4 * settings.SREDESK_JUNIT_MAX_BYTES
    environ = framing(body)

    response = post(client, url, environ, MULTIPART_CONTENT if kind == "multipart" else "application/xml", token)

    assert response.status_code == 413, response.content
    assert "200,000 bytes" in response.content.decode() and "SREDESK_JUNIT_MAX_BYTES" in response.content.decode()
    assert environ["wsgi.input"].taken <= settings.SREDESK_JUNIT_MAX_BYTES + 1
    assert not TestRun.objects.exists()


def test_a_body_at_the_limit_is_accepted(client, token, settings):
    report = pytest_report(10)
    settings.SREDESK_JUNIT_MAX_BYTES = len(report)

    assert post(client, JUNIT, chunked(report), "application/xml", token).status_code == 201
    assert post(client, JUNIT + "2", chunked(report + b" "), "application/xml", token).status_code == 413


# --- every other door: the API's JSON, web forms ---------------------------------------------


def test_a_chunked_json_body_reaches_the_api(client):
    user = UserFactory(is_staff=True)
    client.force_login(user)
    incident = IncidentFactory(owning_team=TeamFactory())
    body = b'{"text": "sent with Transfer-Encoding: chunked"}'
    url = f"/api/v1/incidents/{incident.pk}/timeline/"

    response = client.generic("POST", url, b"", CONTENT_TYPE="application/json", **chunked(body))

    assert response.status_code == 201, response.content
    assert incident.timeline.filter(message__contains="chunked").exists()


@pytest.mark.parametrize("framing", [with_length, chunked], ids=["content-length", "chunked"])
def test_an_oversize_api_body_is_413_in_the_api_error_shape(client, settings, framing):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(UserFactory(is_staff=True))
    body = b'{"title": "' + b"x" * 50_000 + b'"}'
    environ = framing(body)

    response = client.generic("POST", "/api/v1/incidents/", b"", CONTENT_TYPE="application/json", **environ)

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large" and "10,000 bytes" in error["message"]
    assert environ["wsgi.input"].taken <= 10_001


def test_an_oversize_form_post_is_413_not_a_bare_400(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(UserFactory(is_staff=True))
    body = b"title=" + b"x" * 50_000

    response = client.generic(
        "POST", reverse("incidents:declare"), b"", CONTENT_TYPE="application/x-www-form-urlencoded", **with_length(body)
    )

    assert response.status_code == 413
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in response.content.decode()


# --- lengths that cannot be read ------------------------------------------------------------------


def test_a_chunked_body_on_a_server_that_cannot_delimit_it_is_411(client, token):
    environ = chunked(pytest_report(1))
    environ.pop("wsgi.input_terminated")  # manage.py runserver does not end chunked input

    response = post(client, JUNIT, environ, "application/xml", token)

    assert response.status_code == 411
    assert response.json()["field"] == "Transfer-Encoding"


@pytest.mark.parametrize("length", ["¹²", "12abc", "-5"])
def test_a_content_length_that_is_not_ascii_digits_is_400(client, token, length):
    response = post(client, JUNIT, with_length(pytest_report(1), CONTENT_LENGTH=length), "application/xml", token)

    assert response.status_code == 400
    assert response.json()["field"] == "Content-Length"
