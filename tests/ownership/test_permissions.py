"""The one write rule (ownership.permissions), as the services enforce it for every door."""

import pytest
from django.urls import reverse

from incidents import services, update
from incidents.models import Incident, Source
from ownership.permissions import may_write
from postmortems.action_items import action_item_set_status
from sredesk.exceptions import PermissionDenied
from tests.factories import (
    ActionItemFactory,
    IncidentFactory,
    PostMortemFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
    member_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return TeamFactory(slug="payments", name="Payments")


def test_naming_yourself_commander_opens_nothing(team, client):
    """The privilege escalation across doors: an outsider's self-appointment is refused at the web door, so the
    API stays closed to them too."""
    incident = IncidentFactory(owning_team=team, commander=None)
    outsider = member_of(TeamFactory(slug="search"))
    client.force_login(outsider)

    response = client.post(reverse("incidents:role", args=[incident.pk]), {"role": "commander", "user": outsider.pk})

    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.commander is None and not incident.timeline.exists()
    assert not may_write(outsider, incident)


def test_a_commander_appointed_by_the_team_may_run_the_incident(team):
    incident = IncidentFactory(owning_team=team, commander=None)
    commander = UserFactory()  # from outside the team: an incident-commander rotation
    update.incident_assign_role(
        incident_id=incident.pk, role="commander", user=commander, actor=member_of(team), source=Source.WEB
    )

    services.incident_acknowledge(incident_id=incident.pk, actor=commander, source=Source.WEB)

    assert Incident.objects.get(pk=incident.pk).status == "acknowledged"


def test_anyone_may_declare_for_another_team_but_not_appoint_its_commander(team):
    outsider = UserFactory()
    service = ServiceFactory(team=team)
    with pytest.raises(PermissionDenied) as refused:
        services.incident_declare(
            title="Checkout down", severity=2, actor=outsider, source=Source.WEB, primary_service=service,
            commander=outsider,
        )  # fmt: skip
    assert refused.value.field == "commander" and not Incident.objects.exists()

    incident = services.incident_declare(
        title="Checkout down", severity=2, actor=outsider, source=Source.WEB, primary_service=service
    )
    assert incident.owning_team == team and incident.commander is None


def test_the_web_declare_form_says_why_the_commander_was_refused(team, client):
    outsider = UserFactory()
    client.force_login(outsider)
    response = client.post(
        reverse("incidents:declare"),
        {"title": "Checkout down", "severity": 2, "primary_service": ServiceFactory(team=team).pk,
         "commander": outsider.pk},
    )  # fmt: skip
    assert response.status_code == 403
    assert "may appoint the commander" in response.context["form"].errors["commander"][0]
    assert not Incident.objects.exists()


def test_an_incident_no_team_owns_is_anyones_to_triage():
    incident = IncidentFactory(owning_team=None)
    services.incident_acknowledge(incident_id=incident.pk, actor=UserFactory(), source=Source.WEB)
    assert Incident.objects.get(pk=incident.pk).status == "acknowledged"


def test_an_action_items_owner_from_another_team_may_mark_it_done(team):
    postmortem = PostMortemFactory(incident__owning_team=team)
    owner, other = UserFactory(), UserFactory()
    item = ActionItemFactory(postmortem=postmortem, owner=owner)

    with pytest.raises(PermissionDenied):
        action_item_set_status(action_item_id=item.pk, status="done", actor=other, source=Source.WEB)
    action_item_set_status(action_item_id=item.pk, status="done", actor=owner, source=Source.WEB)

    item.refresh_from_db()
    assert item.status == "done"


def test_staff_may_write_everywhere_and_anonymous_nowhere(team):
    from django.contrib.auth.models import AnonymousUser

    incident = IncidentFactory(owning_team=team)
    assert may_write(UserFactory(is_staff=True), incident)
    assert not may_write(AnonymousUser(), incident)
    assert not may_write(AnonymousUser(), IncidentFactory(owning_team=None))
    assert not may_write(UserFactory(), ServiceFactory(team=None))
