"""incidents.update.incident_update: the one edit of an incident, used by the API's PATCH and the web page's forms."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from incidents.models import Incident, Source, TimelineEvent
from incidents.update import incident_update
from tests.api.clients import client_for
from tests.factories import IncidentFactory, TeamFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident():
    return IncidentFactory(owning_team=TeamFactory(slug="payments"), severity=3, title="Checkout slow")


def test_all_or_nothing_a_bad_title_keeps_the_severity_and_roles_too(incident):
    member = member_of(incident.owning_team)
    with pytest.raises(ValidationError) as refused:
        incident_update(
            incident_id=incident.pk, actor=member, source=Source.API, title="  ", severity=1, commander=member
        )
    assert "title" in refused.value.message_dict
    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.title, stored.severity, stored.commander) == ("Checkout slow", 3, None)
    assert not stored.timeline.exists()


def test_a_commander_handing_over_in_the_same_edit_still_makes_the_rest_of_it(incident):
    member = member_of(incident.owning_team)
    commander, successor = UserFactory(), UserFactory()
    incident_update(incident_id=incident.pk, actor=member, source=Source.WEB, commander=commander)

    incident_update(
        incident_id=incident.pk, actor=commander, source=Source.API, severity=2, responders=[commander],
        communications_lead=successor, commander=successor,
    )  # fmt: skip

    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.severity, stored.commander, stored.communications_lead) == (2, successor, successor)
    assert list(stored.responders.all()) == [commander]


def test_nothing_changed_writes_nothing(incident):
    incident_update(incident_id=incident.pk, actor=None, source=Source.API, severity=3, title="Checkout slow")
    assert not TimelineEvent.objects.exists()


def test_the_web_forms_and_the_api_make_the_same_edit(incident, client):
    """Same service, same timeline entries, whichever door."""
    member = member_of(incident.owning_team, first_name="Mia", last_name="Member")
    client.force_login(member)
    client.post(reverse("incidents:severity", args=[incident.pk]), {"severity": 1})
    client.post(reverse("incidents:role", args=[incident.pk]), {"role": "commander", "user": member.pk})
    web = list(incident.timeline.order_by("id").values_list("message", "kind"))

    other = IncidentFactory(owning_team=incident.owning_team, severity=3)
    response = client_for(member).patch(
        f"/api/v1/incidents/{other.pk}/", {"severity": 1, "commander": member.pk}, format="json"
    )

    assert response.status_code == 200
    assert (
        list(other.timeline.order_by("id").values_list("message", "kind"))
        == web
        == [
            ("Escalated SEV3 → SEV1", "severity_change"),
            ("Incident commander: Mia Member", "role_change"),
        ]
    )
