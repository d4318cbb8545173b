"""A web tier that answers under database trouble (issue 12 item 8), on real PostgreSQL.

A second connection holds a table lock, as a long migration or a stuck
transaction does. Before: each request waited out the lock (a 35 s one ended in
gunicorn's HTML 500 page). Now the web's lock_timeout ends the wait and the door
answers 503 with Retry-After in its own shape. The same through a real gunicorn,
with /healthz answering while requests wait: tests/e2e/test_db_trouble.py.
"""

import json
import time

import psycopg
import pytest
from django.db import connection
from django.test import Client

from incidents.models import Incident, Integration
from sredesk import dbtrouble
from tests.api.clients import client_for
from tests.factories import IncidentFactory, UserFactory
from tests.sredesk.test_observability import free_port

pytestmark = pytest.mark.django_db(transaction=True)
LOCK_TIMEOUT = 1.0


def dsn() -> str:
    s = connection.settings_dict
    return f"host={s['HOST'] or '127.0.0.1'} port={s['PORT'] or 5432} user={s['USER']} dbname={s['NAME']}" + (
        f" password={s['PASSWORD']}" if s["PASSWORD"] else ""
    )


@pytest.fixture
def web_timeouts(requires_postgres, settings):
    """This process's connections get the web's timeouts (as sredesk.wsgi gives gunicorn's), 1 s for locks."""
    settings.SREDESK_DB_LOCK_TIMEOUT_SECONDS = LOCK_TIMEOUT
    settings.SREDESK_DB_STATEMENT_TIMEOUT_SECONDS = 5.0
    dbtrouble.use_timeouts("web")
    yield
    dbtrouble.use_timeouts(None)


@pytest.fixture
def locked(web_timeouts):
    """``locked("incidents_incident")``: another session holds an ACCESS EXCLUSIVE lock on the table until the end."""
    holders = []

    def lock(*tables: str) -> psycopg.Connection:
        holder = psycopg.connect(dsn())
        holder.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
        holders.append(holder)
        return holder  # holder.rollback() lets go

    yield lock
    for holder in holders:
        holder.rollback()
        holder.close()


def timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def test_web_connections_carry_the_timeouts(web_timeouts):
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "1s"
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "5s"


def test_the_api_answers_503_json_with_retry_after_within_the_lock_timeout(locked):
    api = client_for(UserFactory())
    IncidentFactory()
    locked("incidents_incident")

    response, took = timed(lambda: api.get("/api/v1/incidents/"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "unavailable"
    assert "Retry in 5 s" in response.json()["error"]["message"]
    assert LOCK_TIMEOUT <= took < LOCK_TIMEOUT + 3, took


def test_an_api_write_answers_503_and_changes_nothing(locked):
    person = UserFactory()
    api = client_for(person)
    holder = locked("incidents_incident")

    response = api.post("/api/v1/incidents/", {"title": "Checkout down", "severity": "SEV2"}, format="json")

    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response.json()["error"]["code"] == "unavailable"
    holder.rollback()
    assert not Incident.objects.exists()


def test_the_webhook_answers_503_so_the_sender_retries(locked):
    integration = Integration(kind=Integration.Kind.GENERIC, name="try")
    token = integration.set_new_token()
    integration.save()
    locked("incidents_incident", "incidents_alert")
    alert = {"status": "firing", "labels": {"alertname": "HighLatency"}, "title": "p99 above 2 s"}

    response, took = timed(
        lambda: Client().post(
            f"/hooks/{integration.public_id}/",
            json.dumps(alert),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
    )

    assert response.status_code == 503  # Alertmanager retries a 5xx; a 4xx would lose the alert
    assert response["Retry-After"] == "5"
    assert set(response.json()) == {"error", "field"}
    assert took < 3 * LOCK_TIMEOUT + 3, took  # the ingest, and keeping the failed receipt, each wait at most that


def test_a_web_page_answers_a_friendly_503(locked):
    client = Client()
    client.force_login(UserFactory())
    locked("incidents_incident")

    response = client.get("/incidents/")

    assert (response.status_code, response["Retry-After"]) == (503, "5")
    page = response.content.decode()
    assert "sredesk is busy" in page and "Try again in 5 seconds" in page


def test_healthz_answers_without_the_database(locked):
    locked("django_session", "ownership_user")
    client = Client()
    response, took = timed(lambda: client.get("/healthz", HTTP_HOST="10.1.2.3:8000"))  # a probe asks by address
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert took < 0.5


def test_readyz_says_what_is_wrong_to_anyone_and_why_only_with_its_token(settings, client):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    settings.SREDESK_READYZ_TOKEN = "readyz-token-0123456789"

    public = client.get("/readyz")
    wrong = client.get("/readyz", HTTP_AUTHORIZATION="Bearer nope")
    operator = client.get("/readyz", HTTP_AUTHORIZATION="Bearer readyz-token-0123456789")

    assert public.status_code == wrong.status_code == operator.status_code == 503
    assert public.json()["problems"] == wrong.json()["problems"] == {"broker": "unavailable"}
    assert "Error" in operator.json()["problems"]["broker"]  # e.g. "OperationalError: [Errno 111] ..."
