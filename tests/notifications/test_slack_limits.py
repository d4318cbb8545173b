"""BR-14: what sredesk posts to Slack stays within Slack's limits and cannot inject mrkdwn."""

import pytest

from notifications.base import Message
from notifications.slack import TEXT_LIMIT, slack_escape, slack_text
from tests.factories import ActionItemFactory, PostMortemFactory, TeamFactory


def test_control_characters_are_escaped():
    text = slack_text(Message(address="C1", subject="s", text="p99 <500ms & *fast* <!channel>", url="https://x/1"))
    assert text == "p99 &lt;500ms &amp; *fast* &lt;!channel&gt;\n<https://x/1|Open in sredesk>"


@pytest.mark.parametrize("size", [2_990, 3_500, 15_000])
def test_long_text_is_cut_within_the_limit_and_keeps_the_link(size):
    body = ("word & <tag> " * (size // 13 + 1))[:size]
    text = slack_text(Message(address="C1", subject="s", text=body, url="https://sredesk.example/postmortems/1/"))
    assert len(text) <= TEXT_LIMIT
    assert text.endswith("<https://sredesk.example/postmortems/1/|Open in sredesk>")
    if len(slack_escape(body)) + 60 > TEXT_LIMIT:
        assert "(truncated: see sredesk for the rest)" in text
        truncated = text.split("\n… (truncated")[0]
        assert not truncated.endswith(("&", "&a", "&am", "&amp", "&l", "&lt", "&g", "&gt"))


@pytest.mark.django_db
def test_a_digest_of_sixty_items_posts_once_within_the_limits(slack_on, settings, django_capture_on_commit_callbacks):
    """The BR-14 input: 60 items, one 3,500-character description, a 15,000-character summary, titles with <, >, &."""
    from notifications.models import Notification
    from notifications.slack import SlackBackend
    from postmortems import reminders
    from tests.fakes import FakeSlack

    settings.SREDESK_REMINDER_MAX_PER_PERSON = 0  # straight into the weekly digest
    team = TeamFactory(slack_channel="C0PAY")
    import datetime as dt

    from django.utils import timezone

    for i in range(60):
        pm = PostMortemFactory(
            published=True,
            published_at=timezone.now() - dt.timedelta(days=1),
            incident__owning_team=team,
            incident__title=("Checkout <failed> & *retried* " * 20)[: 300 if i == 0 else 80],
            summary="x" * 15_000,
        )
        ActionItemFactory(postmortem=pm, description="d" * 3500)
    with django_capture_on_commit_callbacks(execute=True):
        reminders.reminders_digest(now=timezone.now())
    digest = Notification.objects.get(channel="slack")

    with FakeSlack() as slack:
        settings.SREDESK_SLACK_API_URL = slack.url
        SlackBackend().send(Message(address=digest.address, subject=digest.subject, text=digest.text, url=digest.url))
    (post,) = slack.posts()
    assert len(post.text) <= TEXT_LIMIT
    assert "<failed>" not in post.text and "&lt;failed&gt;" in post.text
