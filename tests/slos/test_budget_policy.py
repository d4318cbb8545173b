"""A team's error-budget policy: set by the team (API, web form), shown where it applies (service page, post-mortem
page, API fields, reminder text). How it bites is tests/postmortems/test_budget_policy_reminders.py."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from notifications.models import OutboxMessage
from postmortems import reminders
from slos.evaluate import evaluate
from slos.models import SLO, BudgetPolicy
from slos.policy import PolicyEffect
from slos.services import budget_policy_set
from tests.api.clients import client_for
from tests.factories import (
    IncidentFactory,
    MembershipFactory,
    PostMortemFactory,
    ServiceFactory,
    SLOFactory,
    TeamFactory,
    UserFactory,
)
from tests.slos.helpers import created, fill

pytestmark = pytest.mark.django_db
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def world():
    team = TeamFactory(slug="payments", name="Payments")
    member = MembershipFactory(team=team, user=UserFactory(username="member")).user
    outsider = MembershipFactory(team=TeamFactory(slug="search"), user=UserFactory(username="outsider")).user
    checkout = ServiceFactory(team=team, slug="checkout", name="Checkout")
    ledger = ServiceFactory(team=team, slug="ledger", name="Ledger")
    for service, bad in ((checkout, 1000), (ledger, 0)):  # checkout: 1 % bad, ten times its budget
        slo = created(
            SLOFactory(service=service, name=f"{service.name} availability", window_days=1), NOW - dt.timedelta(days=2)
        )
        fill(slo, NOW.replace(minute=0, second=0) - dt.timedelta(days=1), 288, total=100_000, bad=bad)
    evaluate(NOW)
    return {"team": team, "member": member, "outsider": outsider, "checkout": checkout, "ledger": ledger}


def policy_url(team) -> str:
    return f"/api/v1/teams/{team.pk}/budget-policy/"


def postmortem_on(service):
    incident = IncidentFactory(resolved=True, primary_service=service, owning_team=service.team)
    return PostMortemFactory(published=True, published_at=NOW, incident=incident)


# --- The team sets it --------------------------------------------------------------------------------------------


def test_a_team_without_a_policy_reads_the_defaults_and_the_services_they_hold(world):
    body = client_for(world["outsider"]).get(policy_url(world["team"])).json()
    assert body["is_default"] is True and body["enabled"] is True
    assert (body["threshold"], body["reminder_steps_sooner"], body["due_factor"]) == ("0.000", 1, "0.50")
    assert [s["slug"] for s in body["services_in_force"]] == ["checkout"]


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("outsider", 403), ("member", 200), ("staff", 200)],
)
def test_only_the_teams_members_and_staff_set_its_policy(world, who, status):
    people = {
        "anonymous": None,
        "outsider": world["outsider"],
        "member": world["member"],
        "staff": UserFactory(username="admin", is_staff=True),
    }
    api = client_for(people[who])
    put = api.put(
        policy_url(world["team"]),
        {"enabled": True, "threshold": "0.2", "reminder_steps_sooner": 2, "due_factor": "0.3"},
        format="json",
    )
    patch = api.patch(policy_url(world["team"]), {"reminder_steps_sooner": 3}, format="json")
    assert (put.status_code, patch.status_code) == (status, status)
    saved = BudgetPolicy.objects.filter(team=world["team"]).first()
    if status == 200:
        assert (saved.threshold, saved.reminder_steps_sooner, saved.due_factor) == (
            Decimal("0.2"),
            3,
            Decimal("0.3"),
        )
        assert patch.json()["is_default"] is False and patch.json()["reminder_steps_sooner"] == 3
    else:
        assert saved is None  # nothing written
        if status == 403:
            assert "members of the team and staff" in put.json()["error"]["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"threshold": "1.5"}, "threshold"),
        ({"threshold": -0.1}, "threshold"),
        ({"reminder_steps_sooner": 6}, "reminder_steps_sooner"),
        ({"reminder_steps_sooner": 1.0}, "reminder_steps_sooner"),
        ({"due_factor": "0.05"}, "due_factor"),
        ({"due_factor": "0.333"}, "due_factor"),
        ({"due_factor": "٠.٥"}, "due_factor"),
        ({"enabled": "perhaps"}, "enabled"),
        ({"treshold": "0.2"}, "treshold"),
    ],
)
def test_bad_values_are_refused_by_field_and_nothing_is_stored(world, change, field):
    response = client_for(world["member"]).patch(policy_url(world["team"]), change, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["fields"]
    assert not BudgetPolicy.objects.exists()


def test_put_needs_every_field_and_an_unknown_team_is_404(world):
    member = client_for(world["member"])
    response = member.put(policy_url(world["team"]), {"enabled": False}, format="json")
    assert response.status_code == 400 and "threshold" in response.json()["error"]["fields"]
    assert member.get("/api/v1/teams/999999/budget-policy/").status_code == 404


def test_the_web_form_saves_for_members_and_refuses_others(world, client):
    url = reverse("slos:team_policy", args=["payments"])
    client.force_login(world["outsider"])
    page = client.get(url).content.decode()
    assert "Only members of the team and staff" in page and 'name="threshold"' not in page
    assert "Checkout" in page[page.index('id="policy-services"') :]
    form = {"enabled": "on", "threshold": "0.25", "reminder_steps_sooner": "2", "due_factor": "0.4"}
    assert client.post(url, form).status_code == 403
    assert not BudgetPolicy.objects.exists()

    client.force_login(world["member"])
    assert client.post(url, {**form, "due_factor": "2"}).status_code == 400
    assert client.post(url, form).status_code == 302
    policy = BudgetPolicy.objects.get(team=world["team"])
    assert (policy.enabled, policy.threshold, policy.reminder_steps_sooner) == (True, Decimal("0.25"), 2)
    page = client.get(url).content.decode()
    assert "reminders 2 steps sooner" in page and "the team never set" not in page


# --- Shown where it applies --------------------------------------------------------------------------------------


def test_the_service_and_post_mortem_pages_show_the_policy_in_force(world, client):
    client.force_login(world["outsider"])
    spent, healthy = postmortem_on(world["checkout"]), postmortem_on(world["ledger"])

    page = client.get(reverse("ownership:service", args=["checkout"])).content.decode()
    assert 'id="budget-policy"' in page and "the error budget of “Checkout availability” is exhausted" in page
    assert "reminded 1 step sooner" in page and "due in 50 % of the usual time" in page
    assert reverse("slos:team_policy", args=["payments"]) in page
    assert 'id="budget-policy"' not in client.get(reverse("ownership:service", args=["ledger"])).content.decode()

    catalog = client.get(reverse("ownership:services")).content.decode()
    rows = {slug: catalog[catalog.index(f">{slug}</code>") :][:3000] for slug in ("checkout", "ledger")}
    assert "Budget policy in force" in rows["checkout"].split("</tr>")[0]
    assert "Budget policy in force" not in rows["ledger"].split("</tr>")[0]

    for slo in SLO.objects.all():  # each SLO page of the held service says so, the healthy service's do not
        page = client.get(reverse("slos:slo", args=[slo.pk])).content.decode()
        assert ('id="budget-policy"' in page) == (slo.service == world["checkout"])

    page = client.get(reverse("postmortems:detail", args=[spent.pk])).content.decode()
    assert 'id="budget-policy"' in page and "the error budget of “Checkout availability” is exhausted" in page
    assert 'id="budget-policy"' not in client.get(reverse("postmortems:detail", args=[healthy.pk])).content.decode()


def test_the_api_shows_the_policy_on_services_and_post_mortems(world):
    spent, healthy = postmortem_on(world["checkout"]), postmortem_on(world["ledger"])
    BudgetPolicy.objects.create(team=world["team"], reminder_steps_sooner=2, due_factor=Decimal("0.25"))
    api = client_for(world["outsider"])

    services = {s["slug"]: s["budget_policy"] for s in api.get("/api/v1/services/").json()["results"]}
    assert services["checkout"] == {"in_force": True, "reminder_steps_sooner": 2, "due_factor": "0.25"}
    assert services["ledger"] == {"in_force": False, "reminder_steps_sooner": 0, "due_factor": "1.00"}
    listed = {p["id"]: p["budget_policy"] for p in api.get("/api/v1/postmortems/").json()["results"]}
    assert listed[spent.pk]["in_force"] is True and listed[healthy.pk]["in_force"] is False
    detail = api.get(f"/api/v1/postmortems/{spent.pk}/").json()
    assert detail["budget_policy"]["reminder_steps_sooner"] == 2

    BudgetPolicy.objects.filter(team=world["team"]).update(enabled=False)
    assert api.get(f"/api/v1/postmortems/{spent.pk}/").json()["budget_policy"]["in_force"] is False


def test_a_reminder_says_why_it_comes_sooner(world, django_capture_on_commit_callbacks):
    spent, healthy = postmortem_on(world["checkout"]), postmortem_on(world["ledger"])
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        reminders.reminders_sweep(now=NOW)
    about = OutboxMessage.objects.get(text__contains=spent.incident.public_id).text
    assert "(sooner under the error-budget policy: the error budget of “Checkout availability” is exhausted)" in about
    assert "error-budget" not in OutboxMessage.objects.get(text__contains=healthy.incident.public_id).text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_first_writes_at_once_make_one_policy_with_both_changes(requires_postgres):
    team = TeamFactory()
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def write(**fields) -> None:
        try:
            start.wait(timeout=30)
            budget_policy_set(team=team, actor=None, **fields)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=write, kwargs={"threshold": Decimal("0.3")}),
        threading.Thread(target=write, kwargs={"reminder_steps_sooner": 2}),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    policy = BudgetPolicy.objects.get(team=team)  # one row
    assert (policy.threshold, policy.reminder_steps_sooner) == (Decimal("0.3"), 2)  # neither change lost


def test_metrics_say_which_services_the_policy_holds(world, client):
    gauges = {}
    for line in client.get("/metrics").content.decode().splitlines():
        key, _, value = line.rpartition(" ")
        if key.startswith("sredesk_service_error_budget_policy_in_force{"):
            gauges[key.split("{", 1)[1]] = float(value)
    assert gauges == {'service="checkout",team="payments"}': 1.0, 'service="ledger",team="payments"}': 0.0}


def test_the_reason_names_each_slo_and_agrees_with_how_many():
    """It read "Checkout availability is exhausted" (the SLO's name, not its budget) and "A, B is exhausted"."""
    one, two = [SLO(name="Checkout availability")], [SLO(name="Checkout availability"), SLO(name="Card auth")]
    assert PolicyEffect(BudgetPolicy(threshold=0), one).reason == (
        "the error budget of “Checkout availability” is exhausted"
    )
    assert PolicyEffect(BudgetPolicy(threshold=0), two).reason == (
        "the error budgets of “Checkout availability”, “Card auth” are exhausted"
    )
    assert PolicyEffect(BudgetPolicy(threshold=Decimal("0.2")), one).reason == (
        "“Checkout availability” is at or below 20 % of its error budget"
    )
    assert PolicyEffect(BudgetPolicy(threshold=Decimal("0.2")), two).reason == (
        "“Checkout availability”, “Card auth” are at or below 20 % of their error budgets"
    )
