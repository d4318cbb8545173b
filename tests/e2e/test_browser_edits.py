"""Issue 15 item 1 in Chromium: two people edit one post-mortem at once, and nobody's text is lost.

Sam and Alex open the editor of the same post-mortem in their own browsers.
Sam saves "What went well", then Alex saves "Root cause" from the page opened
before: both texts survive, and Alex is told whose change was kept. Then both
rewrite the summary: Alex's save is refused with both texts side by side and
a choice; keeping Alex's own text saves it. Screenshots at laptop (1366x768)
and phone (390x844) width go to ``var/screenshots/`` (``edit-merged-*``, ``edit-conflict-*``).
"""

import pytest

from ownership.models import Membership, Team, User
from postmortems.models import PostMortem
from tests.e2e import test_browser as journeys
from tests.factories import IncidentFactory, PostMortemFactory

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
browser_ready, browser = journeys.browser_ready, journeys.browser  # Chromium, as the other journeys drive it
PASSWORD, shoot = journeys.PASSWORD, journeys.shoot

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shared_postmortem(browser_ready, transactional_db):
    team = Team.objects.create(name="Card Payments", slug="card-payments")
    for username, first, last in (("sam", "Sam", "Rivera"), ("alex", "Alex", "Kim")):
        person = User.objects.create_user(
            username, password=PASSWORD, first_name=first, last_name=last, timezone="Europe/Berlin"
        )
        Membership.objects.create(team=team, user=person)
    incident = IncidentFactory(title="Card payments time out at checkout", severity=2, owning_team=team, resolved=True)
    return PostMortemFactory(incident=incident, summary="Card payments timed out.", went_well="", root_cause="")


def open_editor(browser, base: str, username: str, viewport: dict):
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return context, page


def test_two_people_editing_one_post_mortem_lose_nothing(shared_postmortem, live_server, browser):
    from playwright.sync_api import expect

    base, postmortem = live_server.url, shared_postmortem
    editor = f"{base}/postmortems/{postmortem.pk}/edit/"
    sam_context, sam = open_editor(browser, base, "sam", LAPTOP)
    alex_context, alex = open_editor(browser, base, "alex", LAPTOP)
    errors: list[str] = []
    for page in (sam, alex):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(editor)

    # Different sections: both survive, and Alex is told Sam's change was kept.
    sam.fill("#id_went_well", "Paging reached the on-call engineer within a minute.")
    sam.click("button:has-text('Save')")
    expect(sam.locator(".messages")).to_contain_text("Post-mortem saved.")
    alex.fill("#id_root_cause", "Retries without a budget amplified a slow card processor.")
    alex.click("button:has-text('Save')")
    expect(alex.locator(".messages")).to_contain_text("Kept what Sam Rivera at")
    expect(alex.locator(".messages")).to_contain_text("What went well")
    expect(alex.locator("body")).to_contain_text("Paging reached the on-call engineer within a minute.")
    expect(alex.locator("body")).to_contain_text("Retries without a budget amplified a slow card processor.")
    shoot(alex, "edit-merged", "laptop")
    alex.set_viewport_size(PHONE)
    shoot(alex, "edit-merged", "phone")
    alex.set_viewport_size(LAPTOP)
    postmortem.refresh_from_db()
    assert postmortem.went_well.startswith("Paging reached") and postmortem.root_cause.startswith("Retries without")

    # The same section: Alex sees Sam's text beside their own and chooses; nothing is lost meanwhile.
    sam.goto(editor)
    alex.goto(editor)
    sam.fill("#id_summary", "Card payments timed out for 40 minutes in the EU.")
    sam.click("button:has-text('Save')")
    expect(sam.locator(".messages")).to_contain_text("Post-mortem saved.")
    alex.fill("#id_summary", "Checkout failed for card payments: 504s for 40 minutes.")
    alex.fill("#id_impact", "About 12,000 failed checkouts.")
    alex.click("button:has-text('Save')")
    expect(alex.locator("#edit-conflict")).to_contain_text("Not saved yet: Sam Rivera at")
    conflict = alex.locator(".conflict[data-field=summary]")
    expect(conflict.locator("textarea.theirs")).to_have_value("Card payments timed out for 40 minutes in the EU.")
    expect(alex.locator("#id_summary")).to_have_value("Checkout failed for card payments: 504s for 40 minutes.")
    expect(alex.locator("#id_impact")).to_have_value("About 12,000 failed checkouts.")
    shoot(alex, "edit-conflict", "laptop")
    alex.set_viewport_size(PHONE)
    assert alex.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(alex, "edit-conflict", "phone")
    alex.locator(".conflict[data-field=summary]").scroll_into_view_if_needed()
    alex.screenshot(path=str(journeys.SCREENSHOTS / "edit-conflict-phone-view.png"))  # what the phone shows
    alex.set_viewport_size(LAPTOP)
    postmortem.refresh_from_db()
    assert postmortem.summary == "Card payments timed out for 40 minutes in the EU."  # nothing saved yet
    assert postmortem.impact != "About 12,000 failed checkouts."

    conflict.locator("input[value=mine]").check()
    alex.click("button:has-text('Save')")
    expect(alex.locator(".messages")).to_contain_text("Post-mortem saved.")
    postmortem = PostMortem.objects.get(pk=postmortem.pk)
    assert postmortem.summary == "Checkout failed for card payments: 504s for 40 minutes."
    assert postmortem.impact == "About 12,000 failed checkouts."
    assert postmortem.went_well.startswith("Paging reached") and postmortem.root_cause.startswith("Retries without")

    sam_context.close()
    alex_context.close()
    assert errors == []
