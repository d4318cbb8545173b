"""``manage.py load_demo``: idempotent demo data whose reminders fire as soon as the product starts."""

import datetime as dt
import json
import re
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from demo import data as demo_data
from incidents.models import Incident, Integration, TimelineEvent
from notifications.models import OutboxMessage
from ownership.models import Membership, Repository, Service, Team, User
from postmortems import reminders
from postmortems.models import ActionItem, PostMortem, RegressionTest, Reminder, ReminderDelivery
from postmortems.selectors import postmortems_owing_regression_test

pytestmark = pytest.mark.django_db

ORDER = ["triggered", "acknowledged", "mitigated", "resolved"]
MODELS = (Team, User, Membership, Repository, Service, Incident, PostMortem, ActionItem, RegressionTest, TimelineEvent)


def load(**kwargs) -> str:
    out = StringIO()
    call_command("load_demo", stdout=out, **kwargs)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_running_twice_duplicates_nothing(settings):
    settings.SREDESK_DEMO_LOGIN = True
    load()
    first = counts()
    # A later run computes different "relative to now" times; natural keys still find every row.
    with time_machine.travel(timezone.now() + dt.timedelta(hours=5)):
        output = load()

    assert counts() == first
    assert "Nothing new" in output
    n_items = sum(len(i.postmortem.action_items) for i in demo_data.INCIDENTS if i.postmortem)
    assert first == {
        "Team": len(demo_data.TEAMS),
        "User": len(demo_data.PEOPLE) + 1,  # + the demo login
        "Membership": len(demo_data.PEOPLE) + 1,  # + the demo login, in its team
        "Repository": len(demo_data.REPOSITORIES),
        "Service": len(demo_data.SERVICES),
        "Incident": len(demo_data.INCIDENTS),
        "PostMortem": sum(1 for i in demo_data.INCIDENTS if i.postmortem),
        "ActionItem": n_items,
        "RegressionTest": sum(1 for i in demo_data.INCIDENTS if i.postmortem and i.postmortem.regression_test),
        "TimelineEvent": first["TimelineEvent"],
    }
    assert 18 <= first["Incident"] <= 25
    assert first["TimelineEvent"] >= 3 * first["Incident"]


def test_existing_rows_are_left_as_they_are():
    load()
    Service.objects.filter(slug="edge-proxy").update(runbook_url="https://wiki.example.org/edited")
    PostMortem.objects.filter(status="draft").update(summary="edited")

    load()

    assert Service.objects.get(slug="edge-proxy").runbook_url == "https://wiki.example.org/edited"
    assert set(PostMortem.objects.filter(status="draft").values_list("summary", flat=True)) == {"edited"}


def test_demo_login_is_created_when_allowed(settings, client):
    settings.SREDESK_DEMO_LOGIN = True

    output = load()

    demo = User.objects.get(username="demo")
    assert demo.is_superuser and demo.is_staff and demo.is_active
    assert demo.check_password("demo")
    assert client.login(username="demo", password="demo")
    assert "demo / demo" in output


def test_no_demo_login_on_a_production_database(settings):
    settings.SREDESK_DEMO_LOGIN = False

    output = load()

    assert not User.objects.filter(username="demo").exists()
    assert "No demo login created" in output
    assert Incident.objects.count() == len(demo_data.INCIDENTS)  # the data is still loaded


def test_demo_people_cannot_sign_in_and_work_around_the_clock():
    load()

    people = User.objects.filter(username__in=[p.username for p in demo_data.PEOPLE])
    assert people.count() == len(demo_data.PEOPLE)
    for person in people:
        assert not person.has_usable_password()
        assert person.work_start == person.work_end
        assert person.working_days == "1234567"
    for team in Team.objects.all():
        assert team.lead is not None


def test_reminders_fire_as_soon_as_the_product_starts(django_capture_on_commit_callbacks):
    load()
    owing = postmortems_owing_regression_test(now=timezone.now())
    assert owing.filter(status="published").exists()
    assert owing.filter(status="draft").count() >= 2  # drafts past their due date

    due = reminders.due_reminders(now=timezone.now())
    kinds = {d.kind for d in due}
    assert {"no_regression_test", "overdue_draft"} <= kinds

    with django_capture_on_commit_callbacks(execute=True):
        result = reminders.reminders_sweep()

    assert result.planned == len(due) == Reminder.objects.count()
    # Demo people work around the clock, so nothing is held; from the third step the team lead is told too.
    outbox = ReminderDelivery.objects.filter(channel="outbox")
    assert OutboxMessage.objects.count() == outbox.filter(status="sent").count() == outbox.count() > len(due)
    assert OutboxMessage.objects.filter(text__startswith="Escalation, owner").exists()
    assert OutboxMessage.objects.filter(text__contains="has no regression test").exists()


def test_demo_covers_every_state_and_obeys_the_time_rules():
    load()
    now = timezone.now()

    statuses = set(PostMortem.objects.values_list("status", flat=True))
    assert statuses == {"draft", "in_review", "published", "complete"}
    assert PostMortem.objects.filter(status="published", regression_tests__isnull=False).exists()
    assert set(RegressionTest.objects.values_list("state", flat=True)) >= {"linked", "verified", "failing"}
    assert set(Incident.objects.values_list("status", flat=True)) >= {"resolved", "acknowledged", "mitigated"}
    assert [s.slug for s in Service.objects.all() if s.catalog_gaps]  # gaps on purpose
    assert ActionItem.objects.filter(status="wont_do").exclude(wont_do_reason="").exists()
    for postmortem in PostMortem.objects.select_related("incident"):
        incident = postmortem.incident
        assert postmortem.source_url.startswith("http")
        assert f"Declared {incident.get_severity_display()}" in postmortem.timeline
        assert incident.resolved_at is not None
        if postmortem.published_at:
            assert incident.resolved_at <= postmortem.published_at <= now
        if postmortem.completed_at:
            assert postmortem.published_at <= postmortem.completed_at <= now
        for test in postmortem.regression_tests.all():
            assert postmortem.published_at <= test.linked_at <= now
    for incident in Incident.objects.all():
        assert incident.started_at <= incident.detected_at <= now
        assert (incident.acknowledged_by is not None) == (incident.acknowledged_at is not None)
        changes = list(incident.timeline.filter(kind="status_change").values_list("at", "data"))
        # Declared, then one valid lifecycle step after another, ending at the incident's status.
        assert changes[0][1] == {"status": "triggered"}
        steps = [data for _, data in changes[1:]]
        assert [s["from"] for s in steps] == ["triggered"] + [s["to"] for s in steps[:-1]]
        assert [s["to"] for s in steps] == [s for s in ORDER[1:] if s in {x["to"] for x in steps}]
        assert (steps[-1]["to"] if steps else "triggered") == incident.status
        assert [at for at, _ in changes] == sorted(at for at, _ in changes)
        assert changes[-1][0] <= now


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def test_demo_text_is_our_own_and_points_at_the_public_post_mortem(realdata_dir):
    """Every incident names a post-mortem of the public list, and shares no 6-word run with its summary."""
    entries = json.loads((realdata_dir / "postmortems" / "danluu-post-mortems-parsed.json").read_text())
    by_url = {entry["url"]: entry for entry in entries}
    for spec in demo_data.INCIDENTS:
        entry = by_url[spec.source_url]
        assert (entry["company"].lower(), entry["category"]) == (spec.company.lower(), spec.category)
        theirs = words(entry["summary"])
        shingles = {tuple(theirs[i : i + 6]) for i in range(len(theirs) - 5)}
        pm = spec.postmortem
        ours = " ".join(
            [spec.summary]
            + ([pm.summary, pm.impact, pm.trigger, pm.root_cause, pm.detection, pm.resolution] if pm else [])
        )
        mine = words(ours)
        copied = [run for run in (tuple(mine[i : i + 6]) for i in range(len(mine) - 5)) if run in shingles]
        assert not copied, f"{spec.title}: {copied}"


def test_owned_demo_services_say_who_is_paged_triages_and_fixes():
    from ownership.models import Responsibility, Service

    load()
    load()
    owned = Service.objects.exclude(team=None)
    assert Responsibility.objects.count() == 4 * owned.count()
    for service in owned:
        paged = service.responsibilities.get(role="paged")
        assert paged.person == service.team.lead


def test_linking_a_test_in_the_demo_stops_reminders_where_ci_does_not_report(django_capture_on_commit_callbacks):
    from ownership.models import Repository
    from postmortems.regression_tests import regression_test_link

    load()
    owing = [d for d in reminders.due_reminders(now=timezone.now()) if d.kind == "no_regression_test"]
    relaxed = PostMortem.objects.filter(
        pk__in=[d.postmortem_id for d in owing], incident__primary_service__ci_reports_tests=False
    ).first()
    assert relaxed is not None, "the demo needs an owed post-mortem on a service whose CI does not report"
    regression_test_link(
        postmortem=relaxed,
        repository=Repository.objects.first(),
        test_id="tests/dns/test_resolv.py::test_ndots",
        actor=None,
    )
    still_owed = {(d.postmortem_id, d.kind) for d in reminders.due_reminders(now=timezone.now())}
    assert (relaxed.pk, "no_regression_test") not in still_owed


def test_the_demo_login_has_work_of_its_own(settings, client, django_capture_on_commit_callbacks):
    """The only person who can sign in sees, on /me/, an incident to command, post-mortems, items and reminders."""
    settings.SREDESK_DEMO_LOGIN = True
    load()
    demo = User.objects.get(username="demo")
    handover = demo_data.DEMO_LOGIN_HANDOVER
    assert demo.teams.filter(slug=handover.team).exists()
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminders_sweep()

    client.force_login(demo)
    page = client.get("/me/").content.decode()

    for title in handover.commands + handover.postmortems + handover.action_items:
        assert title in page
    assert Incident.objects.get(title=handover.commands[0]).commander == demo
    assert ReminderDelivery.objects.filter(channel="outbox", address="user:demo").exists()
    # Handed over through the services: the timeline says who gave it.
    lead = Team.objects.get(slug=handover.team).lead
    entry = TimelineEvent.objects.get(incident__title=handover.commands[0], message="Incident commander: Demo User")
    assert entry.actor == lead


def test_without_the_demo_login_nobody_is_handed_anything(settings):
    settings.SREDESK_DEMO_LOGIN = False
    load()
    assert not TimelineEvent.objects.filter(message__contains="Demo User").exists()


def test_the_demo_follows_the_products_post_mortem_rule(settings):
    """Incidents are played through the services: only the severities the setting names get a post-mortem."""
    settings.SREDESK_POSTMORTEM_SEVERITIES = [1]
    load()

    assert set(PostMortem.objects.values_list("incident__severity", flat=True)) == {1}
    for postmortem in PostMortem.objects.select_related("incident"):
        incident = postmortem.incident
        assert postmortem.due_at == incident.resolved_at + dt.timedelta(days=settings.SREDESK_POSTMORTEM_DUE_DAYS[1])
        created = incident.timeline.get(message__startswith="Post-mortem draft created")
        assert created.at == incident.resolved_at


def test_the_demos_history_is_not_announced_as_news(django_capture_on_commit_callbacks):
    """Incidents that happened days ago are not announced to their teams when the demo is loaded."""
    from incidents.effects import side_effects_recover
    from notifications.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        load()

    assert side_effects_recover() == 0
    announced = Notification.objects.filter(
        subject__regex=r"(declared|resolved|escalated|re-opened|post-mortem published)"
    )
    assert not announced.exists()


def test_demo_regression_tests_get_their_state_from_ci_runs():
    """A verified test was seen passing by a CI run, a failing one failing by a later run: the product's own path."""
    load()
    for test in RegressionTest.objects.exclude(state="linked"):
        assert test.state_run is not None
        assert test.state_run.results.get(test_id=test.test_id).outcome == (
            "passed" if test.state == "verified" else "failed"
        )


def test_make_run_names_the_address_links_use(settings):
    """`make run` ends its set-up with the address every printed link uses (the port it serves on)."""
    settings.SREDESK_DEMO_LOGIN = True
    settings.SREDESK_BASE_URL = "http://127.0.0.1:8110"

    output = load(banner=True)

    assert "sredesk: http://127.0.0.1:8110/   demo login: demo / demo" in output


def test_the_demo_webhook_is_created_through_the_service_and_its_token_shown_once(client):
    output = load()
    [line] = [line for line in output.splitlines() if line.startswith("Alert webhook Demo Alertmanager:")]
    url, token = line.split(": ", 1)[1].split("  token ")[0], line.split("  token ")[1].split(" ")[0]
    integration = Integration.objects.get(name="Demo Alertmanager")
    assert url.endswith(integration.webhook_path) and integration.check_token(token)
    assert integration.default_service.slug == "container-platform"
    assert "Alert webhook" not in load()  # created once, its token shown once
    alert = {"status": "firing", "labels": {"alertname": "DemoAlert"}, "startsAt": "2024-05-01T10:00:00Z"}
    body = {"version": "4", "status": "firing", "groupKey": "demo", "alerts": [alert]}
    response = client.post(
        integration.webhook_path,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200
