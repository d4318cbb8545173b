"""Action items and reminder texts that tell the truth (issue 15 item 9).

An item due in the past is refused unless the person confirms it, at every door
(API, web form, admin); an item without an owner is the post-mortem owner's, and
each door says so; and each reminder text (overdue item, escalation, repeat
count, weekly digest) says only what happened.
"""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification, OutboxMessage
from postmortems import reminders
from postmortems.models import ActionItem, Reminder, ReminderDelivery
from tests.api.clients import client_for
from tests.factories import ActionItemFactory, MembershipFactory, PostMortemFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def sweep(capture, now):
    with time_machine.travel(now, tick=False), capture(execute=True):
        return reminders.reminders_sweep(now=now)


@pytest.fixture
def team_pm(db):
    """A published post-mortem owned by Ana, in a team led by Lee, and a staff member who may write anything."""
    team = TeamFactory(slug="payments", name="Payments")
    lead = MembershipFactory(team=team, user=UserFactory(username="lee"), role="lead").user
    owner = MembershipFactory(team=team, user=UserFactory(username="ana", first_name="Ana", last_name="")).user
    postmortem = PostMortemFactory(incident__owning_team=team, owner=owner, published=True)
    return {"pm": postmortem, "owner": owner, "lead": lead, "staff": UserFactory(username="op", is_staff=True)}


# --- A past due date at every door ---------------------------------------------------------------------------


def test_api_refuses_a_past_due_date_unless_confirmed(team_pm):
    api = client_for(team_pm["staff"])
    body = {"postmortem": team_pm["pm"].pk, "title": "Add a retry budget", "due_date": "2020-01-31"}

    refused = api.post("/api/v1/action-items/", body, format="json")
    assert refused.status_code == 400
    assert "2020-01-31 is in the past" in str(refused.json()) and "due_date" in str(refused.json())
    assert not ActionItem.objects.exists()

    accepted = api.post("/api/v1/action-items/", {**body, "confirm_past_due": True}, format="json")
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["overdue"] is True

    item = ActionItem.objects.get()
    changed = api.patch(f"/api/v1/action-items/{item.pk}/", {"title": "Retry budget"}, format="json")
    assert changed.status_code == 200  # an unchanged past date needs no new confirmation
    moved = api.patch(f"/api/v1/action-items/{item.pk}/", {"due_date": "2021-01-01"}, format="json")
    assert moved.status_code == 400 and "2021-01-01 is in the past" in str(moved.json())


def test_web_forms_refuse_a_past_due_date_unless_confirmed(team_pm, client):
    client.force_login(team_pm["owner"])
    postmortem = team_pm["pm"]
    add = reverse("postmortems:add_action_item", args=[postmortem.pk])
    form = {"title": "Add a retry budget", "kind": "prevent", "priority": "2", "due_date": "2020-01-31"}

    page = client.post(add, form, follow=True).content.decode()
    assert "2020-01-31 is in the past" in page and not ActionItem.objects.exists()
    client.post(add, {**form, "confirm_past_due": "on"})
    item = ActionItem.objects.get()
    assert item.due_date == dt.date(2020, 1, 31)

    edit = reverse("postmortems:edit_action_item", args=[postmortem.pk, item.pk])
    response = client.post(edit, {**form, "due_date": "2021-01-01"})
    assert response.status_code == 400 and "2021-01-01 is in the past" in response.content.decode()
    assert ActionItem.objects.get().due_date == dt.date(2020, 1, 31)


def test_admin_refuses_a_past_due_date_unless_confirmed(team_pm, operator_client):
    url = reverse("admin:postmortems_actionitem_add")
    form = {
        "postmortem": team_pm["pm"].pk,
        "title": "Add a retry budget",
        "kind": "prevent",
        "priority": "2",
        "status": "open",
        "due_date": "2020-01-31",
    }
    response = operator_client.post(url, form)
    assert response.status_code == 200 and "2020-01-31 is in the past" in response.content.decode()
    operator_client.post(url, {**form, "confirm_past_due": "on"})
    item = ActionItem.objects.get()
    assert item.owner == team_pm["owner"]  # no owner given: the post-mortem's


# --- Owner by default --------------------------------------------------------------------------------------


def test_an_item_without_owner_is_the_postmortem_owners_and_each_door_says_so(team_pm, client):
    api = client_for(team_pm["staff"])
    created = api.post("/api/v1/action-items/", {"postmortem": team_pm["pm"].pk, "title": "Alert"}, format="json")
    assert created.json()["owner"]["username"] == "ana"
    item_id = created.json()["id"]
    cleared = api.patch(f"/api/v1/action-items/{item_id}/", {"owner": None}, format="json")
    assert cleared.json()["owner"]["username"] == "ana"

    schema = api.get("/api/schema/?format=json").json()["components"]["schemas"]["ActionItemCreateInputRequest"]
    assert "``owner`` null or left out: the post-mortem's owner" in schema["description"]

    client.force_login(team_pm["owner"])
    page = client.get(reverse("postmortems:detail", args=[team_pm["pm"].pk])).content.decode()
    assert "The post-mortem&#x27;s owner (Ana)" in page or "The post-mortem's owner (Ana)" in page


# --- Reminder and digest texts -----------------------------------------------------------------------------


def test_an_item_created_already_late_gets_personal_reminders_not_the_digest(
    team_pm, django_capture_on_commit_callbacks
):
    ActionItemFactory(
        postmortem=team_pm["pm"], title="Rotate keys", owner=team_pm["owner"], due_date=dt.date(2020, 1, 1)
    )
    team_pm["pm"].regression_tests.create(repository=_repository(), test_id="t.py::t", state="verified")

    sweep(django_capture_on_commit_callbacks, timezone.now() + dt.timedelta(minutes=1))

    assert not Notification.objects.filter(dedup_key__startswith="reminder-digest:").exists()
    [message] = OutboxMessage.objects.filter(recipient="user:ana")
    assert message.text.startswith(
        f"{team_pm['pm'].incident.public_id} action item “Rotate keys” is overdue (due 2020-01-01)"
    )
    assert "reminder 2" not in message.text and "Escalation" not in message.text


def test_the_digest_says_how_many_personal_reminders_were_sent(team_pm, django_capture_on_commit_callbacks, settings):
    settings.SREDESK_REMINDER_MAX_PER_PERSON = 2
    now = timezone.now()
    # Owed for 60 days but never reminded (sredesk was not running): past the personal maximum at once.
    never = PostMortemFactory(incident__owning_team=team_pm["pm"].incident.owning_team, published=True)
    never.published_at = now - 60 * DAY
    never.save()
    # Reminded personally twice (steps 0 and 1), then past the maximum.
    twice = team_pm["pm"]
    twice.published_at = now - 2 * DAY
    twice.save()
    sweep(django_capture_on_commit_callbacks, now - 2 * DAY + dt.timedelta(minutes=1))
    sweep(django_capture_on_commit_callbacks, now - DAY + dt.timedelta(minutes=1))
    assert Reminder.objects.filter(postmortem=twice).count() == 2

    sweep(django_capture_on_commit_callbacks, now + 3 * DAY)

    digest = Notification.objects.filter(dedup_key__startswith="reminder-digest:").latest("id")
    lines = dict(line.split(" ", 2)[1:] for line in digest.text.splitlines()[1:])
    assert lines[never.incident.public_id].endswith("(no personal reminder was sent)")
    assert lines[twice.incident.public_id].endswith("(2 personal reminders sent)")
    assert digest.text.splitlines()[0] == (
        "Weekly digest for Payments: 2 items still owed that personal reminders no longer cover."
    )
    assert "after every personal reminder" not in digest.text


def test_an_items_escalation_names_the_items_owner_and_counts_only_sent_reminders(team_pm):
    bo = UserFactory(username="bo", first_name="Bo", last_name="")
    item = ActionItemFactory(postmortem=team_pm["pm"], title="Add alert", owner=bo, due_date=dt.date(2026, 1, 1))
    key = f"action-item:{item.pk}"
    kind = Reminder.Kind.OVERDUE_ACTION_ITEM
    now = timezone.now()
    skipped = Reminder.objects.create(postmortem=team_pm["pm"], kind=kind, subject_key=key, step=0, due_at=now)
    ReminderDelivery.objects.create(
        reminder=skipped, recipient_user=bo, channel="outbox", address="user:bo", status="skipped"
    )
    sent = Reminder.objects.create(postmortem=team_pm["pm"], kind=kind, subject_key=key, step=1, due_at=now)
    ReminderDelivery.objects.create(
        reminder=sent, recipient_user=bo, channel="outbox", address="user:bo", status="sent"
    )
    third = Reminder.objects.create(postmortem=team_pm["pm"], kind=kind, subject_key=key, step=2, due_at=now)
    to_bo = ReminderDelivery.objects.create(reminder=third, recipient_user=bo, channel="outbox", address="user:bo")
    to_lead = ReminderDelivery.objects.create(
        reminder=third, recipient_user=team_pm["lead"], channel="outbox", address="user:lee"
    )

    assert reminders.reminder_message(to_bo).text.endswith("(reminder 2)")  # one before it reached Bo, not two
    assert not reminders.reminder_message(to_bo).text.startswith("Escalation")
    assert reminders.reminder_message(to_lead).text.startswith("Escalation, owner Bo: ")


def _repository():
    from tests.factories import RepositoryFactory

    return RepositoryFactory()
