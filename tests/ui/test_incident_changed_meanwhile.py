"""Issue 15 item 1 on the incident page: a severity or role chosen on a page opened before someone else changed
it is not written over their change; the person is told who changed it, to what, and chooses again."""

import pytest
from django.test import Client
from django.urls import reverse

from incidents.models import Incident
from tests.factories import IncidentFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def as_opened(incident: Incident, field: str) -> dict[str, str]:
    """The hidden inputs the incident page renders next to ``field``'s form."""
    was = getattr(incident, f"{field}_id" if field in ("commander", "communications_lead") else field)
    return {"version": str(incident.version), "was": "" if was is None else str(was)}


@pytest.fixture
def alex(sre_team):
    """Another member of the incidents' team, in a browser of their own."""
    other = Client()
    other.force_login(member_of(sre_team, username="alex", first_name="Alex", last_name="Kim"))
    return other


def test_the_page_carries_what_it_showed(sre_client, sre_team):
    incident = IncidentFactory(owning_team=sre_team, severity=3)

    page = sre_client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()

    assert f'name="version" value="{incident.version}"' in page
    assert 'name="was" value="3"' in page


def test_a_severity_changed_meanwhile_is_not_overwritten(sre_client, alex, sre_team):
    incident = IncidentFactory(owning_team=sre_team, severity=3)
    url = reverse("incidents:severity", args=[incident.pk])
    seen = as_opened(incident, "severity")
    alex.post(url, {"severity": "2", **seen})

    mine = sre_client.post(url, {"severity": "1", **seen}, follow=True)

    assert Incident.objects.get(pk=incident.pk).severity == 2
    [said] = messages_of(mine)
    assert said.startswith("Not changed: Alex Kim at ") and "set the severity to SEV2" in said
    again = sre_client.post(url, {"severity": "1", **as_opened(Incident.objects.get(pk=incident.pk), "severity")})
    assert again.status_code == 302 and Incident.objects.get(pk=incident.pk).severity == 1


def test_a_change_to_something_else_meanwhile_does_not_block_mine(sre_client, alex, sre_team):
    incident = IncidentFactory(owning_team=sre_team, severity=3, commander=None)
    seen_severity = as_opened(incident, "severity")
    alex.post(
        reverse("incidents:role", args=[incident.pk]),
        {"role": "commander", "user": "", **as_opened(incident, "commander")},
    )
    alex.post(reverse("incidents:transition", args=[incident.pk, "acknowledge"]))

    sre_client.post(reverse("incidents:severity", args=[incident.pk]), {"severity": "2", **seen_severity})

    assert Incident.objects.get(pk=incident.pk).severity == 2


def test_a_commander_set_meanwhile_is_kept_and_named(sre_client, sre, alex, sre_team):
    incident = IncidentFactory(owning_team=sre_team, commander=None)
    url = reverse("incidents:role", args=[incident.pk])
    seen = as_opened(incident, "commander")
    alex_user = UserFactory(username="alex2", first_name="Alex", last_name="Second")
    alex.post(url, {"role": "commander", "user": str(alex_user.pk), **seen})

    mine = sre_client.post(url, {"role": "commander", "user": str(sre.pk), **seen}, follow=True)  # "I'll take it"

    assert Incident.objects.get(pk=incident.pk).commander == alex_user
    [said] = messages_of(mine)
    assert "set the incident commander to Alex Second" in said
