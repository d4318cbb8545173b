"""Shared fixtures: in-process Celery and notifier for unit tests, real services where a test asks for them."""

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.db import connection

from notifications import base as notify_base
from notifications import memory
from sredesk.celery import app as celery_app
from tests.factories import UserFactory
from tests.machine import service_missing

# Unit tests run tasks in-process; the e2e tests switch this off for their real worker.
celery_app.conf.task_always_eager = True
celery_app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def memory_notifier(settings):
    """Slack deliveries land in ``notifications.memory.outbox`` (a list of Message); the outbox table stays real."""
    settings.SREDESK_NOTIFY_BACKENDS = {
        **settings.SREDESK_NOTIFY_BACKENDS,
        "slack": "notifications.memory.MemoryBackend",
    }
    notify_base._backend.cache_clear()
    memory.outbox.clear()
    memory.updates.clear()
    yield memory.outbox
    notify_base._backend.cache_clear()
    memory.outbox.clear()
    memory.updates.clear()


@pytest.fixture
def slack_on(settings):
    """Slack deliveries are planned (a bot token is configured)."""
    settings.SLACK_BOT_TOKEN = "xoxb-test-token"
    return settings


@pytest.fixture
def requires_postgres(db):
    if connection.vendor != "postgresql":
        service_missing("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture(scope="session")
def redis_broker_url() -> str:
    """The Redis broker URL from CELERY_BROKER_URL, checked reachable."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        service_missing("needs Redis: set CELERY_BROKER_URL=redis://...")
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=2).close()
    except OSError as exc:
        service_missing(f"Redis at {url} is unreachable: {exc}")
    return url


@pytest.fixture(scope="session")
def realdata_dir() -> Path:
    """``../shared/realdata`` as named by SREDESK_REALDATA_DIR (never copied into the project)."""
    path = os.environ.get("SREDESK_REALDATA_DIR", "")
    if not path or not Path(path).is_dir():
        service_missing("real payloads not available: set SREDESK_REALDATA_DIR to shared/realdata")
    return Path(path)


@pytest.fixture
def operator(db):
    """A staff superuser, as who runs the admin console."""
    return UserFactory(username="ops", first_name="Olu", last_name="Ops", is_staff=True, is_superuser=True)


@pytest.fixture
def operator_client(client, operator):
    """The test client signed in as ``operator`` (the admin tests' door)."""
    client.force_login(operator)
    return client
