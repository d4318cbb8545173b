"""Pages offer write forms only to those the write rule lets write (ownership.permissions.may_write).

Before, every signed-in person saw every form and met a 403 only on submitting it. Now a person outside the
owning team reads the incident and its post-mortem (with who may change them said once), an action item's own
owner still gets that item's forms, and the edit pages refuse the GET as they refuse the POST.
"""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from ownership import permissions
from tests.factories import ActionItemFactory, IncidentFactory, PostMortemFactory, TeamFactory, member_of

pytestmark = pytest.mark.django_db

POST_TARGETS = re.compile(r'<form method="post" action="([^"]+)"')


def forms_of(response) -> list[str]:
    """Where the page's POST forms go, but for the header's sign-out."""
    return [url for url in POST_TARGETS.findall(response.content.decode()) if url != reverse("logout")]


@pytest.fixture
def payments():
    return TeamFactory(slug="payments")


def test_an_incident_page_offers_forms_to_its_team_and_none_to_others(client, payments):
    incident = IncidentFactory(owning_team=payments, status="acknowledged", acknowledged_at=timezone.now())
    url = reverse("incidents:detail", args=[incident.pk])

    client.force_login(member_of(payments))
    mine = client.get(url)
    client.force_login(member_of(TeamFactory()))
    theirs = client.get(url)

    assert {reverse("incidents:note", args=[incident.pk]), reverse("incidents:severity", args=[incident.pk])} <= set(
        forms_of(mine)
    )
    assert re.findall(r'data-verb="(\w+)"', mine.content.decode()) == ["mitigate", "resolve"]
    assert forms_of(theirs) == []
    page = theirs.content.decode()
    assert escape(permissions.denied_message(incident)) in page
    assert 'data-verb="' not in page and "Add a note" not in page
    assert incident.get_severity_display() in page and "Nobody commands this incident yet" not in page


def test_a_postmortem_page_reads_for_others_and_its_item_owner_keeps_the_items_forms(client, payments):
    postmortem = PostMortemFactory(published=True, incident__owning_team=payments)
    outsider = member_of(TeamFactory())
    theirs = ActionItemFactory(postmortem=postmortem, owner=outsider, title="Add a retry budget")
    other = ActionItemFactory(postmortem=postmortem, title="Alert on queue depth")
    url = reverse("postmortems:detail", args=[postmortem.pk])

    client.force_login(member_of(payments))
    targets = set(forms_of(client.get(url)))
    assert reverse("postmortems:add_action_item", args=[postmortem.pk]) in targets
    assert reverse("postmortems:snooze", args=[postmortem.pk]) in targets
    assert reverse("postmortems:action_item_status", args=[postmortem.pk, other.pk]) in targets

    client.force_login(outsider)
    response = client.get(url)
    assert forms_of(response) == [reverse("postmortems:action_item_status", args=[postmortem.pk, theirs.pk])]
    page = response.content.decode()
    assert escape(permissions.denied_message(postmortem)) in page
    assert reverse("postmortems:edit", args=[postmortem.pk]) not in page
    assert reverse("postmortems:link_test", args=[postmortem.pk]) not in page
    assert reverse("postmortems:edit_action_item", args=[postmortem.pk, theirs.pk]) in page
    assert reverse("postmortems:edit_action_item", args=[postmortem.pk, other.pk]) not in page


def test_edit_pages_refuse_the_form_itself_to_those_who_may_not_write(client, payments):
    postmortem = PostMortemFactory(published=True, incident__owning_team=payments)
    item = ActionItemFactory(postmortem=postmortem)
    client.force_login(member_of(TeamFactory()))

    for url in (
        reverse("postmortems:edit", args=[postmortem.pk]),
        reverse("postmortems:link_test", args=[postmortem.pk]),
        reverse("postmortems:edit_action_item", args=[postmortem.pk, item.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Only members of the owning team" in response.content.decode(), url
