"""The reminder policy under the faults FIELD-CASES names: double ticks, redeliveries, rate limits, mail refusals.

* BR-19: two sweeps of one tick (two beats, an overlapping tick), then one a
  minute later: one reminder per post-mortem per step, on every channel.
* BR-17: no business schedule lives in a broker ETA; a redelivered message sends once.
* BR-13: a Slack 429 burst through the real slack_sdk client (``tests.fakes.FakeSlack``):
  every reminder posted once, never sooner than ``Retry-After``, retries bounded and
  the last failure visible.
* Planning is set-based: its query count does not grow with the number of post-mortems.
* Email through a real SMTP server (``tests.fakes.FakeSMTP``): delivered, refused (550), unreachable.

Tasks run in-process (eager, tests/conftest.py) except where a test publishes
to kombu's in-memory broker to see exactly what goes over the wire.
"""

import datetime as dt
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import psycopg
import pytest
import time_machine
from celery.app.trace import build_tracer
from celery.result import allow_join_result
from celery.signals import before_task_publish, task_retry
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu import Connection

from incidents.models import Incident
from notifications import base as notify_base
from notifications.base import NotifyTransientError
from notifications.models import OutboxMessage
from ownership.models import Membership, User
from postmortems import reminders
from postmortems.models import PostMortem, Reminder, ReminderDelivery
from postmortems.services import postmortem_transition
from postmortems.tasks import reminder_deliver_task, reminders_sweep_task
from sredesk.celery import app as celery_app
from tests.factories import (
    MembershipFactory,
    PostMortemFactory,
    RegressionTestFactory,
    TeamFactory,
    UserFactory,
)
from tests.fakes import FakeSlack, FakeSMTP, free_port, wait_until

pytestmark = pytest.mark.django_db

TOKEN = "xoxb-test-policy-faults"
Status = ReminderDelivery.Status
Channel = ReminderDelivery.Channel
MINUTE = dt.timedelta(minutes=1)


# --- shared fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def every_channel(settings, slack_on):
    """Reminders go to the outbox, to Slack (the in-memory backend) and by email (Django's locmem outbox)."""
    settings.SREDESK_EMAIL_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings


def sweep(django_capture_on_commit_callbacks, now=None) -> reminders.SweepResult:
    """One tick, with the deliveries it enqueues after commit run in-process."""
    with django_capture_on_commit_callbacks(execute=True):
        return reminders.reminders_sweep(now=now)


def overdue_postmortems() -> tuple[list[PostMortem], PostMortem]:
    """Three post-mortems that owe something (three kinds of debt), and one that owes nothing."""
    owners = [UserFactory(slack_user_id=f"U0OWED{i:04d}") for i in range(3)]
    no_test = PostMortemFactory(published=True, owner=owners[0])
    only_linked = PostMortemFactory(published=True, owner=owners[1])
    RegressionTestFactory(postmortem=only_linked, state="linked")  # a promise, not yet seen passing in CI
    late_draft = PostMortemFactory(owner=owners[2], due_at=timezone.now() - dt.timedelta(hours=2))
    verified = PostMortemFactory(published=True, owner=UserFactory(slack_user_id="U0VERIFIED"))
    RegressionTestFactory(postmortem=verified, state="verified")
    return [no_test, only_linked, late_draft], verified


def assert_one_reminder_each_on_every_channel(owed, verified, slack_messages, mailbox) -> None:
    owners = [pm.owner for pm in owed]
    assert sorted(Reminder.objects.values_list("postmortem_id", flat=True)) == sorted(pm.pk for pm in owed)
    assert not Reminder.objects.filter(postmortem=verified).exists()
    assert sorted(m.recipient for m in OutboxMessage.objects.all()) == sorted(f"user:{o.username}" for o in owners)
    assert sorted(m.address for m in slack_messages) == sorted(o.slack_user_id for o in owners)
    assert sorted(m.to[0] for m in mailbox) == sorted(o.email for o in owners)
    texts = [m.text for m in OutboxMessage.objects.all()] + [m.text for m in slack_messages]
    texts += [m.body for m in mailbox]
    assert not [t for t in texts if verified.incident.public_id + " " in t]
    deliveries = ReminderDelivery.objects.all()
    assert sorted(deliveries.values_list("channel", flat=True)) == sorted(3 * [Channel.OUTBOX, Channel.SLACK, "email"])
    assert {(d.status, d.attempts) for d in deliveries} == {(Status.SENT, 1)}


def run_at_once(function: Callable[[], object], times: int = 2, *, meanwhile: Callable[[], None] | None = None) -> list:
    """Call ``function`` in ``times`` threads released together; each thread has its own database connection.

    ``meanwhile`` runs in the test's thread once the threads are started.
    Eager tasks flip a process-wide Celery flag (``denied_join_result``)
    without a lock, so it is put back afterwards for the tests that follow.
    """
    start = threading.Barrier(times)
    results, errors = [], []

    def run() -> None:
        try:
            start.wait(timeout=10)
            results.append(function())
        except BaseException as exc:  # re-raised below in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    with allow_join_result():
        threads = [threading.Thread(target=run, name=f"beat-{i}") for i in range(times)]
        for thread in threads:
            thread.start()
        try:
            if meanwhile:
                meanwhile()
        finally:
            for thread in threads:
                thread.join(timeout=60)
    if errors:
        raise errors[0]
    assert len(results) == times
    return results


@contextmanager
def reminder_inserts_held(waiters: int) -> Iterator[Callable[[], None]]:
    """Make ``waiters`` concurrent sweeps overlap for certain (PostgreSQL).

    A connection of its own holds ``SHARE`` on the reminder ledger: sweeps
    read freely but wait at their INSERT. The yielded function, run while the
    sweeps are going, waits until ``waiters`` of them are stuck there, then
    lets them all write at once, so each has planned from the same reads.
    """
    db = django_settings.DATABASES["default"]
    params = {"dbname": db["NAME"], "user": db.get("USER") or None, "password": db.get("PASSWORD") or None}
    lock = psycopg.connect(**params, host=db.get("HOST") or "127.0.0.1", port=db.get("PORT") or 5432)
    table = Reminder._meta.db_table
    lock.execute(f'LOCK TABLE "{table}" IN SHARE MODE')

    def release_when_all_wait() -> None:
        def stuck() -> bool:
            with psycopg.connect(**params, host=db.get("HOST") or "127.0.0.1", port=db.get("PORT") or 5432) as probe:
                query = "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass"
                return probe.execute(query, [table]).fetchone()[0] >= waiters

        try:
            wait_until(stuck, timeout=30, what=f"{waiters} sweeps to wait at their INSERT")
        finally:
            lock.rollback()

    try:
        yield release_when_all_wait
    finally:
        lock.rollback()
        lock.close()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def real_slack(settings, fake_slack) -> FakeSlack:
    """Slack deliveries go through the real SlackBackend and slack_sdk to the local fake Slack."""
    settings.SLACK_BOT_TOKEN = TOKEN
    settings.SREDESK_SLACK_API_URL = fake_slack.url
    settings.SREDESK_SLACK_TIMEOUT_SECONDS = 2
    settings.SREDESK_NOTIFY_BACKENDS = {**settings.SREDESK_NOTIFY_BACKENDS, "slack": "notifications.slack.SlackBackend"}
    notify_base._backend.cache_clear()
    yield fake_slack
    notify_base._backend.cache_clear()


@pytest.fixture
def eager_retries() -> Iterator[None]:
    """Eager ``apply`` re-runs a retried task at once (ignoring its countdown) instead of raising the Retry."""
    conf = celery_app.conf
    before = conf.task_eager_propagates
    conf.task_eager_propagates = False
    yield
    conf.task_eager_propagates = before


@pytest.fixture
def retry_countdowns() -> Iterator[list[float]]:
    """The countdown of every retry of a reminder delivery task (``task_retry`` signal)."""
    countdowns: list[float] = []

    def record(sender=None, reason=None, **kwargs):
        countdowns.append(reason.when)

    task_retry.connect(record, sender=reminder_deliver_task, weak=False)
    yield countdowns
    task_retry.disconnect(record, sender=reminder_deliver_task)


def slack_owners(n: int) -> list[PostMortem]:
    return [PostMortemFactory(published=True, owner=UserFactory(slack_user_id=f"U0BURST{i:04d}")) for i in range(n)]


# --- BR-19: two beats, an overlapping tick -------------------------------------------------------------


def test_two_ticks_at_once_then_one_a_minute_later_remind_each_postmortem_once(
    every_channel, memory_notifier, mailoutbox, django_capture_on_commit_callbacks
):
    """Any database: the periodic task run twice for one tick (one after the other here), then a minute later."""
    owed, verified = overdue_postmortems()
    tick = timezone.now()

    with time_machine.travel(tick, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            first = reminders_sweep_task.delay().get()
        with django_capture_on_commit_callbacks(execute=True):
            second = reminders_sweep_task.delay().get()
    with time_machine.travel(tick + MINUTE, tick=False), django_capture_on_commit_callbacks(execute=True):
        later = reminders_sweep_task.delay().get()

    assert [first["planned"], second["planned"], later["planned"]] == [3, 0, 0]
    assert_one_reminder_each_on_every_channel(owed, verified, memory_notifier, mailoutbox)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_ticks_then_one_a_minute_later_remind_each_postmortem_once(
    requires_postgres, every_channel, memory_notifier, mailoutbox
):
    """PostgreSQL: two threads run the same tick at once; the ledger's unique keys make one plan of it."""
    owed, verified = overdue_postmortems()
    tick = timezone.now()

    with reminder_inserts_held(waiters=2) as release:  # both sweeps read "nothing planned yet" before either writes
        run_at_once(lambda: reminders.reminders_sweep(now=tick), meanwhile=release)  # commits enqueue in-thread
    later = reminders.reminders_sweep(now=tick + MINUTE)

    assert later.planned == 0
    assert_one_reminder_each_on_every_channel(owed, verified, memory_notifier, mailoutbox)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_of_one_tick_report_only_what_each_planned(requires_postgres, slack_on):
    """``reminders_plan_due`` returns (and logs) the reminders *this call* created.

    It tells its own rows from a concurrent sweep's by ``created_at == now``;
    two sweeps given the same tick both claim every row, so each logs
    "planned ... step 0" for every post-mortem, and an operator reading the
    logs after a double-reminder complaint sees two plans where there was one.
    """
    slack_owners(3)
    tick = timezone.now()

    with reminder_inserts_held(waiters=2) as release:
        results = run_at_once(lambda: reminders.reminders_plan_due(now=tick), meanwhile=release)

    assert Reminder.objects.count() == 3
    assert sorted(results) == [0, 3], "both sweeps say they planned the same three reminders"


@pytest.mark.django_db(transaction=True)
def test_many_concurrent_ticks_plan_each_step_once(requires_postgres, slack_on, memory_notifier):
    """PostgreSQL: four beats run the periodic task at once on twenty post-mortems, each with its own clock."""
    owed = slack_owners(20)

    with reminder_inserts_held(waiters=4) as release:
        results = run_at_once(lambda: reminders_sweep_task.delay().result, times=4, meanwhile=release)

    assert sum(r["planned"] for r in results) == 20
    assert Reminder.objects.count() == 20
    assert sorted(m.address for m in memory_notifier) == sorted(pm.owner.slack_user_id for pm in owed)
    assert set(ReminderDelivery.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}


# --- BR-17: nothing waits in the broker; a redelivered message sends once ------------------------------------


@dataclass(frozen=True)
class PublishedTask:
    """One task message as it went to the broker."""

    name: str
    id: str
    args: list
    eta: str | None
    expires: str | None
    retries: int
    routing_key: str
    at: dt.datetime


@pytest.fixture
def broker(monkeypatch) -> Iterator[list[PublishedTask]]:
    """Tasks are published for real, to kombu's in-memory broker, instead of run in-process; yields the messages.

    Messages are seen through Celery's ``before_task_publish`` signal, so the
    headers (``eta``, ``expires``, ``retries``) are what a worker would get.
    """
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_write_url
    published: list[PublishedTask] = []

    def record(sender=None, headers=None, body=None, routing_key=None, **kwargs):
        published.append(
            PublishedTask(
                name=sender,
                id=headers["id"],
                args=list(body[0]),
                eta=headers.get("eta"),
                expires=headers.get("expires"),
                retries=headers.get("retries") or 0,
                routing_key=routing_key or "",
                at=timezone.now(),
            )
        )

    def fresh_producer_pool() -> None:
        # Celery keeps its producer pool (and the broker URL it was made for) once made; start a new one.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    conf.broker_write_url = "memory://"
    conf.task_always_eager = False
    fresh_producer_pool()
    before_task_publish.connect(record, weak=False)
    try:
        yield published
    finally:
        before_task_publish.disconnect(record)
        conf.task_always_eager, conf.broker_write_url = saved
        fresh_producer_pool()
        with Connection("memory://") as memory:
            for queue in ("default", "notify"):
                with suppress(Exception):
                    memory.default_channel.queue_purge(queue)


def run_like_a_worker(message: PublishedTask):
    """Execute ``message`` the way a worker does (Celery's tracer, not eager): a retry publishes a new message."""
    task = celery_app.tasks[message.name]
    tracer = build_tracer(task.name, task, eager=False, propagate=False, app=celery_app)
    request = {
        "id": message.id,
        "args": message.args,
        "kwargs": {},
        "retries": message.retries,
        "is_eager": False,
        "delivery_info": {"exchange": "", "routing_key": message.routing_key},
    }
    return tracer(message.id, message.args, {}, request)


def seconds_until(eta: str, since: dt.datetime) -> float:
    return (dt.datetime.fromisoformat(eta) - since).total_seconds()


def test_the_beat_schedule_uses_no_eta_or_countdown():
    for name, entry in django_settings.CELERY_BEAT_SCHEDULE.items():
        assert not {"eta", "countdown"} & set(entry.get("options", {})), name


def test_publishing_a_postmortem_schedules_no_reminder_in_the_broker(broker, django_capture_on_commit_callbacks):
    """The first reminder comes from the sweep reading the database, not from a countdown set at publication."""
    postmortem = PostMortemFactory(status=PostMortem.Status.IN_REVIEW)

    with django_capture_on_commit_callbacks(execute=True):
        postmortem_transition(postmortem_id=postmortem.pk, verb="publish", actor=None, source="web")

    assert broker, "publishing announces the post-mortem"
    assert {m.name for m in broker} == {"incidents.side_effect"}  # the announcement, by the side-effect worker
    assert [(m.eta, m.expires) for m in broker] == [(None, None)] * len(broker)


def test_sweep_and_delivery_publish_no_eta_except_the_retry_after_retry(
    broker, real_slack, retry_countdowns, django_capture_on_commit_callbacks
):
    [postmortem] = slack_owners(1)
    real_slack.rate_limit_next(retry_after=30)

    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.reminders_sweep().planned == 1
    deliveries = [m for m in broker if m.name == "notify.reminder_deliver"]
    assert len(deliveries) == len(broker) == 2  # the outbox and Slack deliveries, nothing else
    assert [(m.eta, m.expires, m.retries) for m in deliveries] == [(None, None, 0)] * 2

    for message in deliveries:
        run_like_a_worker(message)
    [retry] = broker[2:]  # the Slack delivery, rate limited, put back with a countdown
    assert (retry.name, retry.args, retry.retries) == ("notify.reminder_deliver", deliveries[1].args, 1)
    assert retry_countdowns == [30]
    assert 29.9 <= seconds_until(retry.eta, retry.at) <= 30.1  # ETA set from the 429, read just before publishing
    slack = ReminderDelivery.objects.get(channel=Channel.SLACK)
    assert (slack.status, slack.attempts) == (Status.PENDING, 1)

    with time_machine.travel(timezone.now() + dt.timedelta(seconds=31), tick=False):
        run_like_a_worker(retry)  # the broker hands it over when the ETA comes

    assert len(broker) == 3  # a success publishes nothing
    slack.refresh_from_db()
    assert (slack.status, slack.attempts) == (Status.SENT, 2)
    assert [r.status for r in real_slack.posts(channel=postmortem.owner.slack_user_id)] == [429, 200]


def test_a_delivery_message_delivered_twice_sends_once(broker, real_slack, django_capture_on_commit_callbacks):
    """Redis redelivers an unacknowledged message after the visibility timeout: the second run finds the row taken."""
    [postmortem] = slack_owners(1)
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminders_sweep()
    slack = ReminderDelivery.objects.get(channel=Channel.SLACK)
    [message] = [m for m in broker if m.args == [slack.pk]]

    first = run_like_a_worker(message)
    again = run_like_a_worker(message)  # the same message, redelivered

    assert (first.retval, again.retval) == ("sent", "not_pending")
    assert len(real_slack.posts(channel=postmortem.owner.slack_user_id)) == 1
    slack.refresh_from_db()
    assert (slack.status, slack.attempts) == (Status.SENT, 1)


def test_a_long_retry_after_is_not_held_as_a_broker_eta(broker, real_slack, django_capture_on_commit_callbacks):
    """A Retry-After longer than Redis' visibility timeout must not become a broker ETA (BR-17).

    Redis would hand the held message to another worker after the
    visibility timeout (3600 s by default), which would post before the
    Retry-After ran out. The wait belongs on the delivery row, where the sweep sees it.
    """
    slack_owners(1)
    visibility_timeout = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    real_slack.rate_limit_next(retry_after=2 * visibility_timeout)
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminders_sweep()
    slack = ReminderDelivery.objects.get(channel=Channel.SLACK)
    [message] = [m for m in broker if m.args == [slack.pk]]

    run_like_a_worker(message)

    held = [m for m in broker if m.eta and seconds_until(m.eta, m.at) >= visibility_timeout]
    assert not held, f"a message waits {seconds_until(held[0].eta, held[0].at):.0f} s in the broker"


# --- BR-13: a Slack rate-limit burst through the real client ---------------------------------------------


def test_a_rate_limit_burst_posts_every_reminder_once_after_retry_after(
    real_slack, eager_retries, retry_countdowns, django_capture_on_commit_callbacks
):
    """Eager runs retry at once, before the row's Retry-After: that copy is a no-op, and the rows wait.

    (A worker runs the retry at its countdown; here the sweep re-queues the
    waiting rows a redeliver window later, the path a lost retry takes.)
    """
    owed = slack_owners(5)
    real_slack.rate_limit_next(retry_after=30, times=2)
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        result = sweep(django_capture_on_commit_callbacks)
    assert len(real_slack.ok_posts()) == 3  # two wait for Retry-After
    with time_machine.travel(start + dt.timedelta(seconds=601), tick=False):
        sweep(django_capture_on_commit_callbacks)

    assert result.planned == 5
    for postmortem in owed:
        [post] = real_slack.ok_posts(channel=postmortem.owner.slack_user_id)
        assert postmortem.incident.public_id in post.text
    assert [r.status for r in real_slack.posts()].count(429) == 2
    assert len(real_slack.posts()) == 7
    assert retry_countdowns == [30, 30]
    slack = ReminderDelivery.objects.filter(channel=Channel.SLACK)
    assert set(slack.values_list("status", flat=True)) == {Status.SENT}
    assert sum(slack.values_list("attempts", flat=True)) == 5 + 2


def test_a_delivery_rate_limited_past_the_bound_fails_visibly(
    settings, client, real_slack, eager_retries, retry_countdowns, django_capture_on_commit_callbacks
):
    settings.SREDESK_NOTIFY_MAX_ATTEMPTS = 5
    [postmortem] = slack_owners(1)
    real_slack.rate_limit_next(retry_after=30, times=50)
    start = timezone.now()

    for tick in range(7):  # a later tick does not start over
        with time_machine.travel(start + dt.timedelta(seconds=601 * tick), tick=False):
            sweep(django_capture_on_commit_callbacks)

    slack = ReminderDelivery.objects.get(channel=Channel.SLACK)
    assert (slack.status, slack.attempts) == (Status.FAILED, 5)
    assert slack.last_error == "gave up after 5 attempts: Slack rate limited: retry after 30 s"
    assert len(real_slack.posts(channel=postmortem.owner.slack_user_id)) == 5
    assert retry_countdowns == [30] * 4
    metrics = client.get("/metrics").content.decode()
    assert 'sredesk_reminders_failed_total{channel="slack"} 1.0' in metrics


def test_a_second_message_for_a_rate_limited_delivery_waits_for_retry_after(
    broker, real_slack, django_capture_on_commit_callbacks
):
    """A copy of the delivery's message that runs after the 429 must not post before Retry-After (BR-13).

    Copies are expected: two sweeps may enqueue the same delivery
    (``reminders_release``), Redis redelivers after the visibility timeout. The
    429 put the row back to ``pending``, so the copy's claim succeeds and it
    posts at once. Seen for real in tests/e2e/test_reminder_faults.py: a post
    0.11 s after a ``Retry-After: 1``.
    """
    [postmortem] = slack_owners(1)
    real_slack.rate_limit_next(retry_after=30)
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminders_sweep()
    slack = ReminderDelivery.objects.get(channel=Channel.SLACK)
    [message] = [m for m in broker if m.args == [slack.pk]]

    run_like_a_worker(message)  # 429: back to pending, a retry published for 30 s later
    run_like_a_worker(message)  # another copy of the message, a moment later

    posts = real_slack.posts(channel=postmortem.owner.slack_user_id)
    assert [r.status for r in posts] == [429], "posted again before the Retry-After ran out"


def test_the_sweep_does_not_resend_before_retry_after(real_slack, settings, django_capture_on_commit_callbacks):
    """A Retry-After longer than the redeliver window is honoured by the sweep too (BR-13).

    The rate-limited row goes back to ``pending``; the sweep re-enqueues
    pending rows enqueued longer ago than ``SREDESK_NOTIFY_REDELIVER_AFTER_SECONDS``
    (their message may be lost), and must not do it before Slack's Retry-After.
    """
    settings.SREDESK_NOTIFY_REDELIVER_AFTER_SECONDS = 600
    [postmortem] = slack_owners(1)
    start = timezone.now()
    reminders.reminders_plan_due(now=start)
    slack = ReminderDelivery.objects.get(channel=Channel.SLACK)
    real_slack.rate_limit_next(retry_after=900)
    with time_machine.travel(start, tick=False):
        # Longer than a broker should hold a retry: the row keeps the time and the sweep releases it.
        assert reminders.reminder_deliver(delivery_id=slack.pk) == "deferred"

    for offset in (601, 899):
        with time_machine.travel(start + dt.timedelta(seconds=offset), tick=False):
            sweep(django_capture_on_commit_callbacks, now=timezone.now())
        posts = real_slack.posts(channel=postmortem.owner.slack_user_id)
        assert [r.status for r in posts] == [429], f"posted again {offset} s after a Retry-After: 900"
    with time_machine.travel(start + dt.timedelta(seconds=1201), tick=False):
        sweep(django_capture_on_commit_callbacks, now=timezone.now())
    slack.refresh_from_db()
    assert (slack.status, slack.attempts) == (Status.SENT, 2)


# --- planning is set-based -----------------------------------------------------------------------------------


def bulk_due_postmortems(count: int, *, first: int, team, now: dt.datetime) -> None:
    """``count`` published post-mortems owing a regression test, each with its own owner, in a few INSERTs."""
    owners = User.objects.bulk_create(
        User(
            username=f"bulk{i}",
            email=f"bulk{i}@example.test",
            timezone="UTC",
            work_start=dt.time(0),
            work_end=dt.time(0),
            working_days="1234567",
        )
        for i in range(first, first + count)
    )
    began = now - dt.timedelta(days=3)
    incidents = Incident.objects.bulk_create(
        Incident(
            title=f"Bulk outage {i}",
            severity=2,
            status=Incident.Status.RESOLVED,
            started_at=began,
            detected_at=began,
            resolved_at=began + dt.timedelta(hours=1),
            owning_team=team,
        )
        for i in range(first, first + count)
    )
    PostMortem.objects.bulk_create(
        PostMortem(
            incident=incident,
            owner=owner,
            status=PostMortem.Status.PUBLISHED,
            due_at=now + dt.timedelta(days=5),
            published_at=now - MINUTE,
        )
        for incident, owner in zip(incidents, owners, strict=True)
    )


def planning_queries(now: dt.datetime) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        planned = reminders.reminders_plan_due(now=now)
    return planned, [q["sql"] for q in queries.captured_queries]


def batches_as_one(queries: list[str]) -> list[str]:
    """Count a statement that Django split into consecutive batches (same SQL, other parameters) as one.

    Only for SQLite: Django 5.2 allows 999 parameters a statement there, so it
    splits bulk INSERTs and ``in_bulk`` lookups of 1,000 rows whatever the code
    asks. PostgreSQL takes them whole (or in the code's own batches of 1,000).
    """
    merged: list[str] = []
    for sql in queries:
        shape = re.sub(r" IN \([^)]*\)", " IN (...)", sql.split(" VALUES ")[0])
        if not merged or merged[-1] != shape:
            merged.append(shape)
    return merged


def test_planning_takes_as_many_queries_for_1000_postmortems_as_for_10():
    team = TeamFactory()
    MembershipFactory(team=team, role=Membership.Role.LEAD)
    now = timezone.now()

    bulk_due_postmortems(10, first=0, team=team, now=now)
    planned_small, small = planning_queries(now)
    Reminder.objects.all().delete()  # plan everything again, from nothing, at the larger size
    bulk_due_postmortems(990, first=10, team=team, now=now)
    planned_large, large = planning_queries(now)

    assert (planned_small, planned_large) == (10, 1000)
    assert ReminderDelivery.objects.count() == 1000
    if connection.vendor == "sqlite":
        # At most a few dozen batches of 999 parameters; a query per post-mortem would be ~990 more.
        assert len(large) - len(small) < 50, f"{len(large) - len(small)} more queries for 990 more post-mortems"
        small, large = batches_as_one(small), batches_as_one(large)
    listing = ["-- 10 post-mortems:", *(q[:200] for q in small), "-- 1000 post-mortems:", *(q[:200] for q in large)]
    assert len(small) == len(large), "queries grew with the number of post-mortems:\n" + "\n".join(listing)


# --- email through a real SMTP server ------------------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[FakeSMTP]:
    with FakeSMTP() as server:
        yield server


def use_smtp(settings, port: int) -> None:
    """Email reminders go through Django's SMTP backend to 127.0.0.1:``port``."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.SREDESK_EMAIL_ENABLED = True
    notify_base._backend.cache_clear()


@pytest.fixture
def real_email(settings, smtp_server) -> Iterator[FakeSMTP]:
    use_smtp(settings, smtp_server.port)
    yield smtp_server
    notify_base._backend.cache_clear()


def email_delivery() -> ReminderDelivery:
    return ReminderDelivery.objects.get(channel="email")


def test_a_reminder_reaches_a_real_mail_server(real_email, django_capture_on_commit_callbacks):
    postmortem = PostMortemFactory(published=True)
    public_id = postmortem.incident.public_id

    sweep(django_capture_on_commit_callbacks)

    [mail] = real_email.messages
    assert mail.rcpt_tos == [postmortem.owner.email]
    assert mail.subject.startswith(f"{public_id} (SEV2) ")
    assert f"{public_id} post-mortem has no regression test" in mail.body
    assert f"/postmortems/{postmortem.pk}/" in mail.body
    delivery = email_delivery()
    assert (delivery.status, delivery.attempts, delivery.address) == (Status.SENT, 1, postmortem.owner.email)


def test_a_sent_email_records_its_message_id(real_email, django_capture_on_commit_callbacks):
    """``external_ref`` names the message as the mail server saw it, so a bounce or a log line can be traced."""
    PostMortemFactory(published=True)

    sweep(django_capture_on_commit_callbacks)

    [mail] = real_email.messages
    assert mail.message["Message-ID"]
    assert email_delivery().external_ref == mail.message["Message-ID"]


@pytest.mark.parametrize(
    ("at", "reply", "error"),
    [
        ("DATA", "550 5.7.1 Message rejected as spam", "mail server said 550"),
        ("RCPT", "550 5.1.1 No such user here", "mail server refused"),
    ],
    ids=["550-at-data", "550-at-rcpt"],
)
def test_a_550_from_the_mail_server_fails_the_delivery_visibly(
    real_email, django_capture_on_commit_callbacks, at, reply, error
):
    PostMortemFactory(published=True)
    real_email.reply_next(reply, at=at)

    sweep(django_capture_on_commit_callbacks)

    delivery = email_delivery()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 1)
    assert error in delivery.last_error
    assert not real_email.messages


def test_a_refused_connection_leaves_the_email_pending_and_a_later_sweep_sends_it(
    settings, django_capture_on_commit_callbacks
):
    port = free_port()  # nothing listens there yet
    use_smtp(settings, port)
    postmortem = PostMortemFactory(published=True)
    start = timezone.now()
    reminders.reminders_plan_due(now=start)
    delivery = email_delivery()

    with pytest.raises(NotifyTransientError, match="mail server unreachable"):
        reminders.reminder_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 1)
    assert "mail server unreachable" in delivery.last_error

    later = start + dt.timedelta(seconds=settings.SREDESK_NOTIFY_REDELIVER_AFTER_SECONDS + 60)
    with FakeSMTP(port=port) as server, time_machine.travel(later, tick=False):
        sweep(django_capture_on_commit_callbacks, now=later)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SENT, 2)
    [mail] = server.messages
    assert postmortem.incident.public_id in mail.subject
    notify_base._backend.cache_clear()
