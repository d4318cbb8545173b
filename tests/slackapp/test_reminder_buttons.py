"""A reminder settled where it arrived: Link regression test… (a picker over CI's recent test ids, searched as
you type), Snooze… (within the snooze limit) and Not testable… (the team lead approves with a button), each a
modal opened with a loading view and filled in with views.update, through the post-mortem services (source slack)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import memory
from ownership.models import Membership
from postmortems.ci_models import TestResult, TestRun
from postmortems.models import RegressionTest, RegressionTestWaiver, Reminder, ReminderDelivery
from postmortems.reminders.delivery import LINK_TEST, NOT_TESTABLE, SNOOZE
from postmortems.reminders.settle import SETTLES, settled_kinds
from postmortems.services import postmortem_snooze
from postmortems.waivers import APPROVE
from tests.factories import MembershipFactory, PostMortemFactory, RepositoryFactory, ServiceFactory, UserFactory

from .signing import signed_action, signed_suggestion, signed_view_submission

INTERACTIVITY = "/slack/interactivity"
RETRY = "tests/payments/test_retry.py::test_timeout_is_retried[eu]"


@pytest.fixture
def world(slack_app):
    ana = UserFactory(username="ana", first_name="Ana", last_name="Ops", slack_user_id="U0000001")
    postmortem = PostMortemFactory(published=True, owner=ana)
    team = postmortem.incident.owning_team
    MembershipFactory(team=team, user=ana)
    lead = MembershipFactory(
        team=team,
        role=Membership.Role.LEAD,
        user=UserFactory(username="lee", first_name="Lee", last_name="Lead", slack_user_id="U0000009"),
    ).user
    repository = RepositoryFactory(name="acme/checkout")
    service = ServiceFactory(team=team)
    service.repositories.add(repository)
    postmortem.incident.services.add(service)
    run = TestRun.objects.create(repository=repository, run_key="r1", branch="main", complete=True)
    TestResult.objects.create(test_run=run, test_id=RETRY, outcome="failed")
    for n in range(150):
        TestResult.objects.create(test_run=run, test_id=f"tests/test_many.py::test_{n:03d}", outcome="passed")
    return {"pm": postmortem, "ana": ana, "lead": lead, "repository": repository, "slack": slack_app}


@pytest.fixture
def open_modal(world, client, django_capture_on_commit_callbacks):
    """Click a reminder button; returns the view the worker put in the loading modal (views.update)."""

    def click(action_id: str, *, user: str = "U0000001", value: str | None = None) -> dict:
        before = len(world["slack"].calls("views.update"))
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.post(
                INTERACTIVITY,
                **signed_action(
                    action_id,
                    value=str(world["pm"].pk) if value is None else value,
                    user_id=user,
                    response_url=world["slack"].response_url("reminder"),
                ),
            )
        assert answer.status_code == 200
        assert "Loading" in str(world["slack"].calls("views.open")[-1].body["view"])
        [update] = world["slack"].calls("views.update")[before:]
        return update.body["view"]

    return click


def submit(client, callback_id: str, values: dict, view: dict, n: int = 1):
    return client.post(
        INTERACTIVITY,
        **signed_view_submission(
            callback_id, values, private_metadata=view["private_metadata"], view_id=f"V{n:07d}", view_hash=f"{n}.h"
        ),
    )


def picker(client, view: dict, typed: str) -> list[dict]:
    answer = client.post(
        INTERACTIVITY,
        **signed_suggestion(
            "reminder.test_pick", typed, view={"id": "V0000001", "private_metadata": view["private_metadata"]}
        ),
    )
    assert answer.status_code == 200
    return answer.json()["options"]


def test_link_regression_test_picks_from_ci_ids_as_you_type_and_links(world, open_modal, client):
    view = open_modal(LINK_TEST)
    assert view["callback_id"] == "reminder.link_test"
    [test_block] = [b for b in view["blocks"] if b.get("block_id") == "test"]
    assert test_block["element"]["type"] == "external_select"

    assert len(picker(client, view, "")) == 100  # never more than Slack takes
    [option] = picker(client, view, "retry")
    assert option["text"]["text"].endswith("(acme/checkout)") and len(option["text"]["text"]) <= 75
    result = TestResult.objects.get(test_id=RETRY)
    assert option["value"] == f"r:{result.pk}"

    answer = submit(client, "reminder.link_test", {"test": {"reminder.test_pick": {"selected_option": option}}}, view)
    body = answer.json()
    assert body["response_action"] == "update" and f"Linked {RETRY}" in str(body["view"])
    test = RegressionTest.objects.get()
    assert (test.test_id, test.repository, test.linked_by, test.state) == (
        RETRY,
        world["repository"],
        world["ana"],
        "failing",
    )
    linked = world["pm"].incident.timeline.get(
        data__regression_test_id=test.pk, message__startswith="Regression test linked"
    )
    assert (linked.source, linked.actor) == ("slack", world["ana"])


def test_an_id_ci_has_not_run_yet_is_offered_as_typed_and_needs_its_repository(world, open_modal, client):
    view = open_modal(LINK_TEST)
    typed = "tests/payments/test_new.py::test_refund_is_idempotent"
    options = picker(client, view, typed)
    assert options[0]["value"] == f"t:{typed}" and "not seen in CI yet" in options[0]["text"]["text"]
    repository = {"repository": {"repository": {"selected_option": {"value": str(world["repository"].pk)}}}}
    answer = submit(
        client,
        "reminder.link_test",
        {"test": {"reminder.test_pick": {"selected_option": options[0]}}, **repository},
        view,
    )
    assert answer.json()["response_action"] == "update", answer.json()
    assert RegressionTest.objects.get().test_id == typed  # CI has not run it: its state is CI's to say


def test_a_forged_option_is_refused_on_its_field(world, open_modal, client):
    view = open_modal(LINK_TEST)
    other = TestRun.objects.create(repository=RepositoryFactory(name="acme/other"), run_key="x", branch="main")
    foreign = TestResult.objects.create(test_run=other, test_id="tests/x.py::test_x", outcome="passed")
    forged = {"test": {"reminder.test_pick": {"selected_option": {"value": f"r:{foreign.pk}"}}}}
    assert submit(client, "reminder.link_test", forged, view).json() == {
        "response_action": "errors",
        "errors": {"test": "Pick a test from the list."},
    }
    assert not RegressionTest.objects.exists()


def test_snooze_offers_only_what_the_limit_allows_and_snoozes(world, open_modal, client, settings):
    pm = world["pm"]
    pm.due_at = timezone.now() + timedelta(days=1)
    pm.save(update_fields=["due_at"])
    settings.SREDESK_REMINDER_SNOOZE_MAX_DAYS_PAST_DUE = 7  # the limit: 8 days from now
    view = open_modal(SNOOZE)
    [duration] = [b for b in view["blocks"] if b.get("block_id") == "duration"]
    assert [o["text"]["text"] for o in duration["element"]["options"]] == ["1 day", "3 days", "1 week"]

    too_long = {"duration": {"days": {"selected_option": {"value": "28"}}}, "reason": {"reason": {"value": "x"}}}
    errors = submit(client, "reminder.snooze", too_long, view).json()
    assert errors["response_action"] == "errors" and "at the latest" in errors["errors"]["duration"]
    no_reason = {"duration": {"days": {"selected_option": {"value": "3"}}}, "reason": {"reason": {"value": " "}}}
    assert "reason" in submit(client, "reminder.snooze", no_reason, view, 2).json()["errors"]

    ok = {"duration": {"days": {"selected_option": {"value": "3"}}}, "reason": {"reason": {"value": "on leave"}}}
    assert submit(client, "reminder.snooze", ok, view, 3).json()["response_action"] == "update"
    pm.refresh_from_db()
    assert pm.snooze_reason == "on leave"
    assert timedelta(days=2, hours=23) < pm.snoozed_until - timezone.now() <= timedelta(days=3)


def test_not_testable_asks_the_lead_who_approves_once(world, open_modal, client, django_capture_on_commit_callbacks):
    view = open_modal(NOT_TESTABLE)
    assert "Lee Lead (team lead) decides" in str(view)
    reason = {"reason": {"reason": {"value": "A vendor's outage: nothing of ours to test."}}}
    with django_capture_on_commit_callbacks(execute=True):
        answer = submit(client, "reminder.not_testable", reason, view)
    assert "Asked the team lead" in str(answer.json()["view"])
    waiver = RegressionTestWaiver.objects.get()
    [asked] = [m for m in memory.outbox if m.address == "U0000009"]
    assert [b.action_id for b in asked.buttons] == [APPROVE, "reminder.waiver.reject"]

    def lead_clicks(user: str, name: str) -> list[dict]:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                INTERACTIVITY,
                **signed_action(
                    APPROVE, value=str(waiver.pk), user_id=user, response_url=world["slack"].response_url(name)
                ),
            )
        return [r.body for r in world["slack"].responses(name)]

    refused = lead_clicks("U0000001", "ana")  # the requester may not approve it
    assert "Only the owning team's lead" in refused[0]["text"]
    [approved] = lead_clicks("U0000009", "lee")
    assert approved["replace_original"] is True and "not testable approved by Lee Lead" in approved["text"]
    [again] = lead_clicks("U0000009", "lee2")
    assert again["text"].startswith("Already approved by Lee Lead at ")
    waiver.refresh_from_db()
    assert (waiver.status, waiver.decided_by) == ("approved", world["lead"])


def sent_reminder(world, kind: str = "no_regression_test", ts: str = "1700000000.000200") -> ReminderDelivery:
    """A reminder of ``kind`` already sent to Ana in Slack: its message is ``ts`` in the DM ``D0000001``."""
    reminder = Reminder.objects.create(
        postmortem=world["pm"], kind=kind, subject_key=kind, step=0, due_at=timezone.now() - timedelta(hours=1)
    )
    return ReminderDelivery.objects.create(
        reminder=reminder, recipient_user=world["ana"], channel="slack", address="U0000001",
        status="sent", sent_at=timezone.now(), external_ref=ts, conversation="D0000001",
    )  # fmt: skip


def edits_of(delivery: ReminderDelivery) -> list:
    return [m for p, m in memory.updates if (p.conversation, p.ref) == ("D0000001", delivery.external_ref)]


def test_a_reminder_settled_from_its_slack_message_loses_its_buttons_and_says_who_and_how(
    world, open_modal, client, django_capture_on_commit_callbacks
):
    """Link regression test… submitted: the reminder's own message (and no other kind's) is edited in place
    (chat.update at its conversation and ts) to say who linked which test, with no buttons left to click."""
    delivery = sent_reminder(world)
    other = sent_reminder(world, kind="overdue_action_item", ts="1700000000.000300")
    view = open_modal(LINK_TEST)
    typed = {"test": {"reminder.test_pick": {"selected_option": {"value": f"t:{RETRY}"}}}}
    typed["repository"] = {"repository": {"selected_option": {"value": str(world["repository"].pk)}}}
    with django_capture_on_commit_callbacks(execute=True):
        assert submit(client, "reminder.link_test", typed, view).json()["response_action"] == "update"

    [edited] = edits_of(delivery)
    assert edited.buttons == ()
    settled = edited.text.splitlines()[-1]
    assert settled.startswith("Settled by Ana Ops at ") and f"regression test {RETRY} (acme/checkout) linked" in settled
    assert edits_of(other) == []
    delivery.refresh_from_db()
    assert delivery.settled_edited_at is not None and delivery.settled_text == settled


def test_a_snooze_from_any_door_settles_the_sent_reminders_once(
    world, open_modal, client, django_capture_on_commit_callbacks
):
    delivery = sent_reminder(world)
    view = open_modal(SNOOZE)
    ok = {"duration": {"days": {"selected_option": {"value": "1"}}}, "reason": {"reason": {"value": "on leave"}}}
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, "reminder.snooze", ok, view)
    with django_capture_on_commit_callbacks(execute=True):  # snoozed again from the web: the message says the first
        postmortem_snooze(
            postmortem_id=world["pm"].pk, until=timezone.now() + timedelta(days=2), reason="later", actor=world["ana"],
            source="web",
        )  # fmt: skip

    [edited] = edits_of(delivery)
    assert edited.buttons == () and "reminders snoozed until " in edited.text and "(on leave)" in edited.text


def test_an_approved_not_testable_settles_the_sent_reminder(world, client, django_capture_on_commit_callbacks):
    delivery = sent_reminder(world)
    waiver = RegressionTestWaiver.objects.create(
        postmortem=world["pm"], reason="vendor outage", requested_by=world["ana"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(INTERACTIVITY, **signed_action(APPROVE, value=str(waiver.pk), user_id="U0000009"))

    [edited] = edits_of(delivery)
    assert edited.buttons == ()
    assert edited.text.splitlines()[-1].startswith("Settled by Lee Lead at ")
    assert "not testable approved (vendor outage)" in edited.text


def test_each_settlement_settles_the_kinds_whose_message_offers_its_button():
    assert settled_kinds("linked") == ["no_regression_test", "test_regressed"]
    assert settled_kinds("snoozed") == ["no_regression_test", "overdue_draft", "test_regressed"]
    assert settled_kinds("waived") == ["no_regression_test"]
    assert {SETTLES["linked"], SETTLES["snoozed"], SETTLES["waived"]} == {LINK_TEST, SNOOZE, NOT_TESTABLE}
