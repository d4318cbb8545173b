"""Not testable (``postmortems.waivers``): asked with a reason, decided once by the owning team's lead, and only
then does the post-mortem owe no regression test (its reminders stop, it may complete)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from incidents.models import Source
from ownership.models import Membership
from postmortems.models import PostMortem, RegressionTestWaiver
from postmortems.reminders import due_reminders
from postmortems.services import postmortem_completion_blockers
from postmortems.waivers import APPROVE, REJECT, regression_test_waiver_decide, regression_test_waiver_request
from sredesk.exceptions import PermissionDenied
from tests.factories import MembershipFactory, PostMortemFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(slack_on):
    postmortem = PostMortemFactory(published=True)
    team = postmortem.incident.owning_team
    lead = MembershipFactory(team=team, role=Membership.Role.LEAD, user=UserFactory(slack_user_id="U0LEAD001")).user
    member = MembershipFactory(team=team, user=UserFactory(username="mia", first_name="Mia", last_name="Dev")).user
    return postmortem, lead, member


def owes(postmortem: PostMortem) -> bool:
    return PostMortem.objects.owing_regression_test(now=timezone.now()).filter(pk=postmortem.pk).exists()


def test_asked_once_the_lead_gets_approve_and_reject_buttons(case, django_capture_on_commit_callbacks, memory_notifier):
    postmortem, _, member = case
    with django_capture_on_commit_callbacks(execute=True):
        waiver, created = regression_test_waiver_request(
            postmortem_id=postmortem.pk, reason="  Vendor   outage, no code of ours ", actor=member, source=Source.SLACK
        )
        again, created_again = regression_test_waiver_request(
            postmortem_id=postmortem.pk, reason="double submit", actor=member, source=Source.SLACK
        )

    assert (created, created_again, again.pk) == (True, False, waiver.pk)
    assert (waiver.status, waiver.reason, waiver.requested_by) == ("pending", "Vendor outage, no code of ours", member)
    [message] = memory_notifier
    assert message.address == "U0LEAD001" and "Vendor outage, no code of ours" in message.text
    assert [(b.label, b.action_id, b.value) for b in message.buttons] == [
        ("Approve", APPROVE, str(waiver.pk)),
        ("Reject", REJECT, str(waiver.pk)),
    ]
    entry = postmortem.incident.timeline.get(data__waiver_id=waiver.pk)
    assert (entry.source, entry.actor) == ("slack", member)
    assert owes(postmortem), "asking is not enough: the lead decides"


def test_only_the_lead_or_staff_decides_once_and_then_nothing_is_owed(case, memory_notifier):
    postmortem, lead, member = case
    waiver, _ = regression_test_waiver_request(
        postmortem_id=postmortem.pk, reason="Vendor outage", actor=member, source=Source.WEB
    )
    assert due_reminders(now=timezone.now(), postmortem_id=postmortem.pk)

    with pytest.raises(PermissionDenied):  # the requester may not approve their own request
        regression_test_waiver_decide(waiver_id=waiver.pk, approve=True, actor=member, source=Source.SLACK)
    decided, first = regression_test_waiver_decide(waiver_id=waiver.pk, approve=True, actor=lead, source=Source.SLACK)
    later, second = regression_test_waiver_decide(waiver_id=waiver.pk, approve=False, actor=lead, source=Source.SLACK)

    assert (first, second) == (True, False)
    assert (later.status, later.decided_by, later.decided_at) == ("approved", lead, decided.decided_at)
    assert not owes(postmortem)
    assert not due_reminders(now=timezone.now(), postmortem_id=postmortem.pk)
    assert postmortem_completion_blockers(postmortem) == []


def test_rejected_the_reminders_go_on(case):
    postmortem, lead, member = case
    waiver, _ = regression_test_waiver_request(postmortem_id=postmortem.pk, reason="hard", actor=member, source="web")
    regression_test_waiver_decide(waiver_id=waiver.pk, approve=False, actor=lead, source="web")
    assert owes(postmortem) and postmortem_completion_blockers(postmortem)
    # a rejected request may be asked again
    _, created = regression_test_waiver_request(
        postmortem_id=postmortem.pk, reason="really", actor=member, source="web"
    )
    assert created and RegressionTestWaiver.objects.filter(postmortem=postmortem).count() == 2


def test_refused_without_a_reason_a_lead_or_write_access(case):
    postmortem, lead, member = case
    with pytest.raises(ValidationError) as empty:
        regression_test_waiver_request(postmortem_id=postmortem.pk, reason=" \n ", actor=member, source="web")
    assert "reason" in empty.value.message_dict
    with pytest.raises(PermissionDenied):
        regression_test_waiver_request(postmortem_id=postmortem.pk, reason="x", actor=UserFactory(), source="web")
    Membership.objects.filter(user=lead).delete()
    with pytest.raises(ValidationError, match="no lead"):
        regression_test_waiver_request(postmortem_id=postmortem.pk, reason="x", actor=member, source="web")
    assert not RegressionTestWaiver.objects.exists()


def test_staff_decide_in_the_admin_for_a_lead_without_slack(case, operator, operator_client):
    postmortem, _, member = case
    waiver, _ = regression_test_waiver_request(postmortem_id=postmortem.pk, reason="vendor", actor=member, source="web")
    url = reverse("admin:postmortems_regressiontestwaiver_changelist")
    assert operator_client.get(url).status_code == 200
    answer = operator_client.post(url, {"action": "approve", "_selected_action": [waiver.pk]}, follow=True)
    assert "1 request approved." in answer.content.decode()
    waiver.refresh_from_db()
    assert (waiver.status, waiver.decided_by) == ("approved", operator)
    assert postmortem.incident.timeline.filter(data__waiver_id=waiver.pk, source="admin").exists()
    again = operator_client.post(url, {"action": "reject", "_selected_action": [waiver.pk]}, follow=True)
    assert "0 requests rejected; 1 already decided." in again.content.decode()
