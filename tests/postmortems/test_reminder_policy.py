"""Reminder policy: kinds, escalation, digest, working hours across DST and UTC+13, snooze."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.models import Source
from notifications.models import Notification, OutboxMessage
from ownership.models import User
from postmortems import reminders
from postmortems.models import Reminder, ReminderDelivery
from postmortems.services import postmortem_snooze
from tests.factories import (
    ActionItemFactory,
    MembershipFactory,
    PostMortemFactory,
    RegressionTestFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
UTC = dt.UTC


def sweep(capture, now):
    with time_machine.travel(now, tick=False), capture(execute=True):
        return reminders.reminders_sweep(now=now)


def office_worker(**kwargs) -> User:
    return UserFactory(work_start=dt.time(9), work_end=dt.time(17), working_days="12345", **kwargs)


# --- Working hours ---------------------------------------------------------------------------------


def test_a_reminder_due_at_night_waits_for_the_next_opening(django_capture_on_commit_callbacks):
    friday_night = dt.datetime(2024, 5, 3, 21, 0, tzinfo=UTC)  # 23:00 in Berlin
    owner = office_worker(timezone="Europe/Berlin")
    PostMortemFactory(published=True, published_at=friday_night, owner=owner)

    sweep(django_capture_on_commit_callbacks, friday_night)
    sweep(django_capture_on_commit_callbacks, dt.datetime(2024, 5, 6, 6, 59, tzinfo=UTC))  # Monday 08:59 Berlin
    assert not OutboxMessage.objects.exists()
    # Step 0 (Friday) and step 1 (Saturday) are both held until Monday 09:00 Berlin.
    assert set(ReminderDelivery.objects.values_list("not_before", flat=True)) == {
        dt.datetime(2024, 5, 6, 7, 0, tzinfo=UTC)
    }

    sweep(django_capture_on_commit_callbacks, dt.datetime(2024, 5, 6, 7, 1, tzinfo=UTC))
    sweep(django_capture_on_commit_callbacks, dt.datetime(2024, 5, 6, 8, 0, tzinfo=UTC))
    assert OutboxMessage.objects.count() == 1  # only the newest goes out, not a Monday-morning pile
    assert Reminder.objects.count() == 2
    skipped = ReminderDelivery.objects.get(status="skipped")
    assert (skipped.reminder.step, skipped.last_error) == (0, "superseded by reminder step 2")


def test_dst_change_neither_skips_nor_doubles_a_reminder(django_capture_on_commit_callbacks, settings):
    """Daily reminders across the end of DST in Berlin: one per day, each at 09:00 local."""
    settings.SREDESK_REMINDER_CADENCE_SECONDS = [0]
    settings.SREDESK_REMINDER_REPEAT_SECONDS = 86400
    owner = UserFactory(timezone="Europe/Berlin", work_start=dt.time(9), work_end=dt.time(17), working_days="1234567")
    start = dt.datetime(2024, 10, 25, 5, 0, tzinfo=UTC)  # Friday 07:00 CEST
    PostMortemFactory(published=True, published_at=start, owner=owner)

    now = start
    while now < start + 4 * DAY:
        sweep(django_capture_on_commit_callbacks, now)
        now += dt.timedelta(minutes=30)

    sent = list(ReminderDelivery.objects.filter(status="sent").order_by("sent_at").values_list("not_before", flat=True))
    local = [t.astimezone(dt.timezone(dt.timedelta(hours=2 if t.month == 10 and t.day < 27 else 1))) for t in sent]
    assert [t.strftime("%a %H:%M") for t in local] == ["Fri 09:00", "Sat 09:00", "Sun 09:00", "Mon 09:00"]


# --- Escalation and digest ------------------------------------------------------------------------


def test_lead_from_the_third_reminder_and_team_channel_from_the_fifth(
    slack_on, memory_notifier, django_capture_on_commit_callbacks
):
    team = TeamFactory(slack_channel="C0PAY")
    lead = UserFactory(username="lead", slack_user_id="U0LEAD")
    MembershipFactory(team=team, user=lead, role="lead")
    owner = UserFactory(username="owner", slack_user_id="U0OWNER")
    start = dt.datetime(2024, 5, 1, 12, tzinfo=UTC)
    PostMortemFactory(published=True, published_at=start, owner=owner, incident__owning_team=team)

    per_step = []
    for days in (0, 1, 3, 7, 14):
        memory_notifier.clear()
        sweep(django_capture_on_commit_callbacks, start + dt.timedelta(days=days, minutes=1))
        per_step.append(sorted(m.address for m in memory_notifier))

    assert per_step == [
        ["U0OWNER"],
        ["U0OWNER"],
        ["U0LEAD", "U0OWNER"],
        ["U0LEAD", "U0OWNER"],
        ["C0PAY", "U0LEAD", "U0OWNER"],
    ]
    escalated = [m.text for m in memory_notifier if m.address != "U0OWNER"]
    assert all(text.startswith("Escalation, owner ") for text in escalated)


def test_past_the_personal_maximum_the_team_gets_a_weekly_digest(django_capture_on_commit_callbacks, settings):
    settings.SREDESK_REMINDER_MAX_PER_PERSON = 2
    team = TeamFactory(slug="payments")
    MembershipFactory(team=team, user=UserFactory(username="lead"), role="lead")
    start = dt.datetime(2024, 5, 1, 12, tzinfo=UTC)  # a Wednesday
    postmortem = PostMortemFactory(published=True, published_at=start, incident__owning_team=team)

    for days in (0, 1, 3, 4, 5, 7, 8, 14):
        sweep(django_capture_on_commit_callbacks, start + dt.timedelta(days=days, minutes=1))

    assert postmortem.reminders.count() == 2  # steps 0 and 1 only
    digests = Notification.objects.filter(dedup_key__startswith="reminder-digest:")
    weeks = sorted({key.split(":")[2] for key in digests.values_list("dedup_key", flat=True)})
    assert weeks == ["2024-W18", "2024-W19", "2024-W20"]  # day 3 (W18), days 5-8 (W19), day 14 (W20)
    assert set(digests.values_list("address", flat=True)) == {"team:payments", "user:lead"}
    assert postmortem.incident.public_id in digests.first().text
    assert digests.first().text.startswith(f"Weekly digest for {team}: 1 item still owed ")  # not "1 item(s)"


# --- Kinds ------------------------------------------------------------------------------------------


def test_each_kind_says_what_is_missing(django_capture_on_commit_callbacks):
    now = timezone.now()
    draft = PostMortemFactory(status="draft", due_at=now - DAY)
    item = ActionItemFactory(
        postmortem=PostMortemFactory(published=True), title="Add retry budget", due_date=(now - 2 * DAY).date()
    )
    RegressionTestFactory(postmortem=item.postmortem, state="verified")
    regressed = PostMortemFactory(complete=True)
    RegressionTestFactory(postmortem=regressed, state="failing", test_id="tests/t.py::test_x")

    sweep(django_capture_on_commit_callbacks, timezone.now())  # after the item exists: its reminders start then

    texts = {m.text.split(" ", 1)[0]: m.text for m in OutboxMessage.objects.all()}
    assert "post-mortem draft is overdue" in texts[draft.incident.public_id]
    assert "action item “Add retry budget” is overdue" in texts[item.postmortem.incident.public_id]
    assert "no longer passes in CI: tests/t.py::test_x (failing)" in texts[regressed.incident.public_id]


def test_done_action_item_stops_its_reminders(django_capture_on_commit_callbacks):
    now = timezone.now()
    item = ActionItemFactory(postmortem=PostMortemFactory(), due_date=(now - 2 * DAY).date())
    reminders.reminders_plan_due(now=timezone.now())
    item.status = "done"
    item.save()

    delivery = ReminderDelivery.objects.get()
    assert reminders.reminder_deliver(delivery_id=delivery.pk) == "skipped"
    assert ReminderDelivery.objects.get().last_error == "action item is done"


def test_a_test_that_regresses_starts_a_new_cycle(django_capture_on_commit_callbacks):
    from postmortems.ci import ci_run_upload

    postmortem = PostMortemFactory(published=True)
    test = RegressionTestFactory(postmortem=postmortem, state="verified", test_id="tests/pay.py::test_retry")
    xml = (
        b'<testsuites><testsuite name="pytest"><testcase classname="tests.pay" name="test_retry">'
        b'<failure message="boom"/></testcase></testsuite></testsuites>'
    )
    ci_run_upload(repository=test.repository, branch=test.repository.default_branch, commit="c1", content=xml)

    postmortem.refresh_from_db()
    assert postmortem.reminder_cycle == 1 and postmortem.reminder_cycle_started_at is not None
    sweep(django_capture_on_commit_callbacks, timezone.now())
    assert postmortem.reminders.get().kind == "test_regressed"


# --- Snooze -----------------------------------------------------------------------------------------


def test_snooze_pauses_reminders_and_is_logged(django_capture_on_commit_callbacks):
    now = timezone.now()
    postmortem = PostMortemFactory(published=True, due_at=now + DAY)
    postmortem_snooze(
        postmortem_id=postmortem.pk,
        until=now + 3 * DAY,
        reason="Waiting for the vendor fix",
        actor=None,
        source=Source.WEB,
    )

    sweep(django_capture_on_commit_callbacks, now + DAY)
    assert not Reminder.objects.exists()
    sweep(django_capture_on_commit_callbacks, now + 3 * DAY + dt.timedelta(minutes=1))
    assert Reminder.objects.count() == 1
    assert postmortem.incident.timeline.filter(message__contains="Waiting for the vendor fix").exists()


@pytest.mark.parametrize(
    ("days", "reason", "field"),
    [(30, "vendor", "until"), (-1, "vendor", "until"), (3, "  ", "reason")],
)
def test_snooze_rules(days, reason, field):
    now = timezone.now()
    postmortem = PostMortemFactory(published=True, due_at=now + DAY)
    with pytest.raises(ValidationError) as exc:
        postmortem_snooze(
            postmortem_id=postmortem.pk, until=now + dt.timedelta(days=days), reason=reason, actor=None, source="web"
        )
    assert field in exc.value.message_dict
