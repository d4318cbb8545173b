"""What the end-to-end tests share: a local Slack, and real ``celery worker`` subprocesses on the test database.

``celery_workers`` starts workers (with or without an embedded beat) pointed
at pytest-django's ``test_...`` PostgreSQL database, a private Redis database
(``CELERY_BROKER_URL``) and the ``fake_slack`` server, and stops every one of
them before pytest-django empties the tables, even when the test fails. Each
worker runs in its own process group with the solo pool, so a test can
SIGKILL exactly one of them (``Worker.kill``) to play a crashed host.

Skips without PostgreSQL and Redis; fails instead when SREDESK_REQUIRE_SERVICES=1 (CI).
"""

import pytest
import redis

from tests.e2e.workers import CeleryWorkers
from tests.fakes import FakeSlack


@pytest.fixture
def fake_slack():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def celery_workers(requires_postgres, transactional_db, fake_slack, tmp_path, request) -> CeleryWorkers:
    """Starts real workers on the test database, a private Redis database and the fake Slack; stops them all.

    The workers go down (and the Redis database is emptied) before
    pytest-django empties the tables, since this fixture depends on ``transactional_db``.
    """
    # Asked for here, not as an argument, so that PostgreSQL is checked first (session fixtures run first).
    redis_broker_url = request.getfixturevalue("redis_broker_url")
    broker = redis.Redis.from_url(redis_broker_url)
    broker.flushdb()  # stale messages from an earlier run would run against this run's rows
    workers = CeleryWorkers(broker_url=redis_broker_url, fake_slack=fake_slack, tmp_path=tmp_path)

    def stop() -> None:
        try:
            workers.stop_all()
        finally:
            broker.flushdb()
            broker.close()

    request.addfinalizer(stop)
    return workers
