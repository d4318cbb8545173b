"""The post-mortems admin: actions that call the services (send a reminder now, verify by hand, workflow, done)."""

import pytest
from django.urls import reverse

from postmortems.models import ActionItem, PostMortem, RegressionTest, Reminder
from tests.factories import ActionItemFactory, PostMortemFactory, RegressionTestFactory

pytestmark = pytest.mark.django_db


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_send_reminder_now_plans_the_due_step_once(operator_client, django_capture_on_commit_callbacks):
    postmortem = PostMortemFactory(published=True)
    url = changelist(PostMortem)
    with django_capture_on_commit_callbacks(execute=True):
        first = operator_client.post(
            url, {"action": "send_reminder_now", "_selected_action": [postmortem.pk]}, follow=True
        )
    second = operator_client.post(
        url, {"action": "send_reminder_now", "_selected_action": [postmortem.pk]}, follow=True
    )

    assert Reminder.objects.filter(postmortem=postmortem).count() == 1
    assert "1 reminder(s) planned" in first.content.decode()
    assert "already had their due reminder" in second.content.decode()
    delivery = Reminder.objects.get().deliveries.get()
    assert delivery.status == "sent"  # the eager task ran after commit


def test_verify_by_hand_asks_for_a_reason_then_logs_it(operator_client, operator):
    test = RegressionTestFactory(postmortem=PostMortemFactory(published=True))
    url = changelist(RegressionTest)

    form = operator_client.post(url, {"action": "verify_by_hand", "_selected_action": [test.pk]})
    assert form.status_code == 200 and "Mark regression tests verified by hand" in form.content.decode()
    test.refresh_from_db()
    assert test.state == "linked"

    empty = operator_client.post(url, {"action": "verify_by_hand", "_selected_action": [test.pk], "apply": "1"})
    assert "This field is required" in empty.content.decode()

    done = operator_client.post(
        url,
        {"action": "verify_by_hand", "_selected_action": [test.pk], "apply": "1", "reason": "Ran it on release"},
        follow=True,
    )
    assert "1 regression test(s) marked verified by hand." in done.content.decode()
    test.refresh_from_db()
    assert test.state == "verified"
    event = test.postmortem.incident.timeline.get(data__by_hand=True)
    assert event.actor == operator and event.source == "admin"
    assert "verified by hand by Olu Ops: Ran it on release" in event.message


def test_postmortem_workflow_actions_go_through_the_service(operator_client):
    postmortem = PostMortemFactory()
    operator_client.post(changelist(PostMortem), {"action": "publish_selected", "_selected_action": [postmortem.pk]})
    postmortem.refresh_from_db()
    assert postmortem.status == "published" and postmortem.published_at
    response = operator_client.post(
        changelist(PostMortem), {"action": "complete_selected", "_selected_action": [postmortem.pk]}, follow=True
    )
    assert "No regression test has been seen passing in CI yet." in response.content.decode()


def test_action_item_mark_done_action_logs_on_the_timeline(operator_client):
    item = ActionItemFactory()
    operator_client.post(changelist(ActionItem), {"action": "mark_done", "_selected_action": [item.pk]})
    item.refresh_from_db()
    assert item.status == "done"
    assert item.postmortem.incident.timeline.filter(message__contains="open → done", source="admin").exists()
