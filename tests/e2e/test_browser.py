"""The web UI in a real browser: Debian's Chromium driven by Playwright against a live server on PostgreSQL.

One walk through an incident's whole life as a person does it: sign in (as a
team lead with no staff rights, so the write rule answers as it does for users),
declare a SEV2, double-click "Acknowledge" (BR-15: acknowledged once), add a
note without a reload (htmx), mitigate and resolve (a post-mortem draft
appears), write the post-mortem with its live Markdown preview, add an action
item, link a regression test, let CI upload a JUnit file that verifies it
(``POST /ci/junit/`` with the repository's token), mark the action item done,
publish and complete; another team's incident reads without its forms. Every main
page is photographed at laptop (1280x800) and phone (390x844) width into
``var/screenshots/`` for a person to look at (the admin's as an operator).

Uses ``/usr/bin/chromium`` (``apt-get install chromium``), never ``playwright
install``. Skips without PostgreSQL or Chromium; fails instead when
SREDESK_REQUIRE_SERVICES=1 (CI, whose ``.ci/run`` installs Chromium).
"""

import datetime as dt
import json
import re
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from demo.loader import load_demo
from incidents.models import Incident, TimelineEvent
from ownership.models import Membership, Repository, Service, Team, User
from postmortems.models import ActionItem, PostMortem, RegressionTest
from postmortems.reminders import reminders_sweep
from sredesk.tokens import new_token
from tests.machine import service_missing

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery staple"
TEST_ID = "tests/payments/test_retry.py::test_timeout_is_retried"
PASSING_RUN = (
    b'<testsuites><testsuite name="pytest" tests="1">'
    b'<testcase classname="tests.payments.test_retry" name="test_timeout_is_retried" time="0.2"/>'
    b"</testsuite></testsuites>"
)


@pytest.fixture
def browser_ready(monkeypatch):
    """PostgreSQL and Chromium are there (skip, or fail in CI); the live server keeps no idle database sessions."""
    if connection.vendor != "postgresql":
        service_missing("the browser test needs PostgreSQL: set DATABASE_URL=postgres://...")
    if not CHROMIUM.exists():
        service_missing("the browser test needs Chromium at /usr/bin/chromium: apt-get install chromium")
    # The browser keeps HTTP connections alive, and with them the live server's request threads and their
    # persistent (CONN_MAX_AGE) database sessions, which would block dropping the test database afterwards.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    # Playwright's sync API runs an event loop in this thread; the ORM calls made here between browser
    # steps are plain synchronous ones (the live server answers from its own threads).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(browser_ready):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
            # The ORM calls made while Playwright runs got a database session of their own: close it, or
            # dropping the test database afterwards finds it still open.
            connections.close_all()


@pytest.fixture
def world(browser_ready, transactional_db):
    """The demo company (for pages worth looking at) plus the person who signs in and a CI-connected service.

    Sam leads Card Payments and is not staff: what Sam may change is what the write rule gives a team's lead
    (``ownership.permissions``). ``ops`` (staff) is the operator who opens the admin.
    """
    load_demo(demo_login=False)
    person = User.objects.create_user(
        "sam", password=PASSWORD, first_name="Sam", last_name="Rivera", timezone="Europe/Berlin",
        work_start=dt.time(0), work_end=dt.time(0), working_days="1234567",
    )  # fmt: skip
    User.objects.create_user("ops", password=PASSWORD, is_staff=True, is_superuser=True)
    team = Team.objects.create(name="Card Payments", slug="card-payments", slack_channel="#card-payments")
    Membership.objects.create(team=team, user=person, role=Membership.Role.LEAD)
    repository = Repository.objects.create(name="acme/card-payments", url="https://git.example.com/acme/card-payments")
    token, digest = new_token("sdci")
    repository.ci_token_hash = digest
    repository.save()
    service = Service.objects.create(
        name="Card payments API", slug="card-payments-api", team=team, tier=1,
        runbook_url="https://wiki.example.com/runbooks/payments", dashboard_url="https://grafana.example.com/d/pay",
    )  # fmt: skip  # no alerts link: a catalog gap
    service.repositories.add(repository)
    # Sam owes some of the demo company's work too, and has been reminded of it: "My work" has something to show.
    PostMortem.objects.filter(status=PostMortem.Status.DRAFT).update(owner=person)
    ActionItem.objects.filter(pk__in=ActionItem.objects.filter(status="open").values("pk")[:3]).update(owner=person)
    reminders_sweep()
    return {"person": person, "service": service, "repository": repository, "token": token}


def shoot(page, name: str, width: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


def sign_in(page, base: str, username: str = "sam") -> None:
    page.goto(base + "/")
    assert "/accounts/login/" in page.url  # the UI needs a login
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def upload_junit(base: str, token: str, content: bytes) -> dict:
    """What CI does: POST the JUnit XML to /ci/junit/ with the repository's bearer token."""
    request = urllib.request.Request(
        base + "/ci/junit/?branch=main&commit=4f2a9c1&run_key=build-7&complete=1",
        data=content,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.loads(response.read())


def watch_server_errors(context, found: list[str]) -> None:
    """Note in ``found`` each response of ``context``'s pages that was a server error (5xx), as "STATUS URL"."""
    context.on(
        "response",
        lambda response: found.append(f"{response.status} {response.url}") if response.status >= 500 else None,
    )


def split_across_lines(page) -> list[str]:
    """The texts of the page's times and ``.nowrap`` spans (a duration, "Tier 2", "99.5 %") that a line break
    cut in two: an inline element laid out on two lines has two boxes."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('main time, main .nowrap'))
           .filter(el => new Set(Array.from(el.getClientRects()).map(r => Math.round(r.top))).size > 1)
           .map(el => el.textContent.trim())"""
    )


def words_split(page) -> list[str]:
    """The words of the page's table links that a line break cut in two ("Payment/s"; a line may end at a hyphen):
    a word laid out on two lines has boxes at two heights."""
    return page.evaluate(
        """() => {
             const split = [];
             for (const link of document.querySelectorAll('main table a')) {
               const walker = document.createTreeWalker(link, NodeFilter.SHOW_TEXT);
               for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                 for (const match of node.data.matchAll(/[^\\s-]+/g)) {
                   const range = document.createRange();
                   range.setStart(node, match.index);
                   range.setEnd(node, match.index + match[0].length);
                   const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
                   if (tops.size > 1) split.push(match[0]);
                 }
               }
             }
             return split;
           }"""
    )


def role_rows_broken(page) -> list[str]:
    """The incident page's role and responder forms whose button is not on the same line as their person select."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll(
             '#roles form:has(#id_commander), #roles form:has(#id_comms), #roles form:has(#id_responder)'))
           .filter(form => {
             const select = form.querySelector('select').getBoundingClientRect();
             const button = form.querySelector('button').getBoundingClientRect();
             return button.top >= select.bottom || button.bottom <= select.top;
           }).map(form => form.querySelector('label').textContent)"""
    )


def test_an_incident_from_declaration_to_a_verified_regression_test(world, live_server, browser):
    from playwright.sync_api import expect

    base = live_server.url
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    refused: list[str] = []  # what the server answered with an error page on the way (5xx)
    watch_server_errors(context, refused)

    sign_in(page, base)
    expect(page.locator("h1")).to_have_text("Overview")

    # Declare a SEV2 on the Payments API.
    page.click("text=Declare incident")
    page.fill("#id_title", "Card payments time out at checkout")
    page.select_option("#id_severity", "2")
    page.select_option("#id_primary_service", str(world["service"].pk))
    page.fill("#id_summary", "Checkout spinners, then 504s, for card payments only.")
    page.click("button:has-text('Declare')")
    expect(page.locator("#incident-status")).to_have_text("Triggered")
    incident = Incident.objects.get(title="Card payments time out at checkout")
    assert page.url == f"{base}/incidents/{incident.pk}/"

    # BR-15: a double click acknowledges once; another POST is told who was first, and when.
    page.dblclick("button[data-verb=acknowledge]")
    expect(page.locator("#incident-status")).to_have_text("Acknowledged")
    incident.refresh_from_db()
    first_ack = incident.acknowledged_at
    acks = TimelineEvent.objects.filter(incident=incident, data__to="acknowledged")
    assert acks.count() == 1 and incident.acknowledged_by == world["person"]
    token = page.locator("#transitions input[name=csrfmiddlewaretoken]").first.input_value()
    again = page.request.post(
        f"{base}/incidents/{incident.pk}/acknowledge/",
        form={"csrfmiddlewaretoken": token},
        headers={"Referer": page.url},
    )
    local = timezone.localtime(first_ack, timezone=__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert f"was already acknowledged by Sam Rivera at {local:%Y-%m-%d %H:%M} {local.tzname()}" in again.text()
    incident.refresh_from_db()
    assert incident.acknowledged_at == first_ack and acks.count() == 1

    # A note goes on the timeline without a page load (htmx).
    page.evaluate("window.__same_page = true")
    page.fill("#id_text", "Rolled back payments-api 4.2.0 on one canary")
    page.click("button:has-text('Add note')")
    expect(page.locator("#timeline")).to_contain_text("Rolled back payments-api 4.2.0 on one canary")
    assert page.evaluate("window.__same_page") is True
    expect(page.locator("#timeline")).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d CES?T"))

    # Roles: a communications lead.
    comms = User.objects.get(username="amara")
    page.select_option("#id_comms", str(comms.pk))
    page.locator("form:has(#id_comms) button").click()
    expect(page.locator("#id_comms")).to_have_value(str(comms.pk))
    assert role_rows_broken(page) == []
    shoot(page, "incident", "laptop")

    # Mitigate, then resolve: a SEV2 gets a post-mortem draft.
    page.click("button[data-verb=mitigate]")
    expect(page.locator("#incident-status")).to_have_text("Mitigated")
    page.click("button[data-verb=resolve]")
    expect(page.locator("#incident-status")).to_have_text("Resolved")
    postmortem = PostMortem.objects.get(incident=incident)
    page.click("text=Post-mortem (draft)")
    expect(page.locator("#postmortem-status")).to_have_text("Draft")

    # The editor: a live Markdown preview for each section (htmx), then save.
    page.click("text=Edit sections")
    page.fill("#id_summary", "**Card payments** timed out for 40 minutes.\n\n- retries piled up")
    expect(page.locator("#preview-summary strong")).to_have_text("Card payments")
    expect(page.locator("#preview-summary li")).to_have_text("retries piled up")
    page.fill("#id_root_cause", "Retries without a budget or backoff amplified a slow dependency.")
    expect(page.locator("#preview-root_cause")).to_contain_text("without a budget")
    shoot(page, "postmortem-editor", "laptop")
    page.click("button:has-text('Save')")
    expect(page.locator(".messages")).to_contain_text("Post-mortem saved.")
    expect(page.locator(".md strong").first).to_have_text("Card payments")

    # An action item.
    page.locator("#action-items details").evaluate("details => { details.open = true; }")
    page.fill("#action-items #id_title", "Add a retry budget to the card client")
    page.select_option("#action-items #id_owner", str(world["person"].pk))
    page.fill("#action-items #id_due_date", (timezone.localdate() + dt.timedelta(days=14)).isoformat())
    page.click("button:has-text('Add action item')")
    expect(page.locator("#action-items")).to_contain_text("Add a retry budget to the card client")
    item = ActionItem.objects.get(postmortem=postmortem)

    # Link the regression test, then CI uploads a run in which it passes.
    page.click("text=Link a regression test")
    page.select_option("#id_repository", str(world["repository"].pk))
    page.fill("#id_test_id", TEST_ID)
    page.select_option("#id_action_item", str(item.pk))
    page.click("button:has-text('Link regression test')")
    expect(page.locator("#regression-tests")).to_contain_text(TEST_ID)
    expect(page.locator("#regression-tests .badge")).to_have_text("Linked")
    summary = upload_junit(base, world["token"], PASSING_RUN)
    assert summary["changed"] == 1
    page.reload()
    expect(page.locator("#regression-tests .badge")).to_have_text("Verified")
    assert RegressionTest.objects.get(postmortem=postmortem).state == "verified"

    # Action item done; publish; complete.
    page.select_option(f"#id_item{item.pk}-status", "done")
    page.locator("#action-items .status-form button").click()
    expect(page.locator("#action-items .badge").first).to_have_text("Done")
    page.click("button[data-verb=publish]")
    expect(page.locator("#postmortem-status")).to_have_text("Published")
    shoot(page, "postmortem", "laptop")
    page.click("button[data-verb=complete]")
    expect(page.locator("#postmortem-status")).to_have_text("Complete")
    postmortem.refresh_from_db()
    assert postmortem.status == "complete" and postmortem.completed_at

    # The incident list filters without a reload (htmx).
    page.goto(base + "/incidents/")
    page.fill("#id_search", "card payments")
    expect(page.locator("#incident-results")).to_contain_text("1 incident matches these filters")
    assert re.search(r"/incidents/\?search=card(\+|%20)payments$", page.url), page.url  # its own, tidy URL

    # Another team's incident: Sam reads it, with who may change it said once, and no form to change it with.
    theirs = Incident.objects.exclude(owning_team=world["service"].team).exclude(owning_team=None).first()
    page.goto(f"{base}/incidents/{theirs.pk}/")
    expect(page.locator("#read-only")).to_contain_text("Only members of the owning team")
    expect(page.locator("button[data-verb]")).to_have_count(0)

    blocked = PostMortem.objects.filter(status="published", regression_tests__state="linked").first()
    pages = {
        "overview": "/",
        "incidents": "/incidents/",
        "incident": f"/incidents/{incident.pk}/",
        "postmortem": f"/postmortems/{postmortem.pk}/",
        "postmortem-editor": f"/postmortems/{postmortem.pk}/edit/",
        "catalog": "/services/",
        "service": "/services/card-payments-api/",
        "service-demo": "/services/storefront/",
        "my-work": "/me/",
        "slos": "/slos/",  # long SLO names beside status badges: the table still fits a phone
        "oncall": "/oncall/schedules/",  # who is on call now and next, with their times
        "link-test": f"/postmortems/{postmortem.pk}/link-test/",  # a long example test id in the help text
        # a published post-mortem whose linked test CI has not seen: the blocker names the long test id
        "postmortem-blocked": f"/postmortems/{blocked.pk}/",
        "team-reports": "/reports/teams/",
        "admin-incidents": "/admin/incidents/incident/",  # as the operator: Sam is not staff
    }
    for name, path in pages.items():
        if name == "admin-incidents":
            context.close()
            context = browser.new_context(viewport=LAPTOP)
            watch_server_errors(context, refused)
            page = context.new_page()
            sign_in(page, base, "ops")
        page.goto(base + path)
        expect(page.locator("h1")).to_be_visible()
        shoot(page, name, "laptop")
    expect(page.locator("#result_list")).to_contain_text("Card payments time out at checkout")
    context.close()

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.set_default_timeout(15_000)
    watch_server_errors(phone, refused)
    page = phone.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base)
    for name, path in pages.items():
        if name == "admin-incidents":
            phone.close()
            phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
            watch_server_errors(phone, refused)
            page = phone.new_page()
            sign_in(page, base, "ops")
        page.goto(base + path)
        expect(page.locator("h1")).to_be_visible()
        # Nothing wider than the phone: the page scrolls down, never sideways (the admin's tables may).
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
        if not name.startswith("admin"):
            wide = page.evaluate(
                "Array.from(document.querySelectorAll('.table-wrap')).filter(t => t.scrollWidth > t.clientWidth + 1)"
                ".length"
            )
            assert wide == 0, f"{name}: a table is wider than the phone"
        assert split_across_lines(page) == [], f"{name}: a time or a duration wraps inside"
        assert words_split(page) == [], f"{name}: a name in a table breaks inside a word"
        if name == "postmortem":  # the incident line's time to resolve ("1 h 30 m") is one unit
            expect(page.locator("#time-to-resolve.nowrap")).to_have_count(1)
        if name == "incident":  # each role's "Set" sits beside its person, not on a line of its own
            assert role_rows_broken(page) == [], "a role's Set (or Add responder) button wrapped below its select"
            # its times-to are units too, like the times beside them (split_across_lines checks them above)
            expect(page.locator("#time-to-resolve.nowrap")).not_to_have_text("—")
        shoot(page, name, "phone")
    phone.close()

    assert errors == []
    # Every page and every htmx request of the walk was answered, none with a server error. (How long the walk
    # takes is not a test's business: speed targets live in bench/.)
    assert refused == []


def test_a_flapping_alerts_post_mortem_is_declined_with_a_reason(world, live_server, browser):
    """Issue 15 item 2: a critical alert that flapped got a SEV1 draft nobody needed; the team declines it."""
    from playwright.sync_api import expect

    from incidents.models import Integration
    from postmortems.services import postmortem_create_for_incident

    base = live_server.url
    integration = Integration.objects.create(kind="alertmanager", name="Prometheus (card payments)")
    started = timezone.now() - dt.timedelta(hours=2)
    incident = Incident.objects.create(
        title="CardPaymentsLatencyHigh flapping", severity=1, status=Incident.Status.RESOLVED,
        owning_team=world["service"].team, primary_service=world["service"], integration=integration,
        started_at=started, detected_at=started, resolved_at=started + dt.timedelta(minutes=7),
    )  # fmt: skip
    postmortem, created = postmortem_create_for_incident(incident=incident)
    assert created  # 7 minutes: over the integration's 5-minute minimum, so a draft was made

    for name, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport)
        context.set_default_timeout(15_000)
        page = context.new_page()
        sign_in(page, base)
        page.goto(f"{base}/postmortems/{postmortem.pk}/")
        if name == "laptop":
            expect(page.locator("#postmortem-status")).to_have_text("Draft")
            page.click("#decline summary")
            shoot(page, "postmortem-before-decline", str(viewport["width"]))
            page.fill("#id_reason", "Flapping latency alert during a deploy; no customer impact.")
            page.click("button:has-text('Decline post-mortem')")
            expect(page.locator("#postmortem-status")).to_have_text("Declined")
            expect(page.locator("#declined")).to_contain_text("Flapping latency alert during a deploy")
        shoot(page, "postmortem-declined", str(viewport["width"]))
        page.goto(f"{base}/incidents/{incident.pk}/")
        expect(page.locator("body")).to_contain_text("Post-mortem declined: Flapping latency alert during a deploy")
        shoot(page, "incident-postmortem-declined", str(viewport["width"]))
        context.close()

    postmortem.refresh_from_db()
    assert postmortem.status == PostMortem.Status.DECLINED
    page_sizes = {path.name for path in SCREENSHOTS.glob("postmortem-declined-*.png")}
    assert page_sizes == {"postmortem-declined-1280.png", "postmortem-declined-390.png"}
