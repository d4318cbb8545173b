"""The error-budget policy bites through the reminder loop: while a service's budget is spent, its post-mortems
are chased sooner and new ones are due sooner (``slos.policy``, ``postmortems.reminders``, ``postmortems.services``).

SLO states come from the real evaluation of pushed samples (one-day windows), as on the service page.
"""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from incidents.models import TimelineEvent
from notifications.models import OutboxMessage
from postmortems import reminders
from postmortems.models import Reminder, ReminderDelivery
from postmortems.services import postmortem_create_for_incident
from slos.evaluate import evaluate
from slos.models import BudgetPolicy
from tests.factories import (
    ActionItemFactory,
    IncidentFactory,
    MembershipFactory,
    PostMortemFactory,
    ServiceFactory,
    SLOFactory,
)
from tests.slos.helpers import created, fill

pytestmark = pytest.mark.django_db
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = dt.timedelta(days=1)


def slo_with(service, *, bad: float, paused: bool = False, buckets: int = 288):
    """An SLO of 99.9 % over one day on ``service`` with ``bad`` of every 100 000 events bad, evaluated now."""
    slo = created(SLOFactory(service=service, window_days=1, paused=paused), NOW - 2 * DAY)
    if buckets:
        fill(slo, NOW.replace(minute=0, second=0) - DAY, buckets, total=100_000, bad=bad)
    evaluate(NOW)
    return slo


def exhausted_service(**kwargs):
    service = ServiceFactory(**kwargs)
    slo_with(service, bad=1000)  # 1 % bad: ten times the budget
    return service


def published_on(service, at=NOW):
    """A published post-mortem with no regression test, of an incident on ``service`` owned by its team."""
    incident = IncidentFactory(resolved=True, primary_service=service, owning_team=service.team)
    return PostMortemFactory(published=True, published_at=at, incident=incident)


def sweep(capture, now):
    with time_machine.travel(now, tick=False), capture(execute=True):
        return reminders.reminders_sweep(now=now)


def steps(postmortem) -> list[int]:
    return sorted(Reminder.objects.filter(postmortem=postmortem).values_list("step", flat=True))


def test_an_exhausted_service_gets_its_second_reminder_at_the_first_ones_time(django_capture_on_commit_callbacks):
    service = exhausted_service()
    lead = MembershipFactory(team=service.team, role="lead").user
    spent = published_on(service)
    healthy_service = ServiceFactory()
    slo_with(healthy_service, bad=0)
    healthy = published_on(healthy_service)

    sweep(django_capture_on_commit_callbacks, NOW + dt.timedelta(minutes=1))
    # The policy's step 0 is never owed: no ledger row, no delivery, no message about it.
    assert steps(spent) == [1] and steps(healthy) == [0]
    assert not ReminderDelivery.objects.filter(status="skipped").exists()
    messages = OutboxMessage.objects.filter(text__contains=spent.incident.public_id)
    assert messages.count() == 1  # to the owner, as any first message

    sweep(django_capture_on_commit_callbacks, NOW + DAY + dt.timedelta(minutes=1))  # the usual 2nd step's time
    assert steps(spent) == [1, 2] and steps(healthy) == [0, 1]

    # The third step brings in the team lead: a day after publication instead of three.
    def told(step):
        reminder = Reminder.objects.get(postmortem=spent, step=step)
        return set(reminder.deliveries.values_list("recipient_user", flat=True))

    assert lead.pk not in told(1) and lead.pk in told(2)


def test_the_policy_chases_overdue_action_items_and_drafts_of_the_service_sooner(django_capture_on_commit_callbacks):
    service = exhausted_service()
    incident = IncidentFactory(resolved=True, primary_service=service, owning_team=service.team)
    draft = PostMortemFactory(incident=incident, due_at=NOW - dt.timedelta(hours=1))
    ActionItemFactory(postmortem=draft, due_date=(NOW - 2 * DAY).date(), created_at=NOW - 3 * DAY)

    sweep(django_capture_on_commit_callbacks, NOW + dt.timedelta(hours=1))
    assert set(Reminder.objects.values_list("kind", "step")) == {("overdue_draft", 1), ("overdue_action_item", 1)}


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(lambda team: BudgetPolicy.objects.create(team=team, enabled=False), id="policy disabled"),
        pytest.param(lambda team: None, id="paused SLO"),
        pytest.param(lambda team: None, id="no data"),
    ],
)
def test_the_policy_never_bites_when_disabled_or_on_a_paused_or_silent_slo(
    setup, request, django_capture_on_commit_callbacks
):
    service = ServiceFactory()
    case = request.node.callspec.id
    slo_with(service, bad=1000, paused=case == "paused SLO", buckets=0 if case == "no data" else 288)
    setup(service.team)
    postmortem = published_on(service)

    sweep(django_capture_on_commit_callbacks, NOW)
    assert steps(postmortem) == [0]


def test_a_team_threshold_of_20_percent_bites_at_15_percent_left(django_capture_on_commit_callbacks):
    at_15 = ServiceFactory()
    slo_with(at_15, bad=85)  # 0.085 % bad of a 0.1 % budget: 15 % left
    at_25 = ServiceFactory(team=at_15.team)
    slo_with(at_25, bad=75)  # 25 % left
    BudgetPolicy.objects.create(team=at_15.team, threshold=Decimal("0.2"), reminder_steps_sooner=2)
    bitten, spared = published_on(at_15), published_on(at_25)

    sweep(django_capture_on_commit_callbacks, NOW)
    assert steps(bitten) == [2] and steps(spared) == [0]


def test_lifting_the_policy_never_sends_an_earlier_step_again(django_capture_on_commit_callbacks):
    service = exhausted_service()
    postmortem = published_on(service)
    sweep(django_capture_on_commit_callbacks, NOW)
    assert steps(postmortem) == [1]

    BudgetPolicy.objects.create(team=service.team, enabled=False)  # the team turns it off: back to the usual cadence
    sweep(django_capture_on_commit_callbacks, NOW + dt.timedelta(hours=1))
    sweep(django_capture_on_commit_callbacks, NOW + DAY + dt.timedelta(hours=1))  # step 1's usual time: sent already
    assert steps(postmortem) == [1]
    sweep(django_capture_on_commit_callbacks, NOW + 3 * DAY + dt.timedelta(hours=1))
    assert steps(postmortem) == [1, 2]
    assert OutboxMessage.objects.filter(text__contains=postmortem.incident.public_id).count() == 2


def test_steps_missed_while_no_sweep_ran_are_recorded_but_steps_the_policy_skips_are_not(
    django_capture_on_commit_callbacks,
):
    postmortem = published_on(exhausted_service())
    sweep(django_capture_on_commit_callbacks, NOW)
    sweep(django_capture_on_commit_callbacks, NOW + 3 * DAY + dt.timedelta(hours=1))  # nothing ran for three days

    assert steps(postmortem) == [1, 2, 3]
    skipped = ReminderDelivery.objects.filter(status="skipped")
    assert set(skipped.values_list("reminder__step", flat=True)) == {2}  # fell due a day in, never sent
    assert OutboxMessage.objects.filter(text__contains=postmortem.incident.public_id).count() >= 2


def test_send_now_plans_the_step_the_policy_brings_forward(django_capture_on_commit_callbacks):
    postmortem = published_on(exhausted_service())
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        result = reminders.reminders_send_now(postmortem_ids=[postmortem.pk], now=NOW)
    assert result.planned == 1 and steps(postmortem) == [1]
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        again = reminders.reminders_send_now(postmortem_ids=[postmortem.pk], now=NOW)
    assert (again.planned, again.already_planned) == (0, 1)


def test_a_new_post_mortem_on_a_spent_service_is_due_sooner_and_says_why():
    spent, healthy = exhausted_service(), ServiceFactory()
    MembershipFactory(team=spent.team, role="lead")
    BudgetPolicy.objects.create(team=spent.team, due_factor=Decimal("0.3"))
    bitten = IncidentFactory(resolved=True, primary_service=spent, owning_team=spent.team)  # SEV2: 10 days
    usual = IncidentFactory(resolved=True, primary_service=healthy, owning_team=healthy.team)

    pm, _ = postmortem_create_for_incident(incident=bitten)
    assert pm.due_at == bitten.resolved_at + dt.timedelta(days=3)
    event = TimelineEvent.objects.filter(incident=bitten, message__startswith="Post-mortem draft created").get()
    assert "30 % of the usual time: error-budget policy" in event.message and "is exhausted" in event.message

    pm, _ = postmortem_create_for_incident(incident=usual)
    assert pm.due_at == usual.resolved_at + dt.timedelta(days=10)
