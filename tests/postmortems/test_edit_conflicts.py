"""Two people editing one post-mortem or action item (issue 15 item 1): nothing is overwritten silently.

The editor carries the version it was opened at; a save based on an old
version merges fields only one side changed, and shows a field both changed
side by side with a choice (409, nothing saved until the person chooses).
"""

import pytest
from django.urls import reverse

from postmortems.forms import ActionItemForm, PostMortemSectionsForm
from postmortems.models import ActionItem, PostMortem
from tests.factories import ActionItemFactory, PostMortemFactory, TeamFactory, member_of

pytestmark = pytest.mark.django_db


def opened(form_class, instance) -> dict[str, str]:
    """What a browser posts from the editor as it was opened (hidden version and digests included)."""
    form = form_class(instance=type(instance).objects.get(pk=instance.pk))
    return {name: "" if form[name].value() is None else str(form[name].value()) for name in form.fields}


@pytest.fixture
def team(db):
    """The team that owns every post-mortem here; alice and bob are in it, so both may write."""
    return TeamFactory(slug="payments")


@pytest.fixture
def alice(client, team):
    client.force_login(member_of(team, username="alice", first_name="Alice", last_name="Doe"))
    return client


@pytest.fixture
def bob(team):
    from django.test import Client

    other = Client()
    other.force_login(member_of(team, username="bob"))
    return other


def edit_url(postmortem) -> str:
    return reverse("postmortems:edit", args=[postmortem.pk])


def test_the_editor_carries_the_version_it_was_opened_at(alice, team):
    postmortem = PostMortemFactory(incident__owning_team=team)

    page = alice.get(edit_url(postmortem)).content.decode()

    assert 'name="version"' in page and f'value="{postmortem.version}"' in page
    assert 'name="base_went_well"' in page


def test_two_tabs_saving_different_sections_keep_both(alice, bob, team):
    postmortem = PostMortemFactory(incident__owning_team=team, went_well="", root_cause="")
    tab_a, tab_b = opened(PostMortemSectionsForm, postmortem), opened(PostMortemSectionsForm, postmortem)

    first = alice.post(edit_url(postmortem), {**tab_a, "went_well": "Paging worked within a minute."})
    second = bob.post(edit_url(postmortem), {**tab_b, "root_cause": "A retry storm\r\non the gateway."})

    assert first.status_code == second.status_code == 302
    postmortem.refresh_from_db()
    assert postmortem.went_well == "Paging worked within a minute."
    assert postmortem.root_cause == "A retry storm\r\non the gateway."
    assert postmortem.version == 3
    said = [str(m) for m in bob.get(second["Location"]).context["messages"]]
    assert any("Kept what Alice Doe at " in m and "What went well" in m for m in said), said


def test_both_changing_one_section_shows_theirs_beside_mine_and_saves_nothing(alice, bob, team):
    postmortem = PostMortemFactory(incident__owning_team=team, went_well="Old text.")
    tab_a, tab_b = opened(PostMortemSectionsForm, postmortem), opened(PostMortemSectionsForm, postmortem)
    alice.post(edit_url(postmortem), {**tab_a, "went_well": "Alice's text."})

    answer = bob.post(edit_url(postmortem), {**tab_b, "went_well": "Bob's text.", "impact": "Bob's impact."})

    assert answer.status_code == 409
    page = answer.content.decode()
    assert "Not saved yet: Alice Doe at" in page
    assert "Alice&#x27;s text." in page and "Bob&#x27;s text." in page
    assert 'name="take_went_well"' in page
    postmortem.refresh_from_db()
    assert (postmortem.went_well, postmortem.impact) == ("Alice's text.", postmortem.impact)
    assert "Bob's impact." not in postmortem.impact

    form = answer.context["form"]  # what the page posts back when Bob keeps his own text
    again = {name: "" if form[name].value() is None else str(form[name].value()) for name in form.fields}
    kept = bob.post(edit_url(postmortem), {**again, "take_went_well": "mine", "theirs_went_well": "Alice's text."})

    assert kept.status_code == 302
    postmortem.refresh_from_db()
    assert (postmortem.went_well, postmortem.impact) == ("Bob's text.", "Bob's impact.")


def test_taking_theirs_keeps_their_text_and_my_other_changes(alice, bob, team):
    postmortem = PostMortemFactory(incident__owning_team=team, went_well="Old text.")
    tab_a, tab_b = opened(PostMortemSectionsForm, postmortem), opened(PostMortemSectionsForm, postmortem)
    alice.post(edit_url(postmortem), {**tab_a, "went_well": "Alice's text."})
    answer = bob.post(edit_url(postmortem), {**tab_b, "went_well": "Bob's text.", "impact": "Bob's impact."})
    form = answer.context["form"]
    again = {name: "" if form[name].value() is None else str(form[name].value()) for name in form.fields}

    taken = bob.post(edit_url(postmortem), {**again, "take_went_well": "theirs", "theirs_went_well": "Alice's text."})

    assert taken.status_code == 302
    postmortem.refresh_from_db()
    assert (postmortem.went_well, postmortem.impact) == ("Alice's text.", "Bob's impact.")


def test_an_untouched_section_is_not_reported_edited_for_its_line_ends(alice, team):
    postmortem = PostMortemFactory(incident__owning_team=team, timeline="- 10:00 paged\n- 10:05 acknowledged")
    data = opened(PostMortemSectionsForm, postmortem)
    data["timeline"] = data["timeline"].replace("\n", "\r\n")  # as a browser posts a textarea

    alice.post(edit_url(postmortem), {**data, "summary": "Short outage."})

    entry = postmortem.incident.timeline.filter(message__startswith="Post-mortem:").get()
    assert entry.message == "Post-mortem: edited summary"


def test_two_people_editing_one_action_item(alice, bob, team):
    item = ActionItemFactory(title="Add a retry budget", tracker_url="", postmortem__incident__owning_team=team)
    url = reverse("postmortems:edit_action_item", args=[item.postmortem_id, item.pk])
    tab_a, tab_b = opened(ActionItemForm, item), opened(ActionItemForm, item)

    alice.post(url, {**tab_a, "tracker_url": "https://tracker.example.com/PAY-1"})
    merged = bob.post(url, {**tab_b, "priority": "1"})
    tab_c = opened(ActionItemForm, ActionItem.objects.get(pk=item.pk))
    alice.post(url, {**tab_c, "title": "Add a retry budget to the gateway"})
    clash = bob.post(url, {**tab_c, "title": "Budget retries"})

    assert merged.status_code == 302
    item.refresh_from_db()
    assert (item.tracker_url, item.priority) == ("https://tracker.example.com/PAY-1", 1)
    assert clash.status_code == 409
    assert item.title == "Add a retry budget to the gateway"
    assert "Budget retries" in clash.content.decode()


def test_a_form_without_a_version_saves_as_before(alice, team):
    postmortem = PostMortemFactory(incident__owning_team=team)

    alice.post(edit_url(postmortem), {"summary": "Written by a script."})

    assert PostMortem.objects.get(pk=postmortem.pk).summary == "Written by a script."
