"""/healthz, /readyz and /metrics as an operator's monitoring sees them."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from postmortems.reminders import reminders_plan_due, reminders_sweep
from tests.factories import PostMortemFactory, RegressionTestFactory
from tests.fakes import free_port
from tests.machine import service_missing

pytestmark = pytest.mark.django_db


def metric(client, name: str) -> dict[str, float]:
    """Every sample of ``name`` in /metrics, keyed by its label string."""
    body = client.get("/metrics").content.decode()
    samples = {}
    for line in body.splitlines():
        if line.startswith(name):
            key, value = line.rsplit(" ", 1)
            samples[key[len(name) :]] = float(value)
    return samples


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_names_an_unreachable_broker(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert "broker" in response.json()["problems"]
    assert "database" not in response.json()["problems"]


@pytest.mark.django_db(transaction=True)
def test_readyz_names_an_unreachable_database(client):
    """The database really goes away (a closed port), not a stub: an in-memory SQLite cannot, so PostgreSQL only."""
    if connection.vendor != "postgresql":
        service_missing("needs PostgreSQL: set DATABASE_URL=postgres://...")
    real = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = free_port()
    try:
        response = client.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict.update(real)

    assert response.status_code == 503
    assert "database" in response.json()["problems"]
    assert "broker" not in response.json()["problems"]


def test_metrics_follow_the_reminder_loop(client, django_capture_on_commit_callbacks):
    now = timezone.now()
    owed = PostMortemFactory(published=True, published_at=now - dt.timedelta(days=1, minutes=10))
    PostMortemFactory(published=True)
    RegressionTestFactory(postmortem=PostMortemFactory(published=True), state="verified")

    assert metric(client, "sredesk_postmortems_awaiting_regression_test") == {"": 2}
    assert metric(client, "sredesk_reminder_sweep_last_success_timestamp_seconds") == {"": 0}
    assert metric(client, "sredesk_reminders_oldest_due_unsent_seconds") == {"": 0}  # no sweep yet: nothing known

    with time_machine.travel(owed.published_at, tick=False), django_capture_on_commit_callbacks(execute=True):
        reminders_sweep()  # the last sweep the beat ran: owed's first reminder
    # owed's second step fell due ten minutes ago and no sweep has run since (what a dead beat looks like).
    assert 590 <= metric(client, "sredesk_reminders_oldest_due_unsent_seconds")[""] <= 700

    with django_capture_on_commit_callbacks(execute=True):
        reminders_sweep()

    assert metric(client, "sredesk_reminders_sent_total") == {
        '{channel="outbox"}': 3,
        '{channel="slack"}': 0,
        '{channel="email"}': 0,
    }
    assert metric(client, "sredesk_reminders_oldest_due_unsent_seconds") == {"": 0}
    assert metric(client, "sredesk_reminder_sweep_last_success_timestamp_seconds")[""] == pytest.approx(
        timezone.now().timestamp(), abs=60
    )
    assert owed.reminders.count() == 2


def test_a_scrape_does_not_walk_the_due_reminders(client):
    """/metrics reads what the last sweep stored: its statements do not grow with the due post-mortems (at a
    million post-mortems, walking them at each scrape took longer than Prometheus waits)."""

    def scrape() -> list[int]:
        sizes: list[int] = []

        def record(execute, sql, params, many, context):
            sizes.append(len(params or ()))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            assert client.get("/metrics").status_code == 200
        return sizes

    PostMortemFactory.create_batch(3, published=True)
    few = scrape()
    PostMortemFactory.create_batch(40, published=True)
    more = scrape()
    assert (len(more), max(more)) == (len(few), max(few))


def test_oldest_due_unsent_counts_deliveries_a_dead_worker_left(client):
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    PostMortemFactory(published=True, published_at=an_hour_ago)
    reminders_plan_due(now=an_hour_ago)  # planned an hour ago, but no worker has sent it since

    assert metric(client, "sredesk_reminders_oldest_due_unsent_seconds")[""] >= 3600


def test_unreachable_people_are_reported_in_the_admin_and_metrics(client, settings):
    from tests.factories import UserFactory

    settings.SLACK_BOT_TOKEN = "xoxb-test"
    staff = UserFactory(username="admin", is_staff=True, is_superuser=True, slack_user_id="U0ADMIN")
    lonely = UserFactory(username="lonely", slack_user_id="", email="")
    PostMortemFactory(owner=lonely)
    client.force_login(staff)

    page = client.get("/admin/ownership/user/?reachable=no").content.decode()

    assert "lonely" in page and "outbox only (unreachable)" in page
    assert "U0ADMIN" not in page and ">admin<" not in page
    assert metric(client, "sredesk_unreachable_recipients")['{kind="person"}'] == 1
