"""Fixtures for the hostile-input suite: one small world, and clients allowed to write to all of it."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.models import Integration
from oncall.models import LayerMember
from tests.api.clients import client_for
from tests.factories import (
    ActionItemFactory,
    IncidentFactory,
    LayerFactory,
    MembershipFactory,
    PostMortemFactory,
    RegressionTestFactory,
    RepositoryFactory,
    ScheduleFactory,
    ServiceFactory,
    SLOFactory,
    TeamFactory,
    UserFactory,
)


@pytest.fixture
def hostile_world(db):
    """A team with a member who may write everything below (commander of the incidents, owner of the post-mortem)."""
    team = TeamFactory(slug="payments", name="Payments")
    member = MembershipFactory(team=team, user=UserFactory(username="member")).user
    service = ServiceFactory(team=team, slug="checkout", name="Checkout")
    repository = RepositoryFactory(name="acme/payments")
    service.repositories.add(repository)
    incident = IncidentFactory(owning_team=team, commander=member, primary_service=service, severity=2)
    postmortem = PostMortemFactory(
        incident=IncidentFactory(owning_team=team, commander=member, primary_service=service, resolved=True),
        owner=member,
        due_at=timezone.now() + timezone.timedelta(days=5),
    )
    item = ActionItemFactory(postmortem=postmortem, owner=member)
    test = RegressionTestFactory(postmortem=postmortem, repository=repository)
    integration = Integration.objects.create(kind="generic", name="Hostile", default_service=service)
    slo = SLOFactory(service=service)
    schedule = ScheduleFactory(team=team, slug="payments-primary")  # the member alone in its rotation, always on call
    layer = LayerFactory(schedule=schedule, anchor_date=dt.date(2026, 1, 5))
    LayerMember.objects.create(layer=layer, user=member, position=0, active_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    return {
        "team": team,
        "member": member,
        "service": service,
        "repository": repository,
        "incident": incident,
        "postmortem": postmortem,
        "item": item,
        "test": test,
        "integration": integration,
        "slo": slo,
        "schedule": schedule,
    }


@pytest.fixture
def api_client(hostile_world):
    return client_for(hostile_world["member"])


@pytest.fixture
def web_client(client, hostile_world):
    client.force_login(hostile_world["member"])
    return client
