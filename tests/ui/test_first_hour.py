"""What a new team trips on in its first hour with the web UI (issue 15 items 6 and 10)."""

import datetime as dt
import re

import pytest
from django.contrib.staticfiles import finders

from ownership.models import User
from postmortems.models import TestRun
from postmortems.services import postmortem_completion_blockers
from sredesk.forms import LinkField
from tests.factories import (
    IncidentFactory,
    MembershipFactory,
    PostMortemFactory,
    RegressionTestFactory,
    RepositoryFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db


def test_the_catalog_and_the_service_page_show_the_slug_commands_take(sre_client):
    """`create_integration --service payments` failed: the slug is payments-api, and no page said so."""
    ServiceFactory(name="Payments API", slug="payments-api")

    catalog = sre_client.get("/services/").content.decode()
    page = sre_client.get("/services/payments-api/").content.decode()

    assert '<code class="slug">payments-api</code>' in catalog
    assert "<code>service=payments-api</code>" in page


def test_the_declare_form_names_the_declarer_commander(sre, sre_client):
    """It left the commander empty: an incident without anyone in charge."""
    page = sre_client.get("/incidents/declare/").content.decode()

    assert f'<option value="{sre.pk}" selected>' in page
    assert ">nobody yet</option>" in page


def test_an_incident_nobody_commands_offers_i_will_take_it(sre, sre_client, sre_team):
    incident = IncidentFactory(commander=None, owning_team=sre_team)

    page = sre_client.get(f"/incidents/{incident.pk}/").content.decode()
    sre_client.post(f"/incidents/{incident.pk}/roles/", {"role": "commander", "user": sre.pk})

    assert "I&#x27;ll take it" in page or "I'll take it" in page
    incident.refresh_from_db()
    assert incident.commander == sre
    assert "I'll take it" not in sre_client.get(f"/incidents/{incident.pk}/").content.decode()


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/", "/me/profile/"])
def test_every_page_names_an_icon_that_exists(operator_client, path):
    page = operator_client.get(path).content.decode()

    icon = re.search(r'<link rel="icon" href="/static/([^"]+)"', page)
    assert icon, f"{path} names no icon"
    assert finders.find(icon[1])  # served from the static files
    favicon = operator_client.get("/favicon.ico")  # what browsers ask for elsewhere; was a 404
    assert favicon.status_code == 301 and favicon["Location"] == f"/static/{icon[1]}"


def test_admin_times_name_their_zone(operator, operator_client):
    """The admin showed 'Dec. 4, 2026, 8:03 p.m.': whose 8 p.m.?"""
    User.objects.filter(pk=operator.pk).update(timezone="Europe/Berlin")
    at = dt.datetime(2024, 7, 1, 10, 0, tzinfo=dt.UTC)
    IncidentFactory(title="Disk full", started_at=at, detected_at=at)

    page = operator_client.get("/admin/incidents/incident/").content.decode()

    assert "2024-07-01 12:00 CEST" in page
    assert "Times are in Europe/Berlin" in page


def test_admin_says_how_announcement_deliveries_and_outbox_messages_differ(operator_client):
    index = operator_client.get("/admin/").content.decode()
    outbox = operator_client.get("/admin/notifications/outboxmessage/").content.decode()
    deliveries = operator_client.get("/admin/notifications/notification/").content.decode()

    assert "Announcement deliveries" in index  # was "Notifications", beside "Outbox messages"
    assert "a copy of every announcement and reminder" in outbox
    assert "One row per channel and address of each one-off announcement" in deliveries
    assert "/admin/notifications/notification/add/" not in deliveries  # planned by notify(), never by hand


def test_a_link_without_a_scheme_is_not_blocked_by_the_browser_and_is_stored_as_https(sre, sre_client):
    """type=url refused 'tracker.example.com/SRE-1' in the browser although the server took it."""
    postmortem = PostMortemFactory(incident__owning_team=MembershipFactory(user=sre).team)

    page = sre_client.get(f"/postmortems/{postmortem.pk}/link-test/").content.decode()
    tracker = LinkField().widget.render("tracker_url", "")

    assert 'type="url"' not in page and 'name="change_url"' in page and 'inputmode="url"' in page
    assert 'type="text"' in tracker
    assert LinkField().clean("tracker.example.com/SRE-1") == "https://tracker.example.com/SRE-1"


def test_a_missing_test_is_named_in_what_blocks_completion():
    postmortem = PostMortemFactory(published=True)
    repository = RepositoryFactory(name="acme/pay")
    run = TestRun.objects.create(repository=repository, branch="main", run_key="b42", commit="4f9c2e1", complete=True)
    RegressionTestFactory(
        postmortem=postmortem,
        repository=repository,
        test_id="tests/test_pay.py::test_retry",
        state="missing",
        state_run=run,
    )

    [blocker] = postmortem_completion_blockers(postmortem)

    assert "acme/pay tests/test_pay.py::test_retry is missing from CI" in blocker
    assert "(acme/pay main@4f9c2e1)" in blocker
