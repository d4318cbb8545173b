"""Signed outgoing page webhooks: a page reaches a person's or a team's own gateway (a real HTTP server on
127.0.0.1), signed as documented; refusals are visible; URLs that point inside are refused where they enter."""

import datetime as dt
import json
import time

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from notifications.delivery import deliver
from notifications.models import Notification, PageWebhook
from notifications.page_webhooks import page_webhook_rotate, page_webhook_set
from notifications.services import notify
from notifications.tasks import _message
from oncall.escalation import escalations_plan
from sredesk.exceptions import PermissionDenied
from sredesk.inputs import InputError
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.fakewebhook import FakeWebhookReceiver
from tests.oncall.test_escalation import T, world

pytestmark = pytest.mark.django_db
Status = Notification.Status


@pytest.fixture
def receiver(settings):
    settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = True
    settings.SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS = 1.0
    with FakeWebhookReceiver() as fake:
        yield fake


def webhook_rows() -> list[Notification]:
    return list(Notification.objects.filter(channel=Notification.Channel.WEBHOOK).order_by("id"))


def send(row: Notification) -> str:
    """What a worker does with the row (outside eager Celery, so a retry is the test's to make)."""
    return deliver(Notification.objects.all(), row.pk, build=_message)


def test_a_page_reaches_the_on_call_persons_webhook_signed_with_the_secret_shown_once(
    receiver, django_capture_on_commit_callbacks
):
    incident, people, _ = world()
    hook, secret = page_webhook_set(actor=people["U-D"], url=receiver.url, user=people["U-D"])
    with django_capture_on_commit_callbacks(execute=True):
        escalations_plan(now=T)

    [request] = receiver.requests
    [row] = webhook_rows()
    assert request.signed_with(secret, now=time.time())
    assert not request.signed_with("whsec_someone-else", now=time.time())
    body = request.json
    assert body["topic"] == incident.public_id and body["test"] is False
    assert body["subject"] == f"Page: {incident.public_id} (SEV2) Checkout down"
    assert "step 1 of Payments pages U-D" in body["text"]
    assert body["url"].endswith(f"/incidents/{incident.pk}/")
    assert request.headers["x-sredesk-delivery"] == body["delivery"] == f"notification:{row.pk}"
    assert request.headers["content-type"] == "application/json"
    row.refresh_from_db()
    assert (row.status, row.address, row.external_ref) == (Status.SENT, hook.address, "HTTP 200")


def test_a_team_channel_page_reaches_the_teams_webhook(receiver, django_capture_on_commit_callbacks):
    _, people, schedule = world()
    _, secret = page_webhook_set(actor=people["lead"], url=receiver.url, team=schedule.team)
    with django_capture_on_commit_callbacks(execute=True):
        escalations_plan(now=T + 20 * dt.timedelta(minutes=1))  # steps 1-3: on call, lead, the team's channel

    [request] = receiver.requests
    assert request.signed_with(secret) and "channel" in request.json["text"]


def test_a_4xx_answer_fails_for_good_and_says_why_on_the_profile(receiver, client):
    person = UserFactory()
    page_webhook_set(actor=person, url=receiver.url, user=person)
    notify(key="page:1", topic="INC-1", subject="Page", text="down", slack=[], outbox=[],
           webhook=[person.page_webhook.address])  # fmt: skip
    receiver.reply_next(410, "this hook was deleted")
    [row] = webhook_rows()

    assert send(row) == "failed"
    assert send(row) == "not_pending"  # never retried
    assert len(receiver.requests) == 1
    row.refresh_from_db()
    assert row.last_error == "webhook answered 410: this hook was deleted"
    client.force_login(person)
    page = client.get(reverse("ownership:profile")).content.decode()
    assert "webhook answered 410: this hook was deleted" in page


@pytest.mark.parametrize(
    ("status", "headers", "wait"), [(503, {}, 5.0), (429, {"Retry-After": "42"}, 42.0), (408, {}, 5.0)]
)
def test_a_5xx_429_or_408_is_retried_with_the_same_delivery_id(receiver, status, headers, wait):
    person = UserFactory()
    page_webhook_set(actor=person, url=receiver.url, user=person)
    notify(key="page:2", topic="INC-2", subject="Page", text="down", slack=[], outbox=[],
           webhook=[person.page_webhook.address])  # fmt: skip
    receiver.reply_next(status, "busy", headers)
    [row] = webhook_rows()

    with pytest.raises(Exception, match=f"webhook answered {status}"):
        send(row)
    row.refresh_from_db()
    assert row.status == Status.PENDING
    assert (row.not_before - timezone.now()).total_seconds() == pytest.approx(wait, abs=2)
    with time_machine.travel(row.not_before + dt.timedelta(seconds=1)):
        assert send(row) == "sent"
    first, second = receiver.requests
    assert first.headers["x-sredesk-delivery"] == second.headers["x-sredesk-delivery"]


def test_no_answer_within_the_timeout_is_retried_not_lost(receiver):
    person = UserFactory()
    page_webhook_set(actor=person, url=receiver.url, user=person)
    notify(key="page:3", topic="INC-3", subject="Page", text="down", slack=[], outbox=[],
           webhook=[person.page_webhook.address])  # fmt: skip
    receiver.reply_next(200, "late", delay=3)
    [row] = webhook_rows()

    with pytest.raises(Exception, match="unreachable: took longer than 1 s"):
        send(row)
    row.refresh_from_db()
    assert row.status == Status.PENDING and "took longer than 1 s" in row.last_error


def test_a_long_page_is_cut_to_the_size_limit_and_says_so(receiver, settings):
    settings.SREDESK_PAGE_WEBHOOK_MAX_BYTES = 4096
    person = UserFactory()
    page_webhook_set(actor=person, url=receiver.url, user=person)
    notify(key="page:4", topic="INC-4", subject="Page", text="ü" * 10_000, slack=[], outbox=[],
           webhook=[person.page_webhook.address])  # fmt: skip

    assert send(webhook_rows()[0]) == "sent"
    [request] = receiver.requests
    assert len(request.raw) <= 4096
    assert request.json["text"].endswith("(truncated: see sredesk for the rest)")


def test_after_a_rotation_both_secrets_sign_until_the_grace_period_ends(receiver, settings):
    settings.SREDESK_PAGE_WEBHOOK_ROTATION_GRACE_SECONDS = 3600
    person = UserFactory()
    hook, old = page_webhook_set(actor=person, url=receiver.url, user=person)
    new = page_webhook_rotate(actor=person, webhook=hook)
    notify(key="page:5", topic="INC-5", subject="Page", text="a", slack=[], outbox=[], webhook=[hook.address])
    notify(key="page:6", topic="INC-6", subject="Page", text="b", slack=[], outbox=[], webhook=[hook.address])
    first, second = webhook_rows()

    assert send(first) == "sent"
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        assert send(second) == "sent"
    during, after = receiver.requests
    assert new != old
    assert during.signed_with(new, now=time.time()) and during.signed_with(old, now=time.time())
    later = time.time() + 7200
    assert after.signed_with(new, now=later) and not after.signed_with(old, now=later)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://example.com/hook", "https://"),
        ("ftp://127.0.0.1/hook", "https://"),
        ("https://10.1.2.3/hook", "private or local"),
        ("https://169.254.169.254/latest/meta-data", "private or local"),
        ("https://[fd00::1]/hook", "private or local"),
        ("https://[::ffff:192.168.0.1]/hook", "private or local"),
        ("https://user:pw@127.0.0.1/hook", "user and password"),
        ("https://no-such-host.invalid/hook", "does not resolve"),
        ("https://[::1/hook", "does not parse"),
        ("https://127.0.0.1/\x00", "NUL"),
    ],
)
def test_urls_pages_may_not_go_to_are_refused_where_they_enter(settings, url, says):
    settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = True
    person = UserFactory()
    with pytest.raises(InputError) as refused:
        page_webhook_set(actor=person, url=url, user=person)
    assert refused.value.field == "url" and says in refused.value.message
    assert not PageWebhook.objects.exists()


def test_loopback_is_refused_unless_allowed(settings):
    settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = False
    person = UserFactory()
    with pytest.raises(InputError, match="private or local"):
        page_webhook_set(actor=person, url="https://127.0.0.1:8443/hook", user=person)


def test_a_url_that_turned_private_after_it_was_stored_is_not_sent_to(receiver, settings):
    person = UserFactory()
    hook, _ = page_webhook_set(actor=person, url=receiver.url, user=person)
    notify(key="page:7", topic="INC-7", subject="Page", text="a", slack=[], outbox=[], webhook=[hook.address])
    settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = False  # as if its name now resolved to an inside address

    assert send(webhook_rows()[0]) == "failed"
    assert receiver.requests == []
    assert "refused to send" in webhook_rows()[0].last_error


def test_only_the_owner_the_teams_members_and_staff_may_change_a_webhook(receiver):
    owner, stranger = UserFactory(), UserFactory()
    team = TeamFactory()
    MembershipFactory(team=team, user=owner)
    hook, _ = page_webhook_set(actor=owner, url=receiver.url, user=owner)
    with pytest.raises(PermissionDenied):
        page_webhook_rotate(actor=stranger, webhook=hook)
    with pytest.raises(PermissionDenied):
        page_webhook_set(actor=stranger, url=receiver.url, team=team)
    assert page_webhook_set(actor=owner, url=receiver.url, team=team)[1]


def test_api_shows_the_secret_once_and_names_a_bad_url(receiver, client):
    person, stranger = UserFactory(), UserFactory()
    client.force_login(person)
    refused = client.post("/api/v1/page-webhooks/", {"url": "https://10.0.0.8/x"}, content_type="application/json")
    created = client.post("/api/v1/page-webhooks/", {"url": receiver.url}, content_type="application/json")
    shown = client.get(f"/api/v1/page-webhooks/{created.json()['id']}/")
    rotated = client.post(f"/api/v1/page-webhooks/{created.json()['id']}/rotate/")
    mine = client.get("/api/v1/page-webhooks/", {"user": person.username})
    client.force_login(stranger)
    theirs = client.get("/api/v1/page-webhooks/")
    not_theirs = client.post(f"/api/v1/page-webhooks/{created.json()['id']}/rotate/")

    assert refused.status_code == 400 and "private or local" in refused.json()["error"]["fields"]["url"][0]
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    assert created.json()["user"] == person.username
    assert shown.status_code == 200 and "secret" not in shown.json()
    assert rotated.status_code == 200 and rotated.json()["secret"] != created.json()["secret"]
    assert [hook["id"] for hook in mine.json()["results"]] == [created.json()["id"]]
    assert theirs.json()["results"] == [] and not_theirs.status_code == 404
    assert "secret" not in json.dumps(shown.json()).replace("signing", "")


def test_profile_page_adds_rotates_and_removes_the_webhook_showing_each_secret_once(receiver, client):
    person = UserFactory()
    client.force_login(person)
    url = reverse("ownership:profile_page_webhook")

    added = client.post(url, {"url": receiver.url, "action": "set"})
    again = client.get(reverse("ownership:profile"))
    refused = client.post(url, {"url": "https://192.168.1.1/", "action": "set"})
    rotated = client.post(url, {"action": "rotate"})
    removed = client.post(url, {"action": "remove"})

    secret = added.context["webhook_secret"]
    assert secret in added.content.decode() and secret not in again.content.decode()
    assert receiver.url in again.content.decode()
    assert refused.status_code == 400 and "private or local" in refused.content.decode()
    assert rotated.context["webhook_secret"] not in (None, secret)
    assert removed.status_code == 302 and not PageWebhook.objects.exists()


def test_staff_list_reads_every_webhooks_deliveries_in_the_same_queries_whatever_their_number(receiver, client):
    """Deliveries are found by address, not a foreign key: listing them must not cost a query per webhook."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(UserFactory(is_staff=True))

    def listed() -> tuple[int, dict[str, list[str]]]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/page-webhooks/")
        assert response.status_code == 200
        return len(queries), {h["user"]: [d["topic"] for d in h["deliveries"]] for h in response.json()["results"]}

    def person_with_pages(name: str, pages: int) -> None:
        person = UserFactory(username=name)
        page_webhook_set(actor=person, url=receiver.url, user=person)
        for n in range(pages):
            notify(key=f"page:{name}:{n}", topic=f"INC-{name}-{n}", subject="Page", text="down", slack=[],
                   outbox=[], webhook=[person.page_webhook.address])  # fmt: skip

    person_with_pages("first", 7)
    one, shown = listed()
    assert shown == {"first": [f"INC-first-{n}" for n in (6, 5, 4, 3, 2)]}  # the latest five, newest first
    for name, pages in [("second", 0), ("third", 1), ("fourth", 2), ("fifth", 6)]:
        person_with_pages(name, pages)
    five, shown = listed()
    assert five == one
    assert shown["second"] == [] and shown["third"] == ["INC-third-0"]
    assert shown["fifth"] == [f"INC-fifth-{n}" for n in (5, 4, 3, 2, 1)]


@pytest.mark.parametrize("url", ["https://example.com:0/", "https://127.0.0.1:0/hook", "http://localhost:00/hook"])
def test_port_zero_is_refused_on_the_url_field_at_the_api(receiver, client, url):
    """Port 0 is no port a receiver can listen on (and was read as "no port": 443)."""
    person = UserFactory()
    client.force_login(person)
    refused = client.post("/api/v1/page-webhooks/", {"url": url}, content_type="application/json")

    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["url"] == ["Give a port from 1 to 65535, or none (443 for https://)."]
    assert not PageWebhook.objects.exists()
