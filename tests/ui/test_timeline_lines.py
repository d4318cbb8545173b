"""A timeline entry reads the same on the incident page and in the post-mortem's copy of the timeline: the time to
the minute with its zone, the kind of entry, who did it and through which door, then what happened.

The walk (notes/walk.md) found the post-mortem's copy saying "06:25:00 UTC — Incident commander: Noah Williams
(Noah Williams)": seconds nowhere else shown, and the actor in parentheses reading as the name said twice."""

import datetime as dt

import pytest
from django.urls import reverse

from incidents import update
from incidents.models import Source, TimelineEvent
from postmortems.services import postmortem_create_for_incident
from tests.factories import IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db

AT = dt.datetime(2024, 5, 1, 6, 25, tzinfo=dt.UTC)


@pytest.fixture
def incident(sre, sre_team):
    """A resolved SEV2 of ``sre_team`` whose commander ``sre`` appointed themselves (at 06:25 UTC) on the web."""
    incident = IncidentFactory(
        owning_team=sre_team, resolved=True, started_at=AT - dt.timedelta(hours=1), detected_at=AT
    )
    update.incident_assign_role(incident_id=incident.pk, role="commander", user=sre, actor=sre, source=Source.WEB)
    TimelineEvent.objects.filter(incident=incident).update(at=AT)
    TimelineEvent.objects.create(incident=incident, kind="alert", source="alert", at=AT, message="Alert fired")
    return incident


def test_the_incident_page_shows_who_and_from_where_once(sre_client, incident):
    page = sre_client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()

    assert "2024-05-01 08:25 CEST</time> · Role change · Sam Rivera via Web UI</div>" in page
    assert "2024-05-01 08:25 CEST</time> · Alert</div>" in page  # "Alert · Alert" would say the door twice


def test_the_postmortem_copy_reads_like_the_incident_timeline(sre_client, incident):
    postmortem, _ = postmortem_create_for_incident(incident=incident)

    lines = postmortem.timeline.splitlines()
    assert "- 2024-05-01 06:25 UTC · Role change · Sam Rivera via Web UI — Incident commander: Sam Rivera" in lines
    assert "- 2024-05-01 06:25 UTC · Alert — Alert fired" in lines
    assert "(Sam Rivera)" not in postmortem.timeline
    page = sre_client.get(reverse("postmortems:detail", args=[postmortem.pk])).content.decode()
    assert "2024-05-01 06:25 UTC · Role change · Sam Rivera via Web UI — Incident commander: Sam Rivera" in page
    assert "06:25:00 UTC —" not in page


def test_an_entry_by_nobody_names_only_its_door():
    entry = TimelineEvent(kind="status_change", source="system", message="Resolved", at=AT)
    assert entry.byline == "Status change · System"
    entry.actor = UserFactory(first_name="Noah", last_name="Williams")
    entry.source = "slack"
    assert entry.byline == "Status change · Noah Williams via Slack"
