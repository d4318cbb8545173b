"""Load the demo company, its incidents and post-mortems (``manage.py load_demo``).

Idempotent: every row is looked up by its natural key (username, team and
service slug, repository name, incident title, action-item title within its
post-mortem, regression test id) and created only when missing. Rows that
already exist are left as they are, so edits made while exploring the demo
survive a re-run, and times relative to "now" never produce new rows.
Timeline events are written together with the row they describe (an
incident's status changes when the incident is created, "regression test
linked" when the test is), so they are appended once.
"""

import datetime as dt
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from demo import data as demo_data
from demo.data import DemoIncident, DemoPostMortem
from incidents.models import Incident, Source, TimelineEvent
from ownership.models import Membership, Repository, Responsibility, Service, Team, User
from postmortems.models import ActionItem, PostMortem, RegressionTest
from postmortems.services import timeline_markdown
from postmortems.testids import canonical_test_id

AROUND_THE_CLOCK = {"work_start": dt.time(0, 0), "work_end": dt.time(0, 0), "working_days": "1234567"}
STATUS_ORDER = [s.value for s in Incident.Status]  # triggered < acknowledged < mitigated < resolved


@dataclass
class DemoLoadResult:
    """What ``load_demo`` found and made: demo rows per model, and how many of them this run created."""

    totals: dict[str, int] = field(default_factory=dict)
    created: Counter = field(default_factory=Counter)
    demo_login: str = "disabled"  # "created", "exists" or "disabled"


def _ticket_number(title: str) -> int:
    """A made-up tracker ticket number, stable for a given action-item title."""
    return zlib.crc32(title.encode()) % 9000 + 1000


def _rows(result: DemoLoadResult, label: str, created: bool) -> None:
    if created:
        result.created[label] += 1


def demo_people_load(result: DemoLoadResult) -> dict[str, User]:
    """Demo people, by username. New ones get no usable password and round-the-clock working hours.

    Round-the-clock hours (``work_start == work_end`` on every weekday) let the
    demo's reminders go out whatever the hour when someone tries it.
    """
    people = {}
    for spec in demo_data.PEOPLE:
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "email": f"{spec.username}@example.com",
                "timezone": spec.timezone,
                "password": make_password(None),  # unusable: demo people cannot sign in
                **AROUND_THE_CLOCK,
            },
        )
        _rows(result, "people", created)
        people[spec.username] = user
    return people


def demo_teams_load(result: DemoLoadResult, people: dict[str, User]) -> dict[str, Team]:
    """Demo teams and their memberships, one lead per team. Returns teams by slug.

    A team that already has another lead keeps it; the demo lead joins as a member.
    """
    teams = {}
    for spec in demo_data.TEAMS:
        team, created = Team.objects.get_or_create(
            slug=spec.slug, defaults={"name": spec.name, "slack_channel": spec.slack_channel}
        )
        _rows(result, "teams", created)
        teams[spec.slug] = team
    for spec in demo_data.PEOPLE:
        team = teams[spec.team]
        role = spec.role
        if (
            role == Membership.Role.LEAD
            and team.memberships.filter(role=role).exclude(user=people[spec.username]).exists()
        ):
            role = Membership.Role.MEMBER
        _, created = Membership.objects.get_or_create(team=team, user=people[spec.username], defaults={"role": role})
        _rows(result, "memberships", created)
    return teams


def demo_services_load(result: DemoLoadResult, teams: dict[str, Team]) -> dict[str, Service]:
    """Demo repositories and services, with catalog links except the gaps the data asks for.

    Returns services by slug.
    """
    repositories = {}
    for name in demo_data.REPOSITORIES:
        repo, created = Repository.objects.get_or_create(
            name=name, defaults={"url": demo_data.REPOSITORY_BASE_URL + name}
        )
        _rows(result, "repositories", created)
        repositories[name] = repo
    services = {}
    for spec in demo_data.SERVICES:
        links = {
            "runbook_url": f"https://wiki.example.com/runbooks/{spec.slug}",
            "dashboard_url": f"https://grafana.example.com/d/{spec.slug}",
            "alerts_url": f"https://alertmanager.example.com/#/alerts?filter=%7Bservice%3D%22{spec.slug}%22%7D",
        }
        for gap in spec.gaps:
            links[f"{gap}_url"] = ""
        service, created = Service.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "description": spec.description,
                "team": teams[spec.team] if spec.team else None,
                "tier": spec.tier,
                "ci_reports_tests": spec.slug not in demo_data.SERVICES_WITHOUT_CI_REPORTS,
                **links,
            },
        )
        if created:
            service.repositories.set([repositories[name] for name in spec.repositories])
        if service.team_id:
            # The catalog's "who answers": the lead is paged and is the escalation contact, the team triages and fixes.
            lead, team = service.team.lead, service.team
            R = Responsibility.Role
            for role, who in ((R.PAGED, {"user": lead}), (R.TRIAGES, {"team": team}), (R.FIXES, {"team": team}),
                              (R.ESCALATION, {"user": lead})):  # fmt: skip
                if all(who.values()):
                    Responsibility.objects.get_or_create(service=service, role=role, defaults=who)
        _rows(result, "services", created)
        services[spec.slug] = service
    return services


def _incident_steps(incident: Incident) -> list[tuple[datetime, str]]:
    """(time, status) for each lifecycle timestamp the incident reached after detection, in lifecycle order."""
    steps = [
        (incident.acknowledged_at, Incident.Status.ACKNOWLEDGED),
        (incident.mitigated_at, Incident.Status.MITIGATED),
        (incident.resolved_at, Incident.Status.RESOLVED),
    ]
    return [(at, status) for at, status in steps if at is not None]


def _incident_timeline_write(incident: Incident, responders: list[User]) -> int:
    """Append the incident's history, worded as ``incidents.services`` words it. Returns how many events.

    Written directly rather than through the lifecycle services because
    those would announce each past step to the teams (and Slack) as news.
    """
    commander = incident.commander
    events = [
        TimelineEvent(
            incident=incident,
            kind=TimelineEvent.Kind.STATUS_CHANGE,
            at=incident.detected_at,
            source=Source.ALERT,
            message=f"Declared {incident.get_severity_display()}: {incident.title}",
            data={"status": Incident.Status.TRIGGERED},
        )
    ]
    staffed_at = incident.acknowledged_at or incident.detected_at
    if commander:
        events.append(
            TimelineEvent(
                incident=incident,
                kind=TimelineEvent.Kind.ROLE_CHANGE,
                at=staffed_at,
                actor=commander,
                source=Source.WEB,
                message=f"Incident commander: {commander}",
                data={"role": "commander", "user_id": commander.pk},
            )
        )
    for person in responders:
        events.append(
            TimelineEvent(
                incident=incident,
                kind=TimelineEvent.Kind.ROLE_CHANGE,
                at=staffed_at,
                actor=commander,
                source=Source.WEB,
                message=f"Responder added: {person}",
                data={"role": "responder", "user_id": person.pk, "responding": True},
            )
        )
    current = Incident.Status.TRIGGERED
    for at, status in _incident_steps(incident):
        events.append(
            TimelineEvent(
                incident=incident,
                kind=TimelineEvent.Kind.STATUS_CHANGE,
                at=at,
                actor=commander,
                source=Source.WEB,
                message=f"{current.capitalize()} → {Incident.Status(status).label}",
                data={"from": current, "to": status},
            )
        )
        current = status
    for event in events:
        event.save()
    return len(events)


def demo_incident_load(
    result: DemoLoadResult,
    spec: DemoIncident,
    *,
    now: datetime,
    people: dict[str, User],
    teams: dict[str, Team],
    services: dict[str, Service],
) -> Incident:
    """Find the demo incident by title, or create it with its timeline. Times are relative to ``now``.

    The post-mortem owner, when not the commander, joins as a responder.
    """
    incident = Incident.objects.filter(title=spec.title).order_by("pk").first()
    if incident is not None:
        return incident
    started = now - spec.ago
    stamps = {
        "acknowledged_at": spec.acknowledged,
        "mitigated_at": spec.mitigated,
        "resolved_at": spec.resolved,
    }
    reached = [status for status, offset in zip(STATUS_ORDER[1:], stamps.values(), strict=True) if offset is not None]
    primary = services[spec.primary_service]
    commander = people[spec.commander]
    incident = Incident.objects.create(
        title=spec.title,
        summary=f"{spec.summary}\n\nModelled on {spec.company}'s public post-mortem ({spec.category}): "
        f"{spec.source_url}",
        severity=spec.severity,
        status=reached[-1] if reached else Incident.Status.TRIGGERED,
        started_at=started,
        detected_at=started + spec.detected,
        **{name: started + offset if offset is not None else None for name, offset in stamps.items()},
        acknowledged_by=commander if spec.acknowledged is not None else None,
        primary_service=primary,
        owning_team=teams[spec.owning_team] if spec.owning_team else primary.team,
        commander=commander,
    )
    incident.services.set([services[slug] for slug in spec.services])
    owner = people[spec.postmortem.owner] if spec.postmortem else None
    responders = [owner] if owner and owner != commander else []
    incident.responders.set(responders)
    result.created["incidents"] += 1
    result.created["timeline events"] += _incident_timeline_write(incident, responders)
    return incident


def postmortem_timeline_markdown(incident: Incident) -> str:
    """The post-mortem's Markdown timeline: when impact began, then the incident's timeline as copied on resolve."""
    began = f"- {incident.started_at:%Y-%m-%d %H:%M:%S} UTC — Impact began"
    return f"{began}\n{timeline_markdown(incident)}\n"


def demo_postmortem_load(
    result: DemoLoadResult,
    spec: DemoIncident,
    incident: Incident,
    *,
    now: datetime,
    people: dict[str, User],
) -> PostMortem:
    """Find or create the incident's post-mortem, then its missing action items and regression test.

    The due date follows ``settings.POSTMORTEM_DUE_DAYS`` from the incident's
    resolution; publication and completion times are relative to ``now``.
    """
    pm_spec: DemoPostMortem = spec.postmortem
    owner = people[pm_spec.owner]
    resolved = incident.resolved_at or incident.detected_at
    published_at = now - pm_spec.published_ago if pm_spec.published_ago is not None else None
    postmortem, created = PostMortem.objects.get_or_create(
        incident=incident,
        defaults={
            "owner": owner,
            "status": pm_spec.status,
            "due_at": resolved + dt.timedelta(days=settings.POSTMORTEM_DUE_DAYS[spec.severity]),
            "published_at": published_at,
            "completed_at": now - pm_spec.completed_ago if pm_spec.completed_ago is not None else None,
            "summary": f"{pm_spec.summary}\n\n_Demo data modelled on {spec.company}'s public post-mortem "
            f"({spec.category}, see the source link); the details here are invented._",
            "impact": pm_spec.impact,
            "trigger": pm_spec.trigger,
            "root_cause": pm_spec.root_cause,
            "detection": pm_spec.detection,
            "resolution": pm_spec.resolution,
            "went_well": pm_spec.went_well,
            "went_wrong": pm_spec.went_wrong,
            "got_lucky": pm_spec.got_lucky,
            "timeline": postmortem_timeline_markdown(incident),
            "source_url": spec.source_url,
        },
    )
    _rows(result, "post-mortems", created)
    if created:
        milestones = [
            (resolved, None, Source.SYSTEM, f"Post-mortem draft created for {owner}, due {postmortem.due_at:%Y-%m-%d}"),
            (postmortem.published_at, owner, Source.WEB, "Post-mortem published"),
            (postmortem.completed_at, owner, Source.WEB, "Post-mortem complete"),
        ]
        for at, actor, source, message in milestones:
            if at is not None:
                TimelineEvent.objects.create(
                    incident=incident,
                    kind=TimelineEvent.Kind.POSTMORTEM,
                    at=at,
                    actor=actor,
                    source=source,
                    message=message,
                    data={"postmortem_id": postmortem.pk},
                )
                result.created["timeline events"] += 1

    for item in pm_spec.action_items:
        _, item_created = ActionItem.objects.get_or_create(
            postmortem=postmortem,
            title=item.title,
            defaults={
                "kind": item.kind,
                "priority": item.priority,
                "owner": people[item.owner],
                "status": item.status,
                "wont_do_reason": item.wont_do_reason,
                "due_date": (now + dt.timedelta(days=item.due_in_days)).date()
                if item.due_in_days is not None
                else None,
                "tracker_url": f"https://tracker.example.com/browse/SRE-{_ticket_number(item.title)}",
            },
        )
        _rows(result, "action items", item_created)

    test_spec = pm_spec.regression_test
    if test_spec is not None:
        repository = Repository.objects.get(name=test_spec.repository)
        linked_at = min(now, (postmortem.published_at or now) + test_spec.linked_after)
        changed_at = {
            RegressionTest.State.VERIFIED: min(now, linked_at + dt.timedelta(hours=1)),
            RegressionTest.State.FAILING: max(linked_at, now - dt.timedelta(hours=6)),
        }.get(test_spec.state, linked_at)
        test, test_created = RegressionTest.objects.get_or_create(
            postmortem=postmortem,
            repository=repository,
            test_id=canonical_test_id(test_spec.test_id),
            defaults={
                "change_url": f"{repository.url}/pull/{test_spec.change}",
                "state": test_spec.state,
                "state_changed_at": changed_at,
                "linked_by": owner,
                "linked_at": linked_at,
            },
        )
        _rows(result, "regression tests", test_created)
        if test_created:
            TimelineEvent.objects.create(
                incident=incident,
                kind=TimelineEvent.Kind.POSTMORTEM,
                at=linked_at,
                actor=owner,
                source=Source.WEB,
                message=f"Regression test linked: {repository.name} {test.test_id}",
                data={"regression_test_id": test.pk},
            )
            result.created["timeline events"] += 1
    return postmortem


def demo_login_ensure() -> bool:
    """Create the ``demo`` / ``demo`` superuser if missing. Returns whether it was created.

    An existing ``demo`` account is left alone (its password may have been changed on purpose).
    Only call this when ``settings.SREDESK_DEMO_LOGIN`` allows it.
    """
    user, created = User.objects.get_or_create(
        username=demo_data.DEMO_LOGIN_USERNAME,
        defaults={
            "first_name": "Demo",
            "last_name": "User",
            "email": "demo@example.com",
            "is_staff": True,
            "is_superuser": True,
            **AROUND_THE_CLOCK,
        },
    )
    if created:
        user.set_password(demo_data.DEMO_LOGIN_PASSWORD)
        user.save(update_fields=["password"])
    return created


@transaction.atomic
def load_demo(*, now: datetime | None = None, demo_login: bool = False) -> DemoLoadResult:
    """Load everything in ``demo.data`` that is not there yet, in one transaction.

    Creates the ``demo`` login only when ``demo_login`` is true. Existing rows
    are never changed. Returns the demo rows per model and what this run created.
    """
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    result = DemoLoadResult()
    people = demo_people_load(result)
    teams = demo_teams_load(result, people)
    services = demo_services_load(result, teams)
    incidents = []
    for spec in demo_data.INCIDENTS:
        incident = demo_incident_load(result, spec, now=now, people=people, teams=teams, services=services)
        incidents.append(incident)
        if spec.postmortem is not None:
            demo_postmortem_load(result, spec, incident, now=now, people=people)
    if demo_login:
        result.demo_login = "created" if demo_login_ensure() else "exists"

    postmortems = PostMortem.objects.filter(incident__in=incidents)
    result.totals = {
        "teams": len(teams),
        "people": len(people),
        "memberships": Membership.objects.filter(user__in=people.values(), team__in=teams.values()).count(),
        "repositories": len(demo_data.REPOSITORIES),
        "services": len(services),
        "incidents": len(incidents),
        "post-mortems": postmortems.count(),
        "action items": ActionItem.objects.filter(postmortem__in=postmortems).count(),
        "regression tests": RegressionTest.objects.filter(postmortem__in=postmortems).count(),
        "timeline events": TimelineEvent.objects.filter(incident__in=incidents).count(),
    }
    return result
