"""Personal contact rules: a person says which channels page them after how many minutes; paging asks
``notifications.contact.page_channels`` and nothing else; a test page reaches only them, marked as a test."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from incidents.models import Incident
from incidents.selectors import incidents_needing_acknowledgement
from incidents.services import incident_acknowledge
from notifications.contact import contact_rules_set, page_channels, page_test_send
from notifications.models import ContactRule, Notification, OutboxMessage
from notifications.page_webhooks import page_webhook_set
from notifications.services import notification_obsolete
from notifications.tasks import notifications_requeue_stuck_task
from oncall.escalation import escalations_plan
from oncall.models import Page
from sredesk.exceptions import PermissionDenied, TooSoon
from sredesk.inputs import InputError
from tests.factories import UserFactory
from tests.fakewebhook import FakeWebhookReceiver
from tests.oncall.test_escalation import T, world

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)
Status = Notification.Status


@pytest.fixture
def channels_on(settings, slack_on):
    """Slack (memory backend), email (Django's test outbox) and page webhooks to loopback all configured."""
    settings.SREDESK_EMAIL_ENABLED = True
    settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = True
    with FakeWebhookReceiver() as receiver:
        yield receiver


def reachable(person, receiver):
    person.slack_user_id, person.email = "U0PAGEDME", "paged@example.com"
    person.save(update_fields=["slack_user_id", "email"])
    page_webhook_set(actor=person, url=receiver.url, user=person)
    return person


def rows(**filters) -> list[tuple[str, str]]:
    qs = Notification.objects.filter(**filters).exclude(channel="outbox").order_by("not_before", "channel")
    return [(n.channel, n.status) for n in qs]


def test_without_rules_every_channel_that_reaches_a_person_pages_at_once(channels_on):
    person = reachable(UserFactory(username="ada"), channels_on)
    plan = page_channels(person)
    assert [(r.channel, r.delay_minutes) for r in plan.routes] == [
        ("outbox", 0),
        ("slack", 0),
        ("email", 0),
        ("webhook", 0),
    ]
    assert plan.from_rules is False and plan.gaps == ()


def test_escalation_pages_each_channel_after_its_delay_and_stops_at_the_acknowledgement(
    channels_on, memory_notifier, mailoutbox, django_capture_on_commit_callbacks
):
    incident, people, _ = world()
    person = reachable(people["U-D"], channels_on)  # on call at T
    contact_rules_set(actor=person, person=person, rules=[
        {"channel": "slack", "delay_minutes": 0}, {"channel": "email", "delay_minutes": 5},
        {"channel": "webhook", "delay_minutes": 10},
    ])  # fmt: skip
    with time_machine.travel(T, tick=False), django_capture_on_commit_callbacks(execute=True):
        escalations_plan(now=T)
    assert [m.address for m in memory_notifier] == ["U0PAGEDME"]
    assert rows() == [("slack", Status.SENT), ("email", Status.PENDING), ("webhook", Status.PENDING)]

    with time_machine.travel(T + 4 * MIN, tick=False), django_capture_on_commit_callbacks(execute=True):
        notifications_requeue_stuck_task.apply()
    assert mailoutbox == []
    with time_machine.travel(T + 5 * MIN, tick=False), django_capture_on_commit_callbacks(execute=True):
        notifications_requeue_stuck_task.apply()
    assert [m.to for m in mailoutbox] == [["paged@example.com"]]

    incident_acknowledge(incident_id=incident.pk, actor=people["lead"], source="web", at=T + 6 * MIN)
    with time_machine.travel(T + 10 * MIN, tick=False), django_capture_on_commit_callbacks(execute=True):
        notifications_requeue_stuck_task.apply()
    assert channels_on.requests == []  # acknowledged before its 10 minutes: nobody woken by the webhook
    webhook = Notification.objects.get(channel="webhook")
    assert webhook.status == Status.SKIPPED and "acknowledged" in webhook.last_error


@pytest.mark.parametrize("status", Incident.Status.values)
def test_a_page_not_sent_yet_goes_out_only_while_its_incident_needs_acknowledging(status):
    """One rule for "still waiting for an acknowledgement" (``IncidentQuerySet.needing_acknowledgement``): the
    dashboard's list and a delayed page's last check before sending agree on every status."""
    incident, _, _ = world()
    with time_machine.travel(T, tick=False):
        escalations_plan(now=T)
    times = {"acknowledged": ["acknowledged_at"], "mitigated": ["acknowledged_at", "mitigated_at"],
             "resolved": ["acknowledged_at", "mitigated_at", "resolved_at"]}.get(status, [])  # fmt: skip
    Incident.objects.filter(pk=incident.pk).update(status=status, **dict.fromkeys(times, T + MIN))
    page = Notification.objects.filter(dedup_key__startswith="page:").first()
    waiting = incidents_needing_acknowledgement().filter(pk=incident.pk).exists()

    assert waiting == (status == Incident.Status.TRIGGERED)
    assert notification_obsolete(page) == ("" if waiting else f"the incident is {status}: paging stopped")


def test_a_rule_that_cannot_reach_says_why_and_if_none_can_the_defaults_page(channels_on):
    person = UserFactory(slack_user_id="", email="only@example.com")
    contact_rules_set(actor=person, person=person, rules=[{"channel": "slack", "delay_minutes": 0}])
    plan = page_channels(person)
    assert [(r.channel, r.delay_minutes) for r in plan.routes] == [("outbox", 0), ("email", 0)]
    assert plan.from_rules is False
    assert any("no Slack member id" in gap for gap in plan.gaps)

    contact_rules_set(actor=person, person=person, rules=[
        {"channel": "slack", "delay_minutes": 0}, {"channel": "email", "delay_minutes": 3}])  # fmt: skip
    plan = page_channels(person)
    assert [(r.channel, r.delay_minutes) for r in plan.routes] == [("outbox", 0), ("email", 3)]
    assert plan.from_rules is True


@pytest.mark.parametrize(
    ("rules", "field", "says"),
    [
        ([{"channel": "sms", "delay_minutes": 0}], "rules.0.channel", "One of"),
        (
            [{"channel": "slack", "delay_minutes": 0}, {"channel": "slack", "delay_minutes": 5}],
            "rules.1.channel",
            "once",
        ),
        ([{"channel": "email", "delay_minutes": 5}, {"channel": "slack"}], "rules.1.delay_minutes", "Required"),
        ([{"channel": "email", "delay_minutes": None}], "rules.0.delay_minutes", "Required"),
        ([{"channel": "email", "delay_minutes": "5.5"}], "rules.0.delay_minutes", "whole number"),
        ([{"channel": "email", "delay_minutes": "٣"}], "rules.0.delay_minutes", "ASCII digits"),
        ([{"channel": "email", "delay_minutes": 1441}], "rules.0.delay_minutes", "at most 1440"),
        ([{"channel": "email", "delay_minutes": -1}], "rules.0.delay_minutes", "at least 0"),
        ([{"channel": "email", "delay_minutes": True}], "rules.0.delay_minutes", "not true or false"),
        ([{"channel": "email", "delay_minutes": 1, "extra": 1}], "rules.0", "nothing else"),
        ([{"channel": "email", "delay_minutes": 1}] * 4, "rules", "At most 3"),
    ],
)
def test_bad_rules_are_refused_naming_the_field_and_nothing_is_stored(rules, field, says):
    person = UserFactory()
    contact_rules_set(actor=person, person=person, rules=[{"channel": "webhook", "delay_minutes": 2}])
    with pytest.raises(InputError) as refused:
        contact_rules_set(actor=person, person=person, rules=rules)
    assert refused.value.field == field and says in refused.value.message
    assert list(ContactRule.objects.values_list("channel", "delay_minutes")) == [("webhook", 2)]


def test_only_the_person_and_staff_set_their_rules_and_send_their_test_page():
    person, other = UserFactory(), UserFactory()
    with pytest.raises(PermissionDenied):
        contact_rules_set(actor=other, person=person, rules=[])
    with pytest.raises(PermissionDenied):
        page_test_send(actor=other, person=person)
    contact_rules_set(actor=UserFactory(is_staff=True), person=person, rules=[])


def test_a_test_page_reaches_only_the_person_through_their_rules_marked_as_a_test(
    channels_on, memory_notifier, django_capture_on_commit_callbacks
):
    person = reachable(UserFactory(username="ada"), channels_on)
    contact_rules_set(actor=person, person=person, rules=[
        {"channel": "slack", "delay_minutes": 0}, {"channel": "webhook", "delay_minutes": 0}])  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        page_test_send(actor=person, person=person)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(TooSoon):
        page_test_send(actor=person, person=person)  # a double click: the same minute, one test page

    assert [m.address for m in memory_notifier] == ["U0PAGEDME"]
    assert "Test page" in memory_notifier[0].subject and "nothing is wrong" in memory_notifier[0].text
    [request] = channels_on.requests
    assert request.json["test"] is True and request.json["topic"] == "test page"
    assert list(OutboxMessage.objects.values_list("recipient", flat=True)) == ["user:ada"]
    assert not Page.objects.exists() and rows(channel="email") == []


def test_api_reads_and_replaces_rules_and_sends_a_test_page(client, channels_on):
    person = reachable(UserFactory(username="ada"), channels_on)
    client.force_login(person)
    put = client.put("/api/v1/me/contact-rules/", {"rules": [{"channel": "webhook", "delay_minutes": 10}]},
                     content_type="application/json")  # fmt: skip
    bad = client.put("/api/v1/me/contact-rules/", {"rules": [{"channel": "pager", "delay_minutes": 1}]},
                     content_type="application/json")  # fmt: skip
    got = client.get("/api/v1/me/contact-rules/")
    sent = client.post("/api/v1/me/test-page/")

    assert put.status_code == 200
    assert got.json()["rules"] == [{"channel": "webhook", "delay_minutes": 10}]
    assert [(r["channel"], r["delay_minutes"]) for r in got.json()["routes"]] == [("outbox", 0), ("webhook", 10)]
    assert bad.status_code == 400 and "rules.0.channel" in bad.json()["error"]["fields"]
    assert sent.status_code == 202 and [r["channel"] for r in sent.json()] == ["outbox", "webhook"]
    assert Notification.objects.get(channel="webhook").status == Status.PENDING  # waits its 10 minutes


def test_profile_page_saves_rules_refuses_a_bad_one_and_sends_a_test_page(
    client, channels_on, django_capture_on_commit_callbacks
):
    person = reachable(UserFactory(username="ada"), channels_on)
    client.force_login(person)
    saved = client.post(reverse("ownership:profile_contact_rules"),
                        {"delay_slack": "0", "delay_email": "", "delay_webhook": "10"})  # fmt: skip
    page = client.get(reverse("ownership:profile")).content.decode()
    refused = client.post(reverse("ownership:profile_contact_rules"), {"delay_slack": "soon"})
    with django_capture_on_commit_callbacks(execute=True):
        tested = client.post(reverse("ownership:profile_test_page"), follow=True)

    assert saved.status_code == 302
    assert set(ContactRule.objects.values_list("channel", "delay_minutes")) == {("slack", 0), ("webhook", 10)}
    assert "after 10 min" in page and 'value="10"' in page
    assert refused.status_code == 400 and "whole number" in refused.content.decode()
    said = re.sub(r"<[^>]+>", "", tested.content.decode())
    assert "Test page sent" in said and "slack at once" in said and "webhook after 10 min" in said
    assert "after 0 min" not in said
    assert OutboxMessage.objects.filter(recipient="user:ada", subject__startswith="Test page").count() == 1


REQUIRED = "Required: the minutes after the page, 0 to 1440 (0: at once)."


def test_api_refuses_a_rule_without_its_delay_naming_the_field_and_keeps_the_old_rules(client, channels_on):
    """A rule states its delay: none given is not read as "at once" (a channel meant for later would wake
    someone the moment the incident is declared)."""
    person = reachable(UserFactory(username="ada"), channels_on)
    client.force_login(person)
    client.put("/api/v1/me/contact-rules/", {"rules": [{"channel": "webhook", "delay_minutes": 10}]},
               content_type="application/json")  # fmt: skip
    refused = client.put("/api/v1/me/contact-rules/", {"rules": [{"channel": "slack"}]},
                         content_type="application/json")  # fmt: skip

    assert refused.status_code == 400
    assert refused.json()["error"]["fields"] == {"rules.0.delay_minutes": [REQUIRED]}
    assert list(ContactRule.objects.values_list("channel", "delay_minutes")) == [("webhook", 10)]


def test_profile_form_leaves_out_a_channel_whose_delay_is_blank_or_missing_never_at_once(client, channels_on):
    """The web form's documented meaning of no delay: that channel is not used ("Leave a channel blank to leave
    it out"), so it never becomes a rule at 0 minutes either."""
    person = reachable(UserFactory(username="ada"), channels_on)
    client.force_login(person)
    saved = client.post(reverse("ownership:profile_contact_rules"), {"delay_slack": "  ", "delay_webhook": "10"})
    page = client.get(reverse("ownership:profile")).content.decode()

    assert saved.status_code == 302
    assert list(ContactRule.objects.values_list("channel", "delay_minutes")) == [("webhook", 10)]
    assert "Leave a channel blank to leave it out" in page


def test_profile_says_once_why_pages_use_every_channel(client):
    """With no rule it says so; with a rule that cannot reach (a webhook rule, no webhook) it said that and then
    also "These are the defaults: you have no rule that reaches you", the same thing twice and half untrue."""
    person = UserFactory(username="ada")
    client.force_login(person)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", client.get(reverse("ownership:profile")).content.decode()))
    assert "You have set no rule: pages go to every channel that reaches you, at once." in text

    client.post(reverse("ownership:profile_contact_rules"), {"delay_webhook": "5"})
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", client.get(reverse("ownership:profile")).content.decode()))
    assert "Webhook: you have no page webhook. Your rule (5 min) cannot reach you." in text
    assert "None of your rules reaches you now, so pages use every channel that does, at once." in text
    assert "You have set no rule" not in text and "These are the defaults" not in text
