"""Read-only queries for the service catalog, the service dashboards and "my work"."""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from incidents.models import Incident
from incidents.selectors import incident_list
from postmortems.models import ActionItem, PostMortem, RegressionTest, ReminderDelivery
from postmortems.selectors import (
    action_items_open,
    postmortems_owed,
    regression_tests_owed_by,
    reminder_deliveries_to,
)
from sredesk.lookups import chunks

from .models import Responsibility, Service, User


def service_list() -> QuerySet[Service]:
    return Service.objects.select_related("team").prefetch_related("repositories").order_by("name")


def service_incidents(service: Service) -> QuerySet[Incident]:
    """Incidents whose primary or affected services include ``service``, newest first."""
    matching = Incident.objects.filter(Q(primary_service=service) | Q(services=service)).values("pk")
    return incident_list().filter(pk__in=matching)


@dataclass
class CatalogRow:
    """One service in the catalog with the counts the catalog shows."""

    service: Service
    gaps: list[str]
    open_incidents: int = 0
    recent_incidents: int = 0
    open_action_items: int = 0
    tests: Counter = field(default_factory=Counter)

    @property
    def test_states(self) -> list[tuple[str, int]]:
        """[(state, count)] in the order linked, verified, failing, missing (templates cannot loop a Counter)."""
        return [(state, self.tests[state]) for state in RegressionTest.State.values if self.tests[state]]


def _services_by_incident(incident_ids: set[int]) -> dict[int, set[int]]:
    """{incident id: ids of its primary and affected services} in two queries per 5,000 incidents (the set grows
    with every incident that has a regression test: one array parameter each, never one parameter per id)."""
    by_incident: dict[int, set[int]] = defaultdict(set)
    for ids in chunks(sorted(incident_ids), 5000):
        rows = Incident.objects.filter(pk__any=ids, primary_service__isnull=False)
        for incident_id, service_id in rows.values_list("pk", "primary_service_id"):
            by_incident[incident_id].add(service_id)
        through = Incident.services.through.objects.filter(incident_id__any=ids)
        for incident_id, service_id in through.values_list("incident_id", "service_id"):
            by_incident[incident_id].add(service_id)
    return by_incident


def service_catalog(*, now: dt.datetime, recent_days: int = 90) -> list[CatalogRow]:
    """Every service, with its catalog gaps and counts, in a fixed number of queries.

    Counts are over incidents that name the service as primary or affected
    (as on the service's dashboard): open ones, those detected in the last
    ``recent_days`` days, open action items of their post-mortems, and their
    regression tests by state.
    """
    services = list(service_list())
    rows = {s.pk: CatalogRow(service=s, gaps=s.catalog_gaps) for s in services}
    since = now - dt.timedelta(days=recent_days)
    incidents = list(
        Incident.objects.filter(Q(detected_at__gte=since) | ~Q(status=Incident.Status.RESOLVED)).values_list(
            "pk", "status", "detected_at"
        )
    )
    items = list(
        ActionItem.objects.filter(status__in=[ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS]).values_list(
            "postmortem__incident_id", flat=True
        )
    )
    tests = list(RegressionTest.objects.values_list("postmortem__incident_id", "state"))
    by_incident = _services_by_incident({i[0] for i in incidents} | set(items) | {t[0] for t in tests})

    def of(incident_id: int):
        return (rows[s] for s in by_incident.get(incident_id, ()) if s in rows)

    for incident_id, status, detected_at in incidents:
        for row in of(incident_id):
            row.open_incidents += status != Incident.Status.RESOLVED
            row.recent_incidents += detected_at >= since
    for incident_id in items:
        for row in of(incident_id):
            row.open_action_items += 1
    for incident_id, state in tests:
        for row in of(incident_id):
            row.tests[state] += 1
    return [rows[s.pk] for s in services]


@dataclass
class ServiceDashboard:
    service: Service
    responsibilities: list[tuple[str, Responsibility | None]]
    recent_incidents: list[Incident]
    window_incidents: list[Incident]
    action_items: list[ActionItem]
    regression_tests: list[RegressionTest]
    postmortems: list[PostMortem]


def service_dashboard(service: Service, *, since: dt.datetime, now: dt.datetime) -> ServiceDashboard:
    """What a service's page shows: who answers for it, its incidents since ``since``, follow-ups and tests."""
    assigned = {r.role: r for r in service.responsibilities.select_related("user", "team", "schedule")}
    responsibilities = [(label, assigned.get(role)) for role, label in Responsibility.Role.choices]
    incidents = service_incidents(service)
    window = list(incidents.filter(detected_at__gte=since))
    of_service = Q(postmortem__incident__primary_service=service) | Q(postmortem__incident__services=service)
    item_ids = ActionItem.objects.filter(of_service).values("pk")
    test_ids = RegressionTest.objects.filter(of_service).values("pk")
    postmortem_ids = PostMortem.objects.filter(
        Q(incident__primary_service=service) | Q(incident__services=service)
    ).values("pk")
    return ServiceDashboard(
        service=service,
        responsibilities=responsibilities,
        recent_incidents=list(incidents[:10]),
        window_incidents=window,
        action_items=list(action_items_open(now=now).filter(pk__in=item_ids)),
        regression_tests=list(
            RegressionTest.objects.filter(pk__in=test_ids)
            .select_related("repository", "postmortem__incident", "state_run")
            .order_by("state", "-state_changed_at", "id")
        ),
        postmortems=list(
            PostMortem.objects.filter(pk__in=postmortem_ids)
            .exclude(status__in=[PostMortem.Status.COMPLETE, PostMortem.Status.DECLINED])
            .annotate_rules(now=now)
            .select_related("incident", "owner")
            .order_by("due_at", "id")
        ),
    )


@dataclass
class MyWork:
    postmortems: list[PostMortem]
    postmortems_owing_test: list[PostMortem]
    action_items: list[ActionItem]
    incidents: list[Incident]
    reminders: list[ReminderDelivery]


def my_work(user: User, *, now: dt.datetime, reminders: int = 30) -> MyWork:
    """What ``user`` owes, each list by due date: post-mortems to write, tests to land, action items.

    Also the open incidents they command or respond to, and the last
    ``reminders`` reminders addressed to them.
    """
    open_incidents = incident_list().exclude(status=Incident.Status.RESOLVED)
    mine = Q(commander=user) | Q(communications_lead=user) | Q(responders=user)
    incident_ids = Incident.objects.filter(mine).values("pk")
    return MyWork(
        postmortems=list(postmortems_owed(now=now, owner=user)),
        postmortems_owing_test=list(regression_tests_owed_by(user)),
        action_items=list(action_items_open(now=now, owner=user)),
        incidents=list(open_incidents.filter(pk__in=incident_ids).order_by("severity", "detected_at", "id")),
        reminders=list(reminder_deliveries_to(user)[:reminders]),
    )
