"""The reminder loop end to end: a real Celery worker with embedded beat, Redis, PostgreSQL and a local Slack.

The test process writes committed rows (``transactional_db``) into the test
database; a ``celery worker --beat`` subprocess, pointed at the same database
and at a private Redis database, sweeps every second and posts reminders
through the real slack_sdk client to ``tests.fakes.FakeSlack``. The cadence is
squeezed to "at once, then every 2 s", so the loop's whole life (remind,
remind again, go on after a test is merely linked, stop once CI has seen it pass)
fits in a few seconds.

Skips without PostgreSQL and Redis; fails instead when SREDESK_REQUIRE_SERVICES=1 (CI).
"""

import re
import time

import pytest
from django.utils import timezone

from notifications.models import OutboxMessage
from postmortems.ci import ci_run_upload
from postmortems.models import Heartbeat, Reminder, ReminderDelivery
from postmortems.regression_tests import regression_test_link
from postmortems.reminders import SWEEP_HEARTBEAT
from tests.e2e.workers import SLACK_TOKEN, WAIT
from tests.factories import PostMortemFactory, RepositoryFactory, TeamFactory, UserFactory
from tests.fakes import FakeSlack, wait_until

pytestmark = pytest.mark.e2e

OWNER_SLACK_ID = "U0E2EOWNER"
REPEAT_SECONDS = 2
PASSING_RUN = (
    b'<testsuites><testsuite name="pytest" tests="1">'
    b'<testcase classname="tests.payments.test_retry" name="test_timeout_is_retried" time="0.2"/>'
    b"</testsuite></testsuites>"
)
LATE_GRACE = 1.0  # a Slack post may still arrive this long after linking (it was mid-send)
REMINDER_STEP = re.compile(r"\(reminder (\d+)\)")


@pytest.fixture
def reminder_worker(celery_workers):
    """A real ``celery worker --beat`` (see ``tests/e2e/conftest.py``) sweeping every second, on a squeezed cadence."""
    return celery_workers.start_ready(
        "beat",
        beat=True,
        env={
            "SREDESK_REMINDER_SWEEP_SECONDS": "1",
            "SREDESK_REMINDER_CADENCE_SECONDS": "0",
            "SREDESK_REMINDER_REPEAT_SECONDS": str(REPEAT_SECONDS),
            # Escalation counts cadence steps; squeezed to 2 s each, a post-mortem published a minute
            # ago (the factory's) is dozens of steps in. Keep this test about the owner's reminders.
            "SREDESK_REMINDER_LEAD_FROM_STEP": "100000",
            "SREDESK_REMINDER_TEAM_CHANNEL_FROM_STEP": "100000",
            "SREDESK_REMINDER_MAX_PER_PERSON": "100000",
        },
    )


def _reminders_to_owner(fake_slack: FakeSlack, public_id: str) -> list:
    return [
        r for r in fake_slack.ok_posts(channel=OWNER_SLACK_ID) if public_id in r.text and "no regression test" in r.text
    ]


def test_reminders_reach_slack_until_ci_verifies_the_regression_test(reminder_worker, fake_slack):
    team = TeamFactory()
    owner = UserFactory(slack_user_id=OWNER_SLACK_ID)
    postmortem = PostMortemFactory(published=True, owner=owner, incident__owning_team=team)
    public_id = postmortem.incident.public_id
    assert public_id == f"INC-{postmortem.incident.pk}"

    def diagnostics() -> str:
        posts = "\n".join(f"  {r.status} {r.channel}: {r.text[:160]!r}" for r in fake_slack.requests)
        rows = "\n".join(f"  {d}" for d in ReminderDelivery.objects.filter(reminder__postmortem=postmortem))
        return f"Slack saw:\n{posts}\ndeliveries:\n{rows}\n{reminder_worker.log_tail()}"

    # 1. The owner gets a Slack DM naming the incident, then another one: the loop keeps pushing.
    wait_until(
        lambda: _reminders_to_owner(fake_slack, public_id),
        timeout=WAIT,
        what=f"a Slack reminder about {public_id} to {OWNER_SLACK_ID}",
        diagnostics=diagnostics,
    )
    wait_until(
        lambda: len(_reminders_to_owner(fake_slack, public_id)) >= 2,
        timeout=WAIT,
        what=f"a second Slack reminder about {public_id}",
        diagnostics=diagnostics,
    )
    for post in fake_slack.posts():
        assert post.authorization == f"Bearer {SLACK_TOKEN}"
        assert post.channel == OWNER_SLACK_ID  # nobody else is reminded: the owner is known

    # 2. A regression test is linked: a promise, so the loop goes on, saying what is still missing.
    repository = RepositoryFactory(default_branch="main")
    test, created = regression_test_link(
        postmortem=postmortem,
        repository=repository,
        test_id="tests/payments/test_retry.py::test_timeout_is_retried",
        actor=owner,
    )
    assert created and test.state == "linked"
    wait_until(
        lambda: any("verified in CI yet" in r.text for r in _reminders_to_owner(fake_slack, public_id)),
        timeout=WAIT,
        what="a reminder saying the linked test is not yet verified",
        diagnostics=diagnostics,
    )

    # 3. CI reports the test passing on the default branch: the loop stops.
    ci_run_upload(repository=repository, branch="main", commit="abc123", content=PASSING_RUN, complete=True)
    test.refresh_from_db()
    assert test.state == "verified"
    linked_at, linked_clock = timezone.now(), time.monotonic()  # committed: the service's transaction has ended

    # Two sweeps that finished after the link: the second one started after it, so it saw the test.
    sweeps_after_link: set = set()

    def two_more_sweeps() -> bool:
        beat = Heartbeat.objects.filter(name=SWEEP_HEARTBEAT).values_list("last_success_at", flat=True).first()
        if beat and beat > linked_at:
            sweeps_after_link.add(beat)
        return len(sweeps_after_link) >= 2

    wait_until(two_more_sweeps, timeout=WAIT, what="two reminder sweeps after the link", diagnostics=diagnostics)
    time.sleep(2)  # let deliveries the last sweeps may have queued drain (they take milliseconds here)

    late = [r for r in fake_slack.requests if r.at > linked_clock + LATE_GRACE]
    assert not late, f"Slack was posted to {len(late)} time(s) after the regression test was linked\n{diagnostics()}"
    planned_after = ReminderDelivery.objects.filter(reminder__postmortem=postmortem, reminder__created_at__gt=linked_at)
    assert set(planned_after.values_list("status", flat=True)) <= {ReminderDelivery.Status.SKIPPED}, diagnostics()
    unfinished = ReminderDelivery.objects.filter(
        reminder__postmortem=postmortem, status__in=[ReminderDelivery.Status.PENDING, ReminderDelivery.Status.SENDING]
    )
    assert not unfinished.exists(), f"deliveries left behind\n{diagnostics()}"

    # 3. Never duplicated: one Slack post per sent Slack delivery, each a different cadence step, sent once.
    slack_sent = ReminderDelivery.objects.filter(
        reminder__postmortem=postmortem, channel=ReminderDelivery.Channel.SLACK, status=ReminderDelivery.Status.SENT
    )
    posts = fake_slack.ok_posts()
    assert sorted(d.external_ref for d in slack_sent) == sorted(p.reply["ts"] for p in posts), diagnostics()
    assert all(d.attempts == 1 for d in slack_sent), diagnostics()
    steps = [m.group(1) if (m := REMINDER_STEP.search(p.text)) else "1" for p in posts]
    assert len(steps) == len(set(steps)), f"a cadence step was posted twice: {steps}"
    assert Reminder.objects.filter(postmortem=postmortem).count() >= 2

    # 4. The database outbox has every reminder too, once, addressed to the owner.
    outbox = OutboxMessage.objects.filter(recipient=f"user:{owner.username}", text__contains=public_id)
    assert outbox.count() >= len(posts) >= 2
    assert all("no regression test" in m.text for m in outbox)
    outbox_sent = ReminderDelivery.objects.filter(
        reminder__postmortem=postmortem, channel=ReminderDelivery.Channel.OUTBOX, status=ReminderDelivery.Status.SENT
    )
    assert {m.dedup_key for m in outbox} == {f"reminder-delivery:{d.pk}" for d in outbox_sent}
