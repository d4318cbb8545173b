"""The ceiling task of ``bench/page.py``, imported by its Celery worker (``--include bench.page_tasks``) only.

``bench.noop`` does nothing but note, in Redis, how long after its enqueue it started: a bare Celery round trip
(publish, broker, worker, run) on the same broker and worker the pages use.
"""

import os
import time

import redis
from celery import shared_task

KEY = "sredesk:bench:noop"
_client = None


@shared_task(name="bench.noop")
def noop_task(sent_at: float) -> None:
    """Record ``now - sent_at`` (seconds, wall clock of one host) and return."""
    started = time.time()
    global _client
    if _client is None:
        _client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    _client.rpush(KEY, f"{started - sent_at:.6f}")
