"""The admin console: every model's changelist, search and filters, history, and the actions that call services."""

import pytest
from django.contrib import admin
from django.urls import reverse

from incidents.models import Incident
from postmortems.models import ActionItem, PostMortem, RegressionTest, Reminder
from sredesk.admin import HistoryAdmin
from tests.factories import (
    ActionItemFactory,
    IncidentFactory,
    PostMortemFactory,
    RegressionTestFactory,
    ServiceFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

HISTORY_MODELS = ["incidents.incident", "postmortems.postmortem", "postmortems.actionitem",
                  "postmortems.regressiontest", "ownership.service", "ownership.team"]  # fmt: skip


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.fixture
def data():
    postmortem = PostMortemFactory(published=True)
    ActionItemFactory(postmortem=postmortem)
    RegressionTestFactory(postmortem=postmortem)
    ServiceFactory(team=None)
    return postmortem


def test_every_registered_model_has_a_working_changelist_with_search(admin_client_, data):
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label == "auth":
            continue  # Django's own Group admin
        url = changelist(model)
        assert admin_client_.get(url).status_code == 200, url
        if model_admin.search_fields:
            assert admin_client_.get(url, {"q": "x"}).status_code == 200, url
        assert model_admin.list_display != ("__str__",), f"{model.__name__} has no list columns"


def test_main_models_keep_a_change_history(admin_client_, data):
    incident = data.incident
    incident.title = "Renamed in the admin"
    incident.save()
    assert incident.history.count() >= 2
    assert data.history.exists() and RegressionTest.history.exists() and TeamFactory().history.exists()
    for label in HISTORY_MODELS:
        (model_admin,) = [a for m, a in admin.site._registry.items() if m._meta.label_lower == label]
        assert isinstance(model_admin, HistoryAdmin), label
    response = admin_client_.get(reverse("admin:incidents_incident_history", args=[incident.pk]))
    assert response.status_code == 200 and "Renamed in the admin" in response.content.decode()


def test_incident_search_by_public_id_and_computed_durations(admin_client_):
    incident = IncidentFactory(resolved=True, title="Card payments failing")
    IncidentFactory(title="Something else")
    page = admin_client_.get(changelist(Incident), {"q": incident.public_id}).content.decode()
    assert "Card payments failing" in page and "Something else" not in page
    assert ">3 m<" in page  # MTTA, humanised
    change = admin_client_.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    assert "MTTR" in change and "1 h 5 m" in change


def test_admin_acknowledge_action_is_idempotent_and_says_so(admin_client_):
    incident = IncidentFactory()
    url = changelist(Incident)
    admin_client_.post(url, {"action": "acknowledge_selected", "_selected_action": [incident.pk]})
    response = admin_client_.post(
        url, {"action": "acknowledge_selected", "_selected_action": [incident.pk]}, follow=True
    )
    assert "Acknowledge: 0 incident(s); 1 already acknowledged." in response.content.decode()
    assert incident.timeline.filter(data__to="acknowledged", source="admin").count() == 1


def test_send_reminder_now_plans_the_due_step_once(admin_client_, django_capture_on_commit_callbacks):
    postmortem = PostMortemFactory(published=True)
    url = changelist(PostMortem)
    with django_capture_on_commit_callbacks(execute=True):
        first = admin_client_.post(
            url, {"action": "send_reminder_now", "_selected_action": [postmortem.pk]}, follow=True
        )
    second = admin_client_.post(url, {"action": "send_reminder_now", "_selected_action": [postmortem.pk]}, follow=True)

    assert Reminder.objects.filter(postmortem=postmortem).count() == 1
    assert "1 reminder(s) planned" in first.content.decode()
    assert "already had their due reminder" in second.content.decode()
    delivery = Reminder.objects.get().deliveries.get()
    assert delivery.status == "sent"  # the eager task ran after commit


def test_verify_by_hand_asks_for_a_reason_then_logs_it(admin_client_, operator):
    test = RegressionTestFactory(postmortem=PostMortemFactory(published=True))
    url = changelist(RegressionTest)

    form = admin_client_.post(url, {"action": "verify_by_hand", "_selected_action": [test.pk]})
    assert form.status_code == 200 and "Mark regression tests verified by hand" in form.content.decode()
    test.refresh_from_db()
    assert test.state == "linked"

    empty = admin_client_.post(url, {"action": "verify_by_hand", "_selected_action": [test.pk], "apply": "1"})
    assert "This field is required" in empty.content.decode()

    done = admin_client_.post(
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


def test_postmortem_workflow_actions_go_through_the_service(admin_client_):
    postmortem = PostMortemFactory()
    admin_client_.post(changelist(PostMortem), {"action": "publish_selected", "_selected_action": [postmortem.pk]})
    postmortem.refresh_from_db()
    assert postmortem.status == "published" and postmortem.published_at
    response = admin_client_.post(
        changelist(PostMortem), {"action": "complete_selected", "_selected_action": [postmortem.pk]}, follow=True
    )
    assert "No regression test has been seen passing in CI yet." in response.content.decode()


def test_action_item_mark_done_action_logs_on_the_timeline(admin_client_):
    item = ActionItemFactory()
    admin_client_.post(changelist(ActionItem), {"action": "mark_done", "_selected_action": [item.pk]})
    item.refresh_from_db()
    assert item.status == "done"
    assert item.postmortem.incident.timeline.filter(message__contains="open → done", source="admin").exists()


def test_lifecycle_fields_are_read_only_in_the_change_form(admin_client_):
    incident = IncidentFactory(resolved=True)
    page = admin_client_.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    assert 'name="status"' not in page and 'name="resolved_at_0"' not in page
    assert 'name="title"' in page


def test_catalog_gap_filter(admin_client_):
    ServiceFactory(name="Complete one", runbook_url="https://r", dashboard_url="https://d", alerts_url="https://a")
    ServiceFactory(name="Ownerless", team=None, runbook_url="https://r", dashboard_url="https://d",
                   alerts_url="https://a")  # fmt: skip
    page = admin_client_.get(reverse("admin:ownership_service_changelist"), {"gap": "owner"}).content.decode()
    assert "Ownerless" in page and "Complete one" not in page


def test_history_cannot_revert(admin_client_, settings):
    """A revert would write status and times past the services: no button, and the POST is refused."""
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is True
    incident = IncidentFactory(title="First title")
    incident.title = "Second title"
    incident.save()
    first = incident.history.earliest("history_date")
    url = reverse("admin:incidents_incident_simple_history", args=[incident.pk, first.history_id])
    assert admin_client_.get(url).status_code == 200
    assert admin_client_.post(url, {"title": "First title", "severity": 2}).status_code == 403
    incident.refresh_from_db()
    assert incident.title == "Second title"
