"""Post-mortems, action items and regression tests through the API (every write through the services)."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.models import TimelineEvent
from postmortems.models import ActionItem, PostMortem, RegressionTest, Reminder, ReminderDelivery, TestResult, TestRun
from tests.factories import ActionItemFactory, RegressionTestFactory


@pytest.fixture
def pm_url(world):
    return f"/api/v1/postmortems/{world['postmortem'].pk}"


def test_detail_nests_items_tests_with_their_run_and_reminders_with_deliveries(api, world, pm_url):
    pm = world["postmortem"]
    run = TestRun.objects.create(repository=world["repository"], run_key="b1", branch="main", commit="abc")
    RegressionTestFactory(postmortem=pm, repository=world["repository"], state="verified", state_run=run)
    ActionItemFactory(postmortem=pm, owner=world["member"], due_date=timezone.now().date() - dt.timedelta(days=1))
    reminder = Reminder.objects.create(postmortem=pm, kind="no_regression_test", step=0, due_at=timezone.now())
    ReminderDelivery.objects.create(reminder=reminder, recipient_user=world["lead"], channel="outbox", address="u:lead")
    body = api.get(f"{pm_url}/").json()
    assert body["incident"]["public_id"] == f"INC-{pm.incident_id}"
    assert body["has_verified_test"] is True and body["regression_test_requirement"] == "verified"
    assert body["regression_tests"][0]["state_run"]["run_key"] == "b1"
    assert body["action_items"][0]["overdue"] is True and body["action_items"][0]["priority"] == "P2"
    assert body["reminders"][0]["deliveries"][0]["recipient_user"]["username"] == "lead"
    assert body["completion_blockers"] == [f"1 action item still open: “{pm.action_items.get().title}”."]


def test_update_sections_owner_and_due_date(api, world, pm_url):
    due = "2030-01-02T03:04:05Z"
    response = api.patch(
        f"{pm_url}/", {"root_cause": "A retry storm", "owner": world["member"].pk, "due_at": due}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["root_cause"] == "A retry storm" and body["owner"]["username"] == "member" and body["due_at"] == due
    event = TimelineEvent.objects.filter(kind="postmortem").latest("id")
    assert "owner" in event.message and "root_cause" in event.message
    for bad in ({"due_at": "2030-01-02T03:04:05"}, {"status": "complete"}, {"owner": 999999}):
        assert api.patch(f"{pm_url}/", bad, format="json").status_code == 400, bad
    assert api.patch(f"{pm_url}/", {"owner": None}, format="json").json()["owner"] is None


def test_workflow_actions_and_409s(api, world, pm_url):
    assert api.post(f"{pm_url}/request_changes/").json()["status"] == "draft"  # already a draft: a no-op
    assert api.post(f"{pm_url}/submit_for_review/").json()["status"] == "in_review"
    assert api.post(f"{pm_url}/publish/").json()["status"] == "published"
    back = api.post(f"{pm_url}/submit_for_review/")
    assert back.status_code == 409 and back.json()["error"]["code"] == "invalid_transition"
    response = api.post(f"{pm_url}/complete/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "incomplete"
    assert "regression test" in response.json()["error"]["message"]


def test_snooze_and_resume(api, world, pm_url):
    until = (timezone.now() + dt.timedelta(days=2)).isoformat()
    response = api.post(f"{pm_url}/snooze/", {"until": until, "reason": "Owner on leave"}, format="json")
    assert response.status_code == 200 and response.json()["snooze_reason"] == "Owner on leave"
    missing_reason = api.post(f"{pm_url}/snooze/", {"until": until}, format="json")
    assert missing_reason.status_code == 400 and "reason" in missing_reason.json()["error"]["fields"]
    too_late = api.post(f"{pm_url}/snooze/", {"until": "2099-01-01T00:00:00Z", "reason": "x"}, format="json")
    assert "until" in too_late.json()["error"]["fields"]
    assert api.post(f"{pm_url}/snooze/", {"until": None}, format="json").json()["snoozed_until"] is None


def test_action_item_crud(api, world):
    pm = world["postmortem"]
    created = api.post(
        "/api/v1/action-items/",
        {"postmortem": pm.pk, "title": "Retry budget", "priority": "P1", "owner": world["member"].pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    item = created.json()
    assert item["priority"] == "P1" and item["incident"]["id"] == pm.incident_id
    url = f"/api/v1/action-items/{item['id']}/"
    wont = api.patch(url, {"status": "wont_do"}, format="json")
    assert wont.status_code == 400 and "wont_do_reason" in wont.json()["error"]["fields"]
    done = api.patch(url, {"status": "wont_do", "wont_do_reason": "Superseded by INC-9"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "wont_do"
    assert api.patch(url, {"tracker_url": "nope"}, format="json").status_code == 400
    assert api.delete(url).status_code == 204
    assert not ActionItem.objects.filter(pk=item["id"]).exists()
    messages = list(TimelineEvent.objects.filter(incident_id=pm.incident_id).values_list("message", flat=True))
    assert any("Action item added" in m for m in messages) and any("deleted" in m for m in messages)
    assert api.post("/api/v1/action-items/", {"postmortem": 999999, "title": "x"}, format="json").status_code == 400


def test_link_a_regression_test_idempotently_and_unlink_it(api, world):
    body = {
        "postmortem": world["postmortem"].pk,
        "repository": world["repository"].pk,
        "test_id": "tests/payments/test_retry.py::test_timeout_is_retried[eu]",
        "change_url": "https://git.example.test/acme/payments/pull/7",
    }
    first = api.post("/api/v1/regression-tests/", body, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["state"] == "linked" and first.json()["linked_by"]["username"] == "member"
    again = api.post("/api/v1/regression-tests/", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    bad = api.post("/api/v1/regression-tests/", {**body, "test_id": "::"}, format="json")
    assert bad.status_code == 400 and "test_id" in bad.json()["error"]["fields"]
    assert api.delete(f"/api/v1/regression-tests/{first.json()['id']}/").status_code == 204
    assert not RegressionTest.objects.exists()


def test_a_test_already_seen_passing_is_verified_at_link(api, world):
    run = TestRun.objects.create(repository=world["repository"], run_key="b9", branch="main", commit="c9")
    TestResult.objects.create(test_run=run, test_id="tests/test_pay.py::test_retry", outcome="passed")
    body = {
        "postmortem": world["postmortem"].pk,
        "repository": world["repository"].pk,
        "test_id": "tests/test_pay.py::test_retry",
    }
    linked = api.post("/api/v1/regression-tests/", body, format="json").json()
    assert linked["state"] == "verified" and linked["state_run"]["id"] == run.pk
    runs = api.get("/api/v1/test-runs/").json()["results"]
    assert runs[0]["tests"] == 1 and runs[0]["failures"] == 0
    results = api.get(f"/api/v1/test-results/?test_run={run.pk}&outcome=passed").json()["results"]
    assert [r["test_id"] for r in results] == ["tests/test_pay.py::test_retry"]
    assert api.get("/api/v1/postmortems/?has_verified_test=true").json()["results"][0]["id"] == world["postmortem"].pk


def test_read_only_lists_refuse_writes(api, world):
    assert api.post("/api/v1/reminders/", {}, format="json").status_code == 405
    assert api.post("/api/v1/test-runs/", {}, format="json").status_code == 405
    assert api.delete(f"/api/v1/postmortems/{world['postmortem'].pk}/").status_code == 405
    assert PostMortem.objects.filter(pk=world["postmortem"].pk).exists()
