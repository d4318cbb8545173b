"""The report pages: every team, one team's report, and the trend tiles on the overview and the service page."""

import re

import pytest
import time_machine

from tests.factories import UserFactory
from tests.reports.test_figures import NOW, world  # noqa: F401 - the hand-computed fixture

pytestmark = pytest.mark.django_db
PERIOD = "start=2026-11-02&end=2026-11-08"


@pytest.fixture
def reader(client):
    client.force_login(UserFactory(username="reader"))
    return client


def tile(html: str, key: str) -> str:
    """The text of headline tile ``key``, whitespace collapsed."""
    match = re.search(rf'data-figure="{key}">(.*?)</div>', html, re.DOTALL)
    assert match, f"no tile {key}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_team_report_shows_the_figures_beside_the_previous_period(reader, world):  # noqa: F811
    with time_machine.travel(NOW, tick=False):
        page = reader.get(f"/reports/teams/payments/?{PERIOD}")
    assert page.status_code == 200
    html = page.content.decode()
    assert tile(html, "published") == "Post-mortems published 3 ▲ was 0"
    assert tile(html, "verified_share") == "Published with a verified test 67 % was —"
    assert tile(html, "published_to_verified") == "Published → verified (median) 15 h was —"
    assert tile(html, "owing") == "Still owing a test 1 ▲ was 0"
    assert 'class="trend worse"' in html  # one more owed than before
    assert "median 15 h · p90 22 h 12 m" in html
    assert "2 turned" not in html and "2 · 1 green again" in html
    # SEV1: median 10 m, p90 26 m, mean 15 m; the previous period had none.
    assert "10 m · 26 m · 15 m" in html
    assert 'href="/services/pay/"' in html


def test_every_team_links_to_its_report_and_the_csv(reader, world):  # noqa: F811
    with time_machine.travel(NOW, tick=False):
        html = reader.get(f"/reports/teams/?{PERIOD}").content.decode()
    assert f'href="/reports/teams/payments/?{PERIOD.replace("&", "&amp;")}"' in html
    assert f'href="/api/v1/reports/teams/?{PERIOD.replace("&", "&amp;")}&amp;format=csv"' in html


def test_a_bad_period_says_why(reader, world):  # noqa: F811
    page = reader.get("/reports/teams/payments/?days=0")
    assert page.status_code == 400
    assert "days: Give a number of at least 1." in page.content.decode()


def test_overview_and_service_page_show_the_trend(reader, world):  # noqa: F811
    with time_machine.travel(NOW, tick=False):
        overview = reader.get("/").content.decode()
        service = reader.get("/services/pay/").content.decode()
    # The last 28 days (13 Oct..10 Nov) hold all four published post-mortems (p4 on 20 Oct) and both teams'.
    assert tile(overview, "published") == "Post-mortems published 5 ▲ was 0"
    assert tile(service, "published") == "Post-mortems published 4 ▲ was 0"
    assert 'href="/reports/teams/payments/"' in service


def test_the_period_select_says_the_period_shown(reader, world):  # noqa: F811
    """With no period asked for, the select says the 28 days shown, not its first choice (7)."""

    def chosen(url: str) -> list[str]:
        return re.findall(r'<option value="(\d+)" selected>', reader.get(url).content.decode())

    assert chosen("/reports/teams/") == ["28"]
    assert chosen("/reports/teams/payments/?days=90") == ["90"]
    assert chosen(f"/reports/teams/?{PERIOD}") == []  # a date range: no "last N days"
    assert chosen("/reports/teams/?days=0") == ["28"]  # refused: the default period is shown
