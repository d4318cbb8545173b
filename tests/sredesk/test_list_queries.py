"""No list's query count grows with its rows (issue 13 item 4; the kind of BR-24/BR-25's lists).

Every list in every door is asked at n rows and again at 3n (``World.grow``):
the REST API's lists and the detail objects that nest lists, the web pages,
every admin changelist and the change pages with inlines, the Markdown
export and ``/metrics``. The count must be the same at both sizes: a query
per row shows up as 2n more queries. Each door is asked twice at each size
and the second answer counts, so one-off caches (content types, sessions)
do not.
"""

import datetime as dt

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sredesk.api.urls import router
from tests.sredesk.world import World

N = 3


def queries(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured.captured_queries)


def rest_lists(world: World) -> list[str]:
    urls = [f"/api/v1/{prefix}/?page_size=200" for prefix, _, _ in router.registry]
    return [
        *urls,
        f"/api/v1/incidents/{world.incident.pk}/timeline/?page_size=200",
        f"/api/v1/incidents/{world.incident.pk}/",
        f"/api/v1/postmortems/{world.postmortem.pk}/",
        f"/api/v1/services/{world.service.pk}/",
        f"/api/v1/teams/{world.team.pk}/",
        "/api/v1/me/",
    ]


def pages(world: World) -> list[str]:
    pm, incident = world.postmortem.pk, world.incident.pk
    return [
        "/",
        "/incidents/",
        f"/incidents/{incident}/",
        "/postmortems/",
        f"/postmortems/{pm}/",
        f"/postmortems/{pm}/edit/",
        f"/postmortems/{pm}/export.md",
        "/services/",
        f"/services/{world.service.slug}/",
        "/me/",
        "/me/profile/",
        "/slos/",
        f"/slos/{world.slo.pk}/",
        "/metrics",
    ]


def admin_pages(world: World) -> list[str]:
    urls = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]
    for anchor in (world.team, world.service, world.incident, world.postmortem, world.slo, world.viewer):
        urls.append(reverse(f"admin:{anchor._meta.app_label}_{anchor._meta.model_name}_change", args=[anchor.pk]))
    return urls


@pytest.fixture
def world(db, settings):
    settings.SREDESK_API_PAGE_SIZE = 200
    return World()


@pytest.mark.parametrize("door", [rest_lists, pages, admin_pages], ids=["api", "web", "admin"])
def test_no_list_runs_a_query_per_row(world, door):
    client = Client()
    client.force_login(world.viewer)
    urls = door(world)
    world.grow(N)
    small = {url: queries(client, url) for url in urls}
    world.grow(2 * N)
    large = {url: queries(client, url) for url in urls}
    grown = {url: (small[url], large[url]) for url in urls if large[url] != small[url]}
    assert not grown, f"queries at {N} and {3 * N} rows: {grown}"


def test_inline_rows_read_in_one_query_still_show_their_choices(world):
    world.grow(2)
    client = Client()
    client.force_login(world.viewer)
    page = client.get(reverse("admin:ownership_team_change", args=[world.team.pk])).content.decode()
    for membership in world.team.memberships.select_related("user"):
        assert f'<option value="{membership.user_id}" selected>{membership.user}</option>' in page
    page = client.get(reverse("admin:postmortems_postmortem_change", args=[world.postmortem.pk])).content.decode()
    assert page.count(f'<option value="{world.repository.pk}" selected>{world.repository}</option>') == 2
    assert page.count(f'<option value="{world.viewer.pk}" selected>{world.viewer}</option>') == 3  # owner, 2 items


def test_a_weekly_digest_runs_the_same_queries_for_n_and_3n_post_mortems(db, settings):
    """The digest lists every post-mortem of a team past the personal maximum: one message, not a query per line."""
    from notifications.models import Notification
    from postmortems.reminders import reminders_digest
    from tests.factories import MembershipFactory, PostMortemFactory, TeamFactory

    settings.SREDESK_REMINDER_MAX_PER_PERSON = 0  # every due step is past the maximum: digest only
    team = TeamFactory(slug="digested")
    MembershipFactory(team=team, role="lead")
    start = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    counts = []
    for week, size in enumerate((N, 2 * N)):
        for _ in range(size):
            PostMortemFactory(published=True, published_at=start, incident__owning_team=team)
        now = start + dt.timedelta(weeks=week + 1)
        with CaptureQueriesContext(connection) as captured:
            assert reminders_digest(now=now) == 1
        counts.append(len(captured.captured_queries))
    digest = Notification.objects.filter(dedup_key__startswith="reminder-digest:").order_by("-created_at").first()
    assert digest.text.count("\n- INC-") == 3 * N
    assert counts[0] == counts[1], counts
