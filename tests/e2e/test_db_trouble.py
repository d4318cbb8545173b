"""A locked table through a real gunicorn, as the Procfile's web process runs (gthread, sredesk/gunicorn.py).

Issue 12 item 8, as the reviewer saw it: a second PostgreSQL session holds a
table lock; requests that need the table used to wait it out (both sync workers
blocked, /healthz unanswered). Now each of them answers 503 JSON with
Retry-After once the web's lock_timeout passes, and /healthz answers at once
while they wait.
"""

import concurrent.futures
import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from django.conf import settings

from ownership.services import api_token_issue
from tests.e2e.workers import WAIT, database_url
from tests.factories import IncidentFactory, UserFactory
from tests.fakes import free_port, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
LOCK_TIMEOUT = 3


@pytest.fixture
def gunicorn(requires_postgres, transactional_db, tmp_path):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SECRET_KEY": "e2e-test-secret-key-not-for-production",
        "SREDESK_VAR_DIR": str(tmp_path),
        "SREDESK_DB_LOCK_TIMEOUT_SECONDS": str(LOCK_TIMEOUT),
    }
    command = [
        sys.executable, "-m", "gunicorn", "sredesk.wsgi", "--config", "python:sredesk.gunicorn",
        "--bind", f"127.0.0.1:{port}", "--workers", "1",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until(lambda: process.poll() is not None or get(port, "/healthz")[0] == 200, timeout=WAIT,
                   what="gunicorn to answer /healthz")  # fmt: skip
        assert process.poll() is None, log.read_text()
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes, float]:
    """(status, headers, body, seconds) of one GET; (0, ...) when nothing answers."""
    start = time.monotonic()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read(), time.monotonic() - start
    except OSError:
        return 0, {}, b"", time.monotonic() - start


def test_a_locked_table_gets_503_with_retry_after_and_healthz_still_answers(gunicorn):
    token = api_token_issue(user=UserFactory())
    IncidentFactory()
    holder = psycopg.connect(database_url())
    holder.execute("LOCK TABLE incidents_incident IN ACCESS EXCLUSIVE MODE")
    try:
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            started = time.monotonic()
            blocked = [
                pool.submit(get, gunicorn, "/api/v1/incidents/", {"Authorization": f"Token {token}"}) for _ in range(3)
            ]
            time.sleep(1)  # the three requests now wait on the lock
            health = get(gunicorn, "/healthz")
            assert not any(f.done() for f in blocked), "the requests did not wait on the lock: the test proves nothing"
            answers = [f.result() for f in blocked]
            took = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()

    status, _, body, seconds = health
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert seconds < 1.0, f"/healthz waited {seconds:.1f} s behind the blocked requests"
    for status, headers, body, _ in answers:
        assert status == 503, body
        assert headers["Retry-After"] == "5"
        assert json.loads(body)["error"]["code"] == "unavailable"
    assert LOCK_TIMEOUT <= took < LOCK_TIMEOUT + 4, took
    assert get(gunicorn, "/api/v1/incidents/", {"Authorization": f"Token {token}"})[0] == 200  # lock gone: served
