"""Which of an integration's incidents earn a post-mortem draft, set where operators work: the admin and the API.

Before, ``postmortem_min_duration_seconds`` and ``postmortem_requires_ack``
existed on the model only: no form or endpoint could change them, so every
integration kept the 300 s default. Both doors take strict values (ASCII whole
seconds from 0 to 7 days, JSON booleans) and staff only.
"""

import pytest

from incidents.models import Integration
from tests.api.clients import client_for
from tests.factories import MembershipFactory, UserFactory
from tests.incidents.test_integrations import form

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration():
    integration = Integration(kind="alertmanager", name="Prod")
    integration.set_new_token()
    integration.save()
    return integration


def stored(integration) -> tuple[int, bool]:
    integration.refresh_from_db()
    return integration.postmortem_min_duration_seconds, integration.postmortem_requires_ack


def test_the_admin_edits_the_post_mortem_gate(client, integration):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    change = f"/admin/incidents/integration/{integration.pk}/change/"
    assert b"postmortem_requires_ack" in client.get(change).content

    response = client.post(change, form(postmortem_min_duration_seconds="900", postmortem_requires_ack="on"))

    assert response.status_code == 302
    assert stored(integration) == (900, True)


@pytest.mark.parametrize("typed", ["300.0", "1_000", "٣٠٠", "-1", "604801", ""])
def test_the_admin_refuses_what_is_not_whole_seconds_up_to_a_week(client, integration, typed):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    change = f"/admin/incidents/integration/{integration.pk}/change/"

    response = client.post(change, form(postmortem_min_duration_seconds=typed, postmortem_requires_ack="on"))

    assert response.status_code == 200
    assert "postmortem_min_duration_seconds" in response.context["adminform"].form.errors
    assert stored(integration) == (300, False)


def test_staff_set_the_gate_through_the_api(integration):
    staff = client_for(UserFactory(is_staff=True))
    url = f"/api/v1/integrations/{integration.pk}/"

    response = staff.patch(url, {"postmortem_min_duration_seconds": 0}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["postmortem_min_duration_seconds"], body["postmortem_requires_ack"]) == (0, False)
    assert staff.patch(url, {"postmortem_requires_ack": True}, format="json").json()["postmortem_requires_ack"]
    assert stored(integration) == (0, True)
    assert staff.get(url).json()["postmortem_min_duration_seconds"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"postmortem_min_duration_seconds": 1.5},
        {"postmortem_min_duration_seconds": True},
        {"postmortem_min_duration_seconds": "٣٠٠"},
        {"postmortem_min_duration_seconds": -1},
        {"postmortem_min_duration_seconds": 604801},
        {"postmortem_min_duration_seconds": None},
        {"postmortem_requires_ack": "yes"},
        {"postmortem_requires_ack": 1},
        {"postmortem_requires_ack": None},
    ],
)
def test_the_api_refuses_loose_values_naming_the_field(integration, body):
    response = client_for(UserFactory(is_staff=True)).patch(
        f"/api/v1/integrations/{integration.pk}/", body, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == list(body)
    assert stored(integration) == (300, False)


def test_the_api_refuses_other_settings_and_people_who_are_not_staff(integration):
    url = f"/api/v1/integrations/{integration.pk}/"
    staff = client_for(UserFactory(is_staff=True))
    unknown = staff.patch(url, {"reopen_window_seconds": 60}, format="json")
    assert unknown.status_code == 400 and "reopen_window_seconds" in unknown.json()["error"]["fields"]

    member = client_for(MembershipFactory().user)
    refused = member.patch(url, {"postmortem_min_duration_seconds": 0}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Only staff may change an integration's settings."
    assert stored(integration) == (300, False)
