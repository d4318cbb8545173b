"""The Content-Security-Policy in Chromium: no page has anything refused, and the API docs still work.

Chromium reports every refusal (inline script or style, a style attribute, a
worker, a resource from another host) on the console; each page of the demo
company is loaded signed in as staff (``ops``: the admin's pages too, and every
form) and the console must stay clean. Swagger
UI (/api/docs/) and Redoc (/api/redoc/) must render the schema, served from
our own static files. The one refusal allowed is Redoc's Redocly logo, which
it would load from cdn.redoc.ly: the policy keeping it out is the point.
"""

import pytest

from incidents.models import Incident
from ownership.models import Service
from postmortems.models import PostMortem
from slos.models import SLO
from tests.e2e.test_browser import browser, browser_ready, sign_in, world  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
ALLOWED_REFUSALS = ("https://cdn.redoc.ly/redoc/logo-mini.svg",)


def test_no_page_has_anything_refused_by_the_policy(world, live_server, browser):  # noqa: F811
    incident = Incident.objects.order_by("pk").first()
    postmortem = PostMortem.objects.order_by("pk").first()
    slo = SLO.objects.order_by("pk").first()
    paths = [
        "/", "/incidents/", f"/incidents/{incident.pk}/", "/incidents/declare/", "/postmortems/",
        f"/postmortems/{postmortem.pk}/", f"/postmortems/{postmortem.pk}/edit/", "/services/",
        f"/services/{world['service'].slug}/", f"/services/{Service.objects.order_by('pk').first().slug}/",
        "/slos/", *([f"/slos/{slo.pk}/"] if slo else []), "/me/", "/me/profile/", "/reports/teams/",
        f"/reports/teams/{world['service'].team.slug}/",
        "/admin/", "/admin/incidents/incident/", f"/admin/incidents/incident/{incident.pk}/change/",
        "/admin/axes/accessattempt/", "/api/docs/", "/api/redoc/",
    ]  # fmt: skip
    page = browser.new_page()
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append((page.url, message.text))
            if "Content Security Policy" in message.text and not any(a in message.text for a in ALLOWED_REFUSALS)
            else None
        ),
    )
    sign_in(page, live_server.url, "ops")

    for path in paths:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        if path == "/api/docs/":
            page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)  # the schema was loaded and drawn
            assert "sredesk API" in page.inner_text(".swagger-ui .info .title")
        if path == "/api/redoc/":
            page.wait_for_selector(".menu-content", timeout=20_000)
            assert "sredesk API" in page.inner_text("h1")
        if path.startswith("/services/") and path != "/services/":
            # The charts' colours come from their nonced <style>: a bar is not drawn in the default black.
            fill = page.eval_on_selector(".chart svg .color-0", "el => getComputedStyle(el).fill")
            assert fill not in ("rgb(0, 0, 0)", ""), fill
    assert not refused, refused
