"""Request bodies through a real gunicorn, as production serves them (``Procfile``'s ``web``).

Sends JUnit reports with ``Transfer-Encoding: chunked`` and with a
``Content-Length`` over the limit over a socket, so the chunk decoding and the
point where sredesk stops reading are gunicorn's and sredesk's own, not the
test client's (``tests/test_bodies.py`` covers every case in-process).
"""

import http.client
import json

import pytest

from incidents.models import Alert, Integration
from postmortems.models import TestResult
from sredesk.tokens import new_token
from tests.e2e.workers import WAIT
from tests.factories import RepositoryFactory

pytestmark = [pytest.mark.e2e]
LIMIT = 4_000_000


@pytest.fixture
def gunicorn(celery_workers) -> int:
    """The port of a gunicorn as the Procfile's web (``workers.start_web``), with a JUnit limit of ``LIMIT`` bytes.

    No Celery worker runs: what the requests enqueue stays in the private broker, emptied afterwards."""
    _, port = celery_workers.start_web("bodies", env={"SREDESK_JUNIT_MAX_BYTES": str(LIMIT)})
    return port


def report(cases: int) -> bytes:
    rows = "".join(f'<testcase classname="tests.test_big" name="test_{i}_{"x" * 700}"/>' for i in range(cases))
    return f'<testsuites><testsuite name="pytest">{rows}</testsuite></testsuites>'.encode()


def pieces(data: bytes, size: int = 256 * 1024):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_gunicorn_reads_a_chunked_report_and_refuses_an_oversize_one_with_413(gunicorn):
    token, digest = new_token("sdci")
    RepositoryFactory(name="acme/payments", default_branch="main", ci_token_hash=digest)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml"}
    body = report(4000)
    assert 3_000_000 < len(body) < LIMIT

    connection = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=WAIT)
    connection.request("POST", "/ci/junit/?branch=main&commit=c1", body=pieces(body), headers=headers)  # chunked
    response = connection.getresponse()
    assert response.status == 201, response.read()
    assert TestResult.objects.count() == 4000

    # Announce 60 MB and send none of it: the answer comes without sredesk waiting for (or reading) the body.
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=WAIT)
    connection.putrequest("POST", "/ci/junit/?branch=main&commit=c2")
    for name, value in {**headers, "Content-Length": str(60 * 1024 * 1024)}.items():
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert "4,000,000 bytes" in response.read().decode()


def test_gunicorn_reads_a_chunked_alert_webhook(gunicorn):
    """Issue 12 item 6: an Alertmanager delivery sent chunked is read, not refused as empty (a lost alert)."""
    integration = Integration(kind=Integration.Kind.ALERTMANAGER, name="chunked")
    token = integration.set_new_token()
    integration.save()
    alert = {"status": "firing", "labels": {"alertname": "Chunked"}, "startsAt": "2024-05-01T10:00:00Z"}
    body = json.dumps({"version": "4", "status": "firing", "groupKey": "g", "alerts": [alert]}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    connection = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=WAIT)
    connection.request("POST", f"/hooks/{integration.public_id}/", body=pieces(body, 16), headers=headers)  # chunked
    response = connection.getresponse()
    assert response.status == 200, response.read()
    assert Alert.objects.get().labels == {"alertname": "Chunked"}
