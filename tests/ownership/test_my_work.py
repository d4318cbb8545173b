"""My work (``/me/``): what its "Regression tests owed" list holds is what the reminder sweep nags about as a test."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from postmortems.models import PostMortem, Reminder
from postmortems.reminders import due_reminders
from tests.factories import PostMortemFactory, UserFactory

pytestmark = pytest.mark.django_db


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[start : html.index("</section>", start)]))


def test_a_late_draft_is_a_post_mortem_to_write_not_a_regression_test_owed(client):
    owner = UserFactory(username="ana")
    now = timezone.now()
    draft = PostMortemFactory(owner=owner, due_at=now - dt.timedelta(days=2), incident__title="Still a draft")
    published = PostMortemFactory(
        owner=owner, published=True, due_at=now - dt.timedelta(days=2), incident__title="Published without test"
    )
    assert draft.status == PostMortem.Status.DRAFT
    client.force_login(owner)

    page = client.get(reverse("ownership:my_work")).content.decode()

    to_write, tests_owed = section(page, "my-postmortems"), section(page, "my-tests")
    assert "Still a draft" in to_write and "overdue" in to_write
    assert "Still a draft" not in tests_owed
    assert "Published without test" in tests_owed
    # The reminder sweep says the same: the draft is nagged to be written, the published one for its test.
    kinds = {due.postmortem_id: due.kind for due in due_reminders(now=now) if due.action_item is None}
    assert kinds[draft.pk] == Reminder.Kind.OVERDUE_DRAFT
    assert kinds[published.pk] == Reminder.Kind.NO_REGRESSION_TEST
