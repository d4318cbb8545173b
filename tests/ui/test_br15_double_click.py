"""BR-15: a double-clicked button (two POSTs) acknowledges once, and the second click says who was first."""

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from incidents.models import Incident, TimelineEvent
from tests.factories import IncidentFactory, member_of

pytestmark = pytest.mark.django_db

FIRST_CLICK = dt.datetime(2024, 5, 1, 10, 5, tzinfo=dt.UTC)


def acks(incident: Incident) -> int:
    return incident.timeline.filter(kind=TimelineEvent.Kind.STATUS_CHANGE, data__to="acknowledged").count()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_two_posts_acknowledge_once_and_the_second_says_by_whom_and_when(sre_client, sre, sre_team):
    incident = IncidentFactory(
        owning_team=sre_team,
        started_at=FIRST_CLICK - dt.timedelta(minutes=5),
        detected_at=FIRST_CLICK - dt.timedelta(minutes=3),
    )
    url = reverse("incidents:transition", args=[incident.pk, "acknowledge"])

    with time_machine.travel(FIRST_CLICK, tick=False):
        first = sre_client.post(url, follow=True)
    with time_machine.travel(FIRST_CLICK + dt.timedelta(milliseconds=300), tick=False):
        second = sre_client.post(url, follow=True)

    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    assert incident.acknowledged_at == FIRST_CLICK  # the first click's time: MTTA is not moved by the second
    assert incident.acknowledged_by == sre
    assert acks(incident) == 1
    assert first.status_code == second.status_code == 200
    assert messages_of(first) == [f"{incident.public_id} acknowledged."]
    # Shown in the viewer's zone (Europe/Berlin, CEST in May), with the date and the zone named.
    assert messages_of(second) == [
        f"{incident.public_id} was already acknowledged by Sam Rivera at 2024-05-01 12:05 CEST."
    ]


def test_a_later_click_by_someone_else_changes_nothing(client, sre, sre_team):
    incident = IncidentFactory(
        owning_team=sre_team,
        started_at=FIRST_CLICK - dt.timedelta(minutes=5),
        detected_at=FIRST_CLICK - dt.timedelta(minutes=3),
    )
    url = reverse("incidents:transition", args=[incident.pk, "acknowledge"])
    client.force_login(sre)
    with time_machine.travel(FIRST_CLICK, tick=False):
        client.post(url, follow=True)
    other = member_of(sre_team, username="other", timezone="UTC")
    client.force_login(other)

    with time_machine.travel(FIRST_CLICK + dt.timedelta(seconds=10), tick=False):
        response = client.post(url, follow=True)

    incident.refresh_from_db()
    assert (incident.acknowledged_by, incident.acknowledged_at, acks(incident)) == (sre, FIRST_CLICK, 1)
    assert messages_of(response) == [
        f"{incident.public_id} was already acknowledged by Sam Rivera at 2024-05-01 10:05 UTC."
    ]


def test_acknowledging_an_incident_that_moved_on_names_the_first_acknowledgement(sre_client, sre, sre_team):
    incident = IncidentFactory(
        owning_team=sre_team,
        started_at=FIRST_CLICK - dt.timedelta(minutes=5),
        detected_at=FIRST_CLICK - dt.timedelta(minutes=3),
    )
    with time_machine.travel(FIRST_CLICK, tick=False):
        sre_client.post(reverse("incidents:transition", args=[incident.pk, "acknowledge"]), follow=True)
    sre_client.post(reverse("incidents:transition", args=[incident.pk, "mitigate"]), follow=True)

    response = sre_client.post(reverse("incidents:transition", args=[incident.pk, "acknowledge"]), follow=True)

    assert messages_of(response) == [
        f"Cannot acknowledge {incident.public_id}: it is mitigated. "
        "It was acknowledged by Sam Rivera at 2024-05-01 12:05 CEST."
    ]
    assert acks(incident) == 1


def test_a_repeated_resolve_says_it_was_already_resolved(sre_client, sre_team):
    incident = IncidentFactory(severity=3, owning_team=sre_team)
    url = reverse("incidents:transition", args=[incident.pk, "resolve"])
    sre_client.post(url, follow=True)
    response = sre_client.post(url, follow=True)

    (message,) = messages_of(response)
    assert message.startswith(f"{incident.public_id} was already resolved by Sam Rivera at ")
    assert incident.timeline.filter(data__to="resolved").count() == 1


def test_the_page_disables_buttons_on_submit(sre_client, sre_team):
    """The second POST should not even be sent: forms disable their buttons once submitted."""
    incident = IncidentFactory(owning_team=sre_team)  # a writer sees the forms
    page = sre_client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "/static/sredesk/app.js" in page  # the script is a static file: the CSP refuses inline script
    script = (Path(settings.BASE_DIR) / "sredesk" / "static" / "sredesk" / "app.js").read_text()
    assert 'document.addEventListener("submit"' in script
    assert "button.disabled = true" in script
    assert 'hx-disabled-elt="find button"' in page  # the htmx note form
