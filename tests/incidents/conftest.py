"""Incidents fixtures: team-x and its service svc-a (with a paged person), and alert integrations to post to."""

import pytest

from incidents.models import Integration
from ownership.models import Responsibility
from tests.factories import ServiceFactory, TeamFactory, UserFactory
from tests.incidents.payloads import Hook


@pytest.fixture
def team(db):
    """Team ``team-x`` with a Slack channel."""
    return TeamFactory(slug="team-x", slack_channel="C0TEAMX")


@pytest.fixture
def svc_a(team):
    """Service ``svc-a`` owned by team-x, whose on-call person is paged."""
    service = ServiceFactory(slug="svc-a", name="Service A", team=team)
    Responsibility.objects.create(service=service, role=Responsibility.Role.PAGED, user=UserFactory(username="oncall"))
    return service


@pytest.fixture
def make_hook(db, client, django_capture_on_commit_callbacks):
    """``make_hook(kind="alertmanager", secret="", **fields)`` -> a Hook for a new integration."""

    def make(kind: str = Integration.Kind.ALERTMANAGER, *, secret: str = "", **fields) -> Hook:
        integration = Integration(kind=kind, name=fields.pop("name", f"{kind} {Integration.objects.count()}"), **fields)
        token = integration.set_new_token()
        integration.signing_secret = secret
        integration.save()
        return Hook(client, django_capture_on_commit_callbacks, integration, token)

    return make


@pytest.fixture
def hook(make_hook, svc_a):
    """A Hook for an Alertmanager integration whose default service is ``svc-a``."""
    return make_hook(default_service=svc_a)
