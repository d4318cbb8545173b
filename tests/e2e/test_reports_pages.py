"""The report pages in Chromium at laptop (1366) and phone (390) width: nothing wider than the screen.

Loads the demo company's overview, a service page, every team's report and one team's report; saves
screenshots in ``var/screenshots/`` (``reports-*``) for a person to look at.
"""

import pytest
from django.db.models import Count

from ownership.models import Team
from tests.e2e.test_browser import browser, browser_ready, shoot, sign_in, world  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
WIDTHS = ({"width": 1366, "height": 800}, {"width": 390, "height": 844})


def test_report_pages_fit_laptop_and_phone(world, live_server, browser):  # noqa: F811
    team = Team.objects.annotate(n=Count("incidents")).order_by("-n", "name").first()  # the busiest demo team
    pages = {
        "overview": "/",
        "service": f"/services/{world['service'].slug}/",
        "teams": "/reports/teams/?days=90",
        "team": f"/reports/teams/{team.slug}/?days=365",
    }
    for viewport in WIDTHS:
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        sign_in(page, live_server.url)
        for name, path in pages.items():
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            if name != "teams":
                assert page.locator(".report-tile").count() == 8
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} is {overflow}px wider than {viewport['width']}"
            shoot(page, f"reports-{name}", str(viewport["width"]))
        context.close()
