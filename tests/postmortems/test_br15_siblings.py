"""The kind of BR-15 beyond incidents: a post-mortem move or an action item's status sent twice, from any door,
changes things once (first writer's time kept, one timeline entry, one announcement)."""

from django.test import Client

from incidents.models import TimelineEvent
from notifications.models import Notification
from postmortems.action_items import action_item_set_status
from postmortems.models import ActionItem, PostMortem
from tests.api.clients import client_for
from tests.factories import ActionItemFactory, MembershipFactory, PostMortemFactory, UserFactory


def test_publishing_twice_by_api_and_once_by_the_web_publishes_once(db, django_capture_on_commit_callbacks):
    owner = UserFactory()
    postmortem = PostMortemFactory(owner=owner, status=PostMortem.Status.IN_REVIEW)
    MembershipFactory(team=postmortem.incident.owning_team, user=owner)
    api = client_for(owner)
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(f"/api/v1/postmortems/{postmortem.pk}/publish/")
    announcements = Notification.objects.count()
    assert announcements > 0
    with django_capture_on_commit_callbacks(execute=True):
        second = api.post(f"/api/v1/postmortems/{postmortem.pk}/publish/")
    assert (first.status_code, second.status_code) == (200, 200)
    published_at = PostMortem.objects.get(pk=postmortem.pk).published_at
    web = Client()
    web.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        page = web.post(f"/postmortems/{postmortem.pk}/publish/", follow=True)
    assert "already published" in page.content.decode()
    postmortem.refresh_from_db()
    assert postmortem.published_at == published_at  # the first writer's time
    entries = TimelineEvent.objects.filter(incident=postmortem.incident, message__contains="→ published")
    assert entries.count() == 1
    assert Notification.objects.count() == announcements  # announced once


def test_setting_an_action_items_status_twice_logs_it_once(db):
    item = ActionItemFactory()
    for _ in range(2):
        action_item_set_status(action_item_id=item.pk, status=ActionItem.Status.DONE, actor=None, source="api")
    entries = TimelineEvent.objects.filter(incident=item.postmortem.incident, message__icontains=item.title)
    assert entries.count() == 1
