"""The post-mortems admin: actions that call the services (send a reminder now, verify by hand, workflow, done)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from ownership.models import Membership
from postmortems.models import ActionItem, PostMortem, RegressionTest, Reminder
from tests.factories import ActionItemFactory, MembershipFactory, PostMortemFactory, RegressionTestFactory, TeamFactory

pytestmark = pytest.mark.django_db
DAYS_10 = dt.timedelta(days=10)


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
    assert "1 reminder planned, 1 delivery sent to the queue." in first.content.decode()
    assert "1 post-mortem already had its due reminder." in second.content.decode()
    delivery = Reminder.objects.get().deliveries.get()
    assert delivery.status == "sent"  # the eager task ran after commit


def _owing(count: int) -> list[int]:
    """``count`` post-mortems of their own teams (with a lead and a Slack channel) owing a regression test, with an
    overdue action item, and as many overdue drafts: every kind and recipient send-now plans for."""
    ids = []
    for _ in range(count):
        team = TeamFactory(slack_channel="#team")
        MembershipFactory(team=team, role=Membership.Role.LEAD)
        published = PostMortemFactory(
            published=True, incident__owning_team=team, published_at=timezone.now() - dt.timedelta(days=20)
        )
        ActionItemFactory(
            postmortem=published, owner=MembershipFactory(team=team).user, due_date=timezone.now().date() - DAYS_10
        )
        ids += [published.pk, PostMortemFactory(due_at=timezone.now() - DAYS_10).pk]
    return ids


def test_send_reminder_now_runs_as_many_queries_for_eight_post_mortems_as_for_two(
    operator_client, settings, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """The request's own queries (the deliveries it enqueues are the worker's) do not grow with the selection."""
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    url = changelist(PostMortem)
    few, many = _owing(2), _owing(8)
    with django_capture_on_commit_callbacks() as enqueued_few, django_assert_max_num_queries(40) as counted:
        operator_client.post(url, {"action": "send_reminder_now", "_selected_action": few})
    with django_capture_on_commit_callbacks() as enqueued_many, django_assert_max_num_queries(len(counted)):
        operator_client.post(url, {"action": "send_reminder_now", "_selected_action": many})

    assert (len(enqueued_few), len(enqueued_many)) == (1, 1)  # one hand-off to the queue after commit, each
    assert Reminder.objects.filter(postmortem_id__in=few).count() == 6  # 2 x (regression test, action item, draft)
    assert Reminder.objects.filter(postmortem_id__in=many).count() == 24


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
    assert "1 regression test marked verified by hand." in done.content.decode()
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
