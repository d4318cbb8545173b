"""API fixtures: people in each role around one incident and its post-mortem, and clients signed in as them."""

import datetime as dt

import pytest
from django.utils import timezone

from ownership.models import Membership
from tests.api.clients import client_for
from tests.factories import (
    IncidentFactory,
    MembershipFactory,
    PostMortemFactory,
    RepositoryFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)


@pytest.fixture
def world(db):
    """An owning team with a member, another team with a member, a commander from outside, a staff user,
    a service, an incident with a post-mortem."""
    team = TeamFactory(slug="payments", name="Payments")
    other_team = TeamFactory(slug="search", name="Search")
    member = MembershipFactory(team=team, user=UserFactory(username="member")).user
    lead = MembershipFactory(team=team, user=UserFactory(username="lead"), role=Membership.Role.LEAD).user
    outsider = MembershipFactory(team=other_team, user=UserFactory(username="outsider")).user
    commander = UserFactory(username="commander")
    staff = UserFactory(username="staff", is_staff=True)
    service = ServiceFactory(team=team, slug="checkout", name="Checkout")
    repository = RepositoryFactory(name="acme/payments")
    service.repositories.add(repository)
    incident = IncidentFactory(owning_team=team, commander=commander, primary_service=service, severity=2)
    incident.services.add(service)
    postmortem = PostMortemFactory(
        incident=IncidentFactory(owning_team=team, commander=commander, primary_service=service, resolved=True),
        owner=lead,
        due_at=timezone.now() + dt.timedelta(days=5),
    )
    return {
        "team": team,
        "other_team": other_team,
        "member": member,
        "lead": lead,
        "outsider": outsider,
        "commander": commander,
        "staff": staff,
        "service": service,
        "repository": repository,
        "incident": incident,
        "postmortem": postmortem,
    }


@pytest.fixture
def api(world):
    """A client signed in (by token) as a member of the owning team."""
    return client_for(world["member"])


@pytest.fixture
def reader(db):
    """A client signed in (by token) as someone in no team, in an otherwise empty database."""
    return client_for(UserFactory(username="reader"))
