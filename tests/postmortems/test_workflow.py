"""Post-mortem workflow, completion rules, safe Markdown and the Markdown export."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from incidents.models import Source
from notifications.models import Notification
from postmortems.export import postmortem_markdown
from postmortems.markdown import render_markdown
from postmortems.services import InvalidPostMortemTransition, postmortem_transition
from tests.factories import (
    ActionItemFactory,
    PostMortemFactory,
    RegressionTestFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def move(postmortem, verb):
    return postmortem_transition(postmortem_id=postmortem.pk, verb=verb, actor=None, source=Source.WEB)


TABLE = {
    "draft": {"submit_for_review": "in_review", "request_changes": "draft", "publish": "published", "complete": None},
    "in_review": {
        "submit_for_review": "in_review",
        "request_changes": "draft",
        "publish": "published",
        "complete": None,
    },
    "published": {"submit_for_review": None, "request_changes": None, "publish": "published", "complete": "complete"},
}


@pytest.mark.parametrize(("start", "verb"), [(s, v) for s in TABLE for v in TABLE[s]])
def test_transition_table(start, verb):
    postmortem = PostMortemFactory(published=True) if start == "published" else PostMortemFactory(status=start)
    RegressionTestFactory(postmortem=postmortem, state="verified")
    expected = TABLE[start][verb]
    if expected is None:
        with pytest.raises(InvalidPostMortemTransition, match="Cannot"):
            move(postmortem, verb)
        return
    assert move(postmortem, verb).status == expected


def test_publish_sets_the_time_logs_and_announces(django_capture_on_commit_callbacks):
    postmortem = PostMortemFactory(incident__owning_team=TeamFactory(slug="payments"))
    with django_capture_on_commit_callbacks(execute=True):
        move(postmortem, "publish")
        move(postmortem, "publish")  # a double click
    postmortem.refresh_from_db()
    assert postmortem.published_at is not None
    assert postmortem.incident.timeline.filter(message="Post-mortem draft → published").count() == 1
    assert Notification.objects.get().address == "team:payments"


def test_complete_lists_every_blocker():
    postmortem = PostMortemFactory(published=True)
    ActionItemFactory(postmortem=postmortem, title="Add retry budget")
    RegressionTestFactory(postmortem=postmortem, state="linked")

    with pytest.raises(InvalidPostMortemTransition) as exc:
        move(postmortem, "complete")

    message = " ".join(exc.value.messages)
    assert "1 action item still open: “Add retry budget”." in message
    assert "No regression test has been seen passing in CI yet." in message

    ActionItemFactory(postmortem=postmortem, title="Alert on retries")
    with pytest.raises(InvalidPostMortemTransition) as exc:
        move(postmortem, "complete")
    assert "2 action items still open: “Add retry budget”, “Alert on retries”." in " ".join(exc.value.messages)


def test_complete_once_items_are_done_or_wont_do_and_a_test_is_verified():
    postmortem = PostMortemFactory(published=True)
    ActionItemFactory(postmortem=postmortem, status="done")
    ActionItemFactory(postmortem=postmortem, status="wont_do", wont_do_reason="Superseded by the new queue")
    RegressionTestFactory(postmortem=postmortem, state="verified")

    completed = move(postmortem, "complete")

    assert completed.status == "complete" and completed.completed_at is not None


def test_a_service_whose_ci_does_not_report_completes_with_a_linked_test():
    postmortem = PostMortemFactory(published=True, incident__primary_service=ServiceFactory(ci_reports_tests=False))
    RegressionTestFactory(postmortem=postmortem, state="linked")
    assert move(postmortem, "complete").status == "complete"


def test_failing_test_does_not_count_even_when_relaxed():
    postmortem = PostMortemFactory(published=True, incident__primary_service=ServiceFactory(ci_reports_tests=False))
    RegressionTestFactory(postmortem=postmortem, state="failing")
    with pytest.raises(InvalidPostMortemTransition, match="No regression test is linked"):
        move(postmortem, "complete")


def test_unknown_verb():
    with pytest.raises(ValidationError):
        move(PostMortemFactory(), "explode")


@pytest.mark.parametrize(
    "evil",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=//evil.example></iframe>",
        '<div style="background:url(javascript:alert(1))">x</div>',
    ],
)
def test_markdown_lets_no_script_through(evil):
    html = render_markdown(f"Before\n\n{evil}\n\nAfter **bold**")
    lowered = html.lower()
    assert "<script" not in lowered and "javascript:" not in lowered and "onerror" not in lowered
    assert "<iframe" not in lowered and "style=" not in lowered
    assert "<strong>bold</strong>" in html


def test_markdown_keeps_what_post_mortems_need():
    html = render_markdown(
        "## Root cause\n\n- a `retry` loop\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[runbook](https://x.example/r)"
    )
    assert "<h2>Root cause</h2>" in html and "<code>retry</code>" in html and "<table>" in html
    assert 'href="https://x.example/r"' in html


def test_detail_page_renders_sections_safely(client):
    client.force_login(UserFactory())
    postmortem = PostMortemFactory(root_cause="The **cache** expired <script>alert(1)</script>")
    page = client.get(reverse("postmortems:detail", args=[postmortem.pk])).content.decode()
    assert "<strong>cache</strong>" in page
    assert "<script>alert(1)" not in page


def test_markdown_export_has_every_section_and_the_tables():
    postmortem = PostMortemFactory(summary="Payments | timed out", root_cause="")
    ActionItemFactory(postmortem=postmortem, title="Add a retry | budget", kind="prevent")
    RegressionTestFactory(postmortem=postmortem, test_id="tests/test_pay.py::test_retry", state="verified")

    text = postmortem_markdown(postmortem)

    for title in ("Summary", "Impact", "Trigger", "Root cause", "Detection", "Resolution", "What went well",
                  "What went wrong", "Where we got lucky", "Timeline", "Action items", "Regression tests"):  # fmt: skip
        assert f"\n## {title}\n" in text
    assert text.startswith(f"# {postmortem.incident.public_id} post-mortem: ")
    assert "| Add a retry \\| budget | Prevent | P2 |" in text
    assert "`tests/test_pay.py::test_retry` in" in text and ": verified since" in text


def test_export_download(client):
    client.force_login(UserFactory())
    postmortem = PostMortemFactory()
    response = client.get(reverse("postmortems:export", args=[postmortem.pk]))
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert f'filename="{postmortem.incident.public_id}-postmortem.md"' in response["Content-Disposition"]


def test_overdue_action_items_are_flagged(client):
    import datetime as dt

    client.force_login(UserFactory())
    postmortem = PostMortemFactory()
    ActionItemFactory(postmortem=postmortem, title="Late one", due_date=dt.date(2020, 1, 1))
    ActionItemFactory(postmortem=postmortem, title="Done late", due_date=dt.date(2020, 1, 1), status="done")
    page = client.get(reverse("postmortems:detail", args=[postmortem.pk])).content.decode()
    assert page.count("overdue</span>") == 1
