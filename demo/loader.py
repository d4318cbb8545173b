"""Load the demo company, its incidents and post-mortems (``manage.py load_demo``).

Idempotent: people, teams, repositories and services are looked up by their
natural keys (username, slug, name) and created only when missing; an
incident is looked up by its title, and only a missing one is played, with
everything that happened to it, through the product's services
(``demo.stories``). Rows that already exist are left as they are, so edits
made while exploring the demo survive a re-run, and times relative to "now"
never produce new rows.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from demo import data as demo_data
from incidents.integrations import integration_create
from incidents.models import Incident, Integration, Source, TimelineEvent
from incidents.update import incident_assign_role
from oncall.models import EscalationPolicy, EscalationStep, EscalationTarget, Layer, LayerMember, Schedule
from oncall.selectors import schedule_final
from oncall.swaps import swap_ask
from ownership.hours import first_reading
from ownership.models import Membership, Repository, Responsibility, Service, Team, User
from postmortems.action_items import action_item_update
from postmortems.models import ActionItem, PostMortem, RegressionTest
from postmortems.services import postmortem_update

from .slos import demo_slos_load
from .stories import at, incident_story_play

AROUND_THE_CLOCK = {"work_start": dt.time(0, 0), "work_end": dt.time(0, 0), "working_days": "1234567"}


@dataclass
class DemoLoadResult:
    """What ``load_demo`` found and made: demo rows per model, and how many of them this run created."""

    totals: dict[str, int] = field(default_factory=dict)
    created: Counter = field(default_factory=Counter)
    demo_login: str = "disabled"  # "created", "exists" or "disabled"
    # Integrations this run created: (name, webhook URL, token). The token is shown once, by load_demo's output.
    webhooks: list[tuple[str, str, str]] = field(default_factory=list)


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


def demo_oncall_load(
    result: DemoLoadResult, teams: dict[str, Team], services: dict[str, Service], *, now: datetime,
    login: User | None = None,
) -> None:  # fmt: skip
    """Per demo team: a schedule in its lead's zone with one rotation of its members, and a policy (the
    schedule's on-call, then the lead, then the team's channel, 15 minutes apart, twice), used by the team's
    services that have none; the next person on call asks for a swap of a day. Created only when missing.

    The rotation is weekly (hand-off Monday 09:00, from Monday 2026-01-05), except on the team of the demo
    ``login`` (when it is a member there): that one is daily with the login first, from the start of ``now``'s
    hour (``_demo_login_rotation``), so whoever signs in is on call now and has shifts ahead to swap.
    """
    for team in teams.values():
        lead = team.lead
        zone = lead.timezone if lead else "UTC"
        schedule, created = Schedule.objects.get_or_create(
            slug=f"{team.slug}-primary", defaults={"name": f"{team.name} primary", "team": team, "timezone": zone}
        )
        _rows(result, "schedules", created)
        if created:
            members = [m.user for m in team.memberships.select_related("user").order_by("user__username")]
            if login is not None and login in members:
                _demo_login_rotation(schedule, [login] + [m for m in members if m != login], now=now)
            else:
                layer = Layer.objects.create(schedule=schedule, name="Weekly", anchor_date=dt.date(2026, 1, 5))
                since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
                for position, user in enumerate(members):
                    LayerMember.objects.create(layer=layer, user=user, position=position, active_from=since)
            _demo_swap(schedule)
        policy, created = EscalationPolicy.objects.get_or_create(
            name=f"{team.name} escalation", defaults={"team": team, "repeat": 1}
        )
        _rows(result, "escalation policies", created)
        if created:
            targets = [{"schedule": schedule}, {"user": lead} if lead else {"team": team}, {"team": team}]
            for position, target in enumerate(targets):
                step = EscalationStep.objects.create(policy=policy, position=position, wait_minutes=15)
                EscalationTarget.objects.create(step=step, **target)
            for service in services.values():  # a new policy for the team's services that have none
                if service.team_id == team.pk and service.escalation_policy_id is None:
                    service.escalation_policy = policy
                    service.save(update_fields=["escalation_policy"])


def _demo_login_rotation(schedule: Schedule, members: list[User], *, now: datetime) -> None:
    """A daily rotation of ``members`` (the demo login first) whose turn under way at ``now`` is the login's.

    Hand-offs fall at the hour ``now`` began in on the schedule's clock, so the login is on call from then for
    one day (23 to 24 hours from ``now``; a DST change makes that day 23 or 25 hours long) and again every
    ``len(members)`` days. The first turn is ``7 * len(members)`` days earlier (a whole number of rounds, so
    the recent past has someone on call too); every member is in effect from it.
    """
    zone = ZoneInfo(schedule.timezone)
    hour = now.astimezone(zone).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    anchor = hour - dt.timedelta(days=7 * len(members))
    layer = Layer.objects.create(schedule=schedule, name="Daily", turn_unit=Layer.Unit.DAYS, turn_length=1,
                                 handoff_time=anchor.time(), anchor_date=anchor.date())  # fmt: skip
    since = first_reading(anchor, zone)
    for position, user in enumerate(members):
        LayerMember.objects.create(layer=layer, user=user, position=position, active_from=since)


def _demo_swap(schedule: Schedule) -> None:
    """The next person on call asks someone to take the first day of their coming turn (through the service)."""
    now = timezone.now()
    final = schedule_final(schedule, start=now, end=now + dt.timedelta(days=21))
    coming = next((s for s in final.shifts if s.user_id and s.start > now + dt.timedelta(hours=1)), None)
    if coming is not None:
        asker = User.objects.get(pk=coming.user_id)
        end = min(coming.end, coming.start + dt.timedelta(days=1))
        swap_ask(schedule_id=schedule.pk, actor=asker, start=coming.start, end=end, note="a family day: who covers?")


def demo_integrations_load(result: DemoLoadResult, services: dict[str, Service]) -> list[Integration]:
    """Demo alert integrations, created through the product's service (``incidents.integrations``) when missing.

    A new one's webhook URL and token land in ``result.webhooks``: the token is
    shown once, as the admin and ``create_integration`` show it.
    """
    integrations = []
    for spec in demo_data.INTEGRATIONS:
        integration = Integration.objects.filter(name=spec.name).first()
        if integration is None:
            integration, token = integration_create(
                integration=Integration(name=spec.name, kind=spec.kind, default_service=services[spec.service])
            )
            result.webhooks.append((integration.name, integration.webhook_url, token))
            _rows(result, "integrations", True)
        integrations.append(integration)
    return integrations


def demo_login_ensure() -> tuple[User, bool]:
    """Create the ``demo`` / ``demo`` superuser if missing. Returns (the login, whether it was created).

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
    return user, created


def demo_login_join(login: User) -> None:
    """The new demo login joins ``DEMO_LOGIN_HANDOVER.team`` as a member (before the schedules are made, so it
    is in that team's rotation: see ``demo_oncall_load``)."""
    team = Team.objects.get(slug=demo_data.DEMO_LOGIN_HANDOVER.team)
    Membership.objects.get_or_create(team=team, user=login, defaults={"role": Membership.Role.MEMBER})


def demo_login_hand_over(login: User, *, now: datetime) -> None:
    """Give the new demo login some work, as its team's lead would, so that ``/me/`` shows what it looks like.

    The lead of ``DEMO_LOGIN_HANDOVER.team`` (which the login joined, ``demo_login_join``) hands it the
    incidents to command, the post-mortems and the action items the data
    names (each through its service, so the timelines say so). Things the
    data names that are not there (another ``SREDESK_POSTMORTEM_SEVERITIES``)
    are skipped.
    """
    handover = demo_data.DEMO_LOGIN_HANDOVER
    lead = Team.objects.get(slug=handover.team).lead
    with at(now):
        for incident in Incident.objects.filter(title__in=handover.commands):
            incident_assign_role(incident_id=incident.pk, role="commander", user=login, actor=lead, source=Source.WEB)
        for postmortem in PostMortem.objects.filter(incident__title__in=handover.postmortems):
            postmortem_update(postmortem_id=postmortem.pk, owner=login, actor=lead, source=Source.WEB)
        for item in ActionItem.objects.filter(title__in=handover.action_items):
            action_item_update(action_item_id=item.pk, owner=login, actor=lead, source=Source.WEB)


@transaction.atomic
def load_demo(*, now: datetime | None = None, demo_login: bool = False) -> DemoLoadResult:
    """Load everything in ``demo.data`` that is not there yet, in one transaction.

    Creates the ``demo`` login only when ``demo_login`` is true; one it creates
    joins its team, and so that team's new rotation (on call now and every few
    days after), and is handed some work. Existing rows are never changed. The
    announcements of the incidents played here are marked as made when they
    happened: history is not news to send now. Returns the demo rows per
    model and what this run created.
    """
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    result = DemoLoadResult()
    people = demo_people_load(result)
    teams = demo_teams_load(result, people)
    services = demo_services_load(result, teams)
    login, login_created = None, False
    if demo_login:
        login, login_created = demo_login_ensure()
        result.demo_login = "created" if login_created else "exists"
        if login_created:
            demo_login_join(login)
    demo_oncall_load(result, teams, services, now=now, login=login)
    integrations = demo_integrations_load(result, services)
    incidents, played = [], []
    for spec in demo_data.INCIDENTS:
        incident = Incident.objects.filter(title=spec.title).order_by("pk").first()
        if incident is None:
            incident = incident_story_play(spec, now=now, people=people, teams=teams, services=services)
            played.append(incident)
        incidents.append(incident)
    if login_created:
        demo_login_hand_over(login, now=now)
    TimelineEvent.objects.filter(incident__in=played, announced_at__isnull=True).exclude(announcement="").update(
        announced_at=F("at")
    )

    postmortems = PostMortem.objects.filter(incident__in=incidents)
    result.totals = {
        "teams": len(teams),
        "people": len(people),
        "memberships": Membership.objects.filter(user__in=people.values(), team__in=teams.values()).count(),
        "repositories": len(demo_data.REPOSITORIES),
        "services": len(services),
        "integrations": len(integrations),
        "incidents": len(incidents),
        "post-mortems": postmortems.count(),
        "action items": ActionItem.objects.filter(postmortem__in=postmortems).count(),
        "regression tests": RegressionTest.objects.filter(postmortem__in=postmortems).count(),
        "timeline events": TimelineEvent.objects.filter(incident__in=incidents).count(),
    }
    result.created.update(
        {
            "incidents": len(played),
            "post-mortems": PostMortem.objects.filter(incident__in=played).count(),
            "action items": ActionItem.objects.filter(postmortem__incident__in=played).count(),
            "regression tests": RegressionTest.objects.filter(postmortem__incident__in=played).count(),
            "timeline events": TimelineEvent.objects.filter(incident__in=played).count(),
        }
    )
    demo_slos_load(result, services, now)  # after the incidents: the time SLIs count them
    result.created = +result.created  # drop the zeros
    return result
