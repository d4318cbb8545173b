"""The web UI: open post-mortems with their reminder counts, and linking a regression test."""

import pytest
from django.urls import reverse

from postmortems.models import RegressionTest
from postmortems.reminders import reminders_sweep
from tests.factories import PostMortemFactory, RepositoryFactory, ServiceFactory, TeamFactory, member_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(db):
    return TeamFactory(slug="sre-platform")


@pytest.fixture
def user_client(client, team):
    """Signed in as a member of ``team`` (not staff)."""
    client.force_login(member_of(team, username="sre"))
    return client


def test_pages_need_login(client):
    postmortem = PostMortemFactory()
    for url in (reverse("postmortems:open"), reverse("postmortems:link_test", args=[postmortem.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_open_list_shows_reminder_count_and_missing_test(user_client, django_capture_on_commit_callbacks):
    owed = PostMortemFactory(published=True, incident__title="Payments timed out")
    with django_capture_on_commit_callbacks(execute=True):
        reminders_sweep()
    done = PostMortemFactory(complete=True, incident__title="Old outage")

    response = user_client.get(reverse("postmortems:open"))

    page = response.content.decode()
    assert "Payments timed out" in page
    assert done.incident.title not in page
    row = page[page.index(owed.incident.public_id) :]
    row = row[: row.index("</tr>")]
    assert "<td>1</td>" in row
    assert "none" in row and reverse("postmortems:link_test", args=[owed.pk]) in row


def test_linking_a_test_stops_reminders_where_ci_does_not_report(user_client, team, django_capture_on_commit_callbacks):
    postmortem = PostMortemFactory(
        published=True,
        incident__primary_service=ServiceFactory(ci_reports_tests=False),
        incident__owning_team=team,
    )
    repository = RepositoryFactory()
    url = reverse("postmortems:link_test", args=[postmortem.pk])

    response = user_client.post(
        url, {"repository": repository.pk, "test_id": "./tests/test_pay.py::test_retry[eu]", "change_url": ""}
    )
    again = user_client.post(url, {"repository": repository.pk, "test_id": "tests/test_pay.py::test_retry[eu]"})

    assert response["Location"] == again["Location"] == reverse("postmortems:detail", args=[postmortem.pk])
    test = RegressionTest.objects.get()
    assert test.test_id == "tests/test_pay.py::test_retry[eu]"
    assert test.linked_by.username == "sre"
    assert postmortem.incident.timeline.filter(message__contains="Regression test linked").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_sweep().planned == 0


def test_malformed_test_id_is_refused_with_a_field_message(user_client, team):
    postmortem = PostMortemFactory(published=True, incident__owning_team=team)

    response = user_client.post(
        reverse("postmortems:link_test", args=[postmortem.pk]),
        {"repository": RepositoryFactory().pk, "test_id": "test_retry"},
    )

    assert response.status_code == 400
    assert "needs the &#x27;::&#x27; form" in response.content.decode()
    assert not RegressionTest.objects.exists()


@pytest.mark.parametrize("demo", [True, False])
def test_login_page_names_the_demo_login_only_in_demo_mode(client, settings, demo):
    settings.SREDESK_DEMO_LOGIN = demo

    page = client.get(reverse("login")).content.decode()

    assert ("Demo login" in page) is demo


def test_a_linked_test_is_shown_as_not_yet_seen_passing(user_client, team):
    postmortem = PostMortemFactory(published=True, incident__owning_team=team)
    user_client.post(
        reverse("postmortems:link_test", args=[postmortem.pk]),
        {"repository": RepositoryFactory().pk, "test_id": "tests/test_pay.py::test_retry"},
    )
    page = user_client.get(reverse("postmortems:open")).content.decode()
    assert "linked, not yet seen passing" in page
