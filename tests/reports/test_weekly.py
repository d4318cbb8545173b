"""The weekly summary: one per team and ISO week to its channel and the outbox, however often it runs."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection

from notifications.models import Notification, OutboxMessage
from reports.tasks import weekly_summaries_task
from reports.weekly import weekly_summaries_send
from tests.reports.test_figures import at, world  # noqa: F401 - the hand-computed fixture

MONDAY = at(9, 1)  # Monday 9 Nov 2026 01:00 UTC: week 2026-W45 (2..8 Nov) has just ended


@pytest.mark.django_db
def test_each_team_hears_of_last_week_once(world, slack_on, memory_notifier, django_capture_on_commit_callbacks):  # noqa: F811
    with time_machine.travel(MONDAY, tick=False), django_capture_on_commit_callbacks(execute=True):
        planned = weekly_summaries_task.delay().get()
    assert planned == 4  # two teams, each its Slack channel and its outbox name
    pay = OutboxMessage.objects.get(recipient="team:payments")
    assert pay.subject == "sredesk weekly report for Payments: 2026-W45"
    assert pay.text.splitlines() == [
        "Payments, week 2026-W45 (02 Nov – 08 Nov 2026 UTC)",
        "Post-mortems: 3 published, 1 declined; 2 with a verified regression test; "
        "1 owing a regression test since this week.",
        "Published → verified: median 15 h, p90 22 h 12 m.",
        "Regression tests: 2 turned failing or missing, 1 green again (median 2 h).",
        "SEV1: 3 incidents, MTTA 15 m, MTTR 2 h (2 resolved).",
        "SEV3: 1 incident, MTTA 2 m, MTTR 16 m.",
    ]
    assert "/reports/teams/payments/?start=2026-11-02&end=2026-11-08" in pay.url
    assert sorted(m.address for m in memory_notifier) == [world["pay"].team.slack_channel,
                                                           world["search"].team.slack_channel]  # fmt: skip
    # A second run in the same week (next hour, another beat) sends nothing.
    with time_machine.travel(at(12, 9), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert weekly_summaries_task.delay().get() == 0
    assert OutboxMessage.objects.filter(recipient__startswith="team:").count() == 2
    assert len(memory_notifier) == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_summary(requires_postgres, world):  # noqa: F811
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(weekly_summaries_send(now=MONDAY))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(results) == 2  # two teams' outbox rows, whichever worker planned them
    assert Notification.objects.filter(dedup_key__startswith="weekly-report:").count() == 2


def test_beat_tries_every_hour(settings):
    from sredesk.celery import app

    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks
    entry = settings.CELERY_BEAT_SCHEDULE["reports-weekly-summaries"]
    assert entry["schedule"].run_every == dt.timedelta(hours=1)
    assert app.tasks[entry["task"]].name == "reports.weekly_summaries"
