"""Post-mortem services the UI and admin call: send a reminder now, verify a regression test by hand,
action-item status."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.models import Source
from postmortems.action_items import action_item_set_status
from postmortems.ci import regression_test_refresh
from postmortems.models import Reminder, ReminderDelivery, TestResult, TestRun
from postmortems.regression_tests import regression_test_verify_by_hand
from postmortems.reminders import reminders_send_now, reminders_sweep
from postmortems.selectors import postmortems_owing_regression_test
from tests.factories import ActionItemFactory, PostMortemFactory, RegressionTestFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- reminders_send_now -------------------------------------------------------------------------


def test_send_now_plans_the_due_step_and_queues_it(django_capture_on_commit_callbacks):
    postmortem = PostMortemFactory(published=True)
    other = PostMortemFactory(published=True)

    with django_capture_on_commit_callbacks(execute=True):
        result = reminders_send_now(postmortem_ids=[postmortem.pk])

    assert (result.planned, result.queued, result.held, result.nothing_due) == (1, 1, 0, 0)
    assert list(Reminder.objects.values_list("postmortem_id", flat=True)) == [postmortem.pk]  # only the selected
    assert ReminderDelivery.objects.get().status == "sent"
    assert not Reminder.objects.filter(postmortem=other).exists()


def test_send_now_never_plans_a_step_twice(django_capture_on_commit_callbacks):
    postmortem = PostMortemFactory(published=True)
    with django_capture_on_commit_callbacks(execute=True):
        reminders_sweep()
        again = reminders_send_now(postmortem_ids=[postmortem.pk, postmortem.pk])
        once_more = reminders_send_now(postmortem_ids=[postmortem.pk])

    assert Reminder.objects.count() == 1
    assert (again.planned, again.already_planned) == (0, 1)
    assert (once_more.planned, once_more.already_planned) == (0, 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_sweep().planned == 0  # the sweep agrees: nothing left to plan


def test_send_now_keeps_working_hours_and_snoozes():
    sleeper = UserFactory(timezone="UTC", work_start=dt.time(9), work_end=dt.time(17), working_days="12345")
    night = dt.datetime(2024, 5, 1, 2, 0, tzinfo=dt.UTC)  # a Wednesday, 02:00 UTC
    with time_machine.travel(night, tick=False):
        held = PostMortemFactory(published=True, owner=sleeper, incident__commander=None)
        snoozed = PostMortemFactory(published=True, snoozed_until=night + dt.timedelta(days=1), snooze_reason="x")
        fixed = PostMortemFactory(published=True)
        RegressionTestFactory(postmortem=fixed, state="verified")

        result = reminders_send_now(postmortem_ids=[held.pk, snoozed.pk, fixed.pk], now=night)

    assert (result.planned, result.queued, result.held, result.nothing_due) == (1, 0, 1, 2)
    delivery = ReminderDelivery.objects.get()
    assert delivery.not_before == dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC) and delivery.queued_at is None


# --- regression_test_verify_by_hand ------------------------------------------------------------


def test_verify_by_hand_needs_a_reason_and_logs_it():
    actor = UserFactory(first_name="Olu", last_name="Ops", is_staff=True)  # the admin's operator
    test = RegressionTestFactory(postmortem=PostMortemFactory(published=True))
    with pytest.raises(ValidationError) as refused:
        regression_test_verify_by_hand(regression_test_id=test.pk, reason="  ", actor=actor)
    assert "reason" in refused.value.message_dict

    test, changed = regression_test_verify_by_hand(
        regression_test_id=test.pk, reason="Ran on the\nrelease branch", actor=actor, source=Source.ADMIN
    )
    _, changed_again = regression_test_verify_by_hand(regression_test_id=test.pk, reason="again", actor=actor)

    assert (changed, changed_again, test.state, test.state_run) == (True, False, "verified", None)
    (event,) = test.postmortem.incident.timeline.filter(data__by_hand=True)
    assert event.message.endswith("linked → verified by hand by Olu Ops: Ran on the release branch")
    assert (event.actor, event.source, event.data["reason"]) == (actor, "admin", "Ran on the release branch")
    assert test.postmortem not in postmortems_owing_regression_test(now=timezone.now())  # reminders stop


def test_a_later_failing_ci_run_still_decides_after_a_hand_verification():
    test = RegressionTestFactory(test_id="tests/test_pay.py::test_retry")
    regression_test_verify_by_hand(regression_test_id=test.pk, reason="seen passing locally", actor=None)
    run = TestRun.objects.create(repository=test.repository, run_key="r1", branch="main", complete=True)
    TestResult.objects.create(test_run=run, test_id=test.test_id, outcome=TestResult.Outcome.FAILED)

    regression_test_refresh(test)

    test.refresh_from_db()
    assert test.state == "failing"


# --- action_item_set_status ----------------------------------------------------------------------


def test_action_item_status_rules():
    item = ActionItemFactory()
    with pytest.raises(ValidationError) as no_reason:
        action_item_set_status(action_item_id=item.pk, status="wont_do", actor=None)
    assert "wont_do_reason" in no_reason.value.message_dict
    with pytest.raises(ValidationError):
        action_item_set_status(action_item_id=item.pk, status="someday", actor=None)

    action_item_set_status(action_item_id=item.pk, status="done", actor=None)
    action_item_set_status(action_item_id=item.pk, status="done", actor=None)  # a repeat: no second entry

    item.refresh_from_db()
    assert item.status == "done"
    assert item.postmortem.incident.timeline.filter(data__action_item_id=item.pk).count() == 1
