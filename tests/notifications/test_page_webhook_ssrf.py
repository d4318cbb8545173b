"""A hostile receiver or a hostile network against the page webhook: the page goes to the address that was
checked (no second look-up a rebinding name could answer differently), addresses that carry a private IPv4
inside an IPv6 one are refused, and a receiver that answers one byte at a time cannot hold a worker past the
timeout (after which the ledger would send the page again)."""

import socket
import time

import pytest
from django.utils import timezone

from notifications.models import Notification, PageWebhook
from notifications.page_webhooks import page_webhook_set
from notifications.services import notify
from sredesk.inputs import InputError
from tests.factories import UserFactory
from tests.fakewebhook import FakeWebhookReceiver
from tests.notifications.test_page_webhook import receiver, send, webhook_rows  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
Status = Notification.Status


@pytest.fixture
def rebinding_dns(monkeypatch):
    """A name server that answers ``localhost`` with 127.0.0.1 once, then with 127.0.0.2 (a rebinding attack:
    a short TTL and another answer by the time the request connects). Every other name as the system does."""
    real = socket.getaddrinfo
    answers = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "localhost":
            return real(host, port, *args, **kwargs)
        answers.append("127.0.0.1" if not answers else "127.0.0.2")
        return real(answers[-1], port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_the_page_goes_to_the_address_that_was_checked_not_to_a_second_answer(receiver, rebinding_dns):  # noqa: F811
    person = UserFactory()
    with FakeWebhookReceiver(host="127.0.0.2", port=receiver.port) as inside:
        hook, secret = page_webhook_set(actor=person, url=f"http://localhost:{receiver.port}/hook", user=person)
        notify(key="page:r", topic="INC-1", subject="Page", text="down", slack=[], outbox=[], webhook=[hook.address])
        rebinding_dns.clear()  # the check before the send asks again: its answer is the one to connect to

        assert send(webhook_rows()[0]) == "sent"
        assert inside.requests == []
    [request] = receiver.requests
    assert request.headers["host"] == f"localhost:{receiver.port}" and request.signed_with(secret)


def test_a_name_with_two_checked_addresses_is_reached_at_the_second_when_the_first_refuses(receiver, monkeypatch):  # noqa: F811
    """Pinning must not cost a dual-stack receiver its pages: each checked address is tried in turn, as a
    client that resolves for itself would."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "localhost":
            return real(host, port, *args, **kwargs)
        return real("127.0.0.3", port, *args, **kwargs) + real("127.0.0.1", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    person = UserFactory()
    hook, _ = page_webhook_set(actor=person, url=f"http://localhost:{receiver.port}/hook", user=person)
    notify(key="page:2a", topic="INC-1", subject="Page", text="down", slack=[], outbox=[], webhook=[hook.address])

    assert send(webhook_rows()[0]) == "sent"
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://[::7f00:1]/hook",  # IPv4-compatible 127.0.0.1
        "https://[::a9fe:a9fe]/latest/meta-data",  # IPv4-compatible 169.254.169.254
        "https://[::ffff:0:a00:1]/hook",  # SIIT-translated 10.0.0.1
        "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 169.254.169.254
        "https://[64:ff9b:1::a00:1]/hook",  # local-use NAT64 prefix
        "https://[2002:a00:1::1]/hook",  # 6to4 of 10.0.0.1
        "https://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
        "https://2130706433/hook",  # 127.0.0.1 in decimal
        "https://0x7f.1/hook",  # in hex, two parts
        "https://0177.0.0.1/hook",  # in octal
        "https://localhost./hook",  # trailing dot (here it does not resolve: refused for that)
        "https://0/hook",  # 0.0.0.0
        "https://[::]/hook",
        "https://100.64.0.1/hook",  # CGNAT
        "https://" + "ä" * 70 + ".example/hook",  # an IDNA label too long to encode (was a UnicodeError: a 500)
    ],
)
def test_an_inside_address_in_any_spelling_is_refused(settings, url):
    settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = False
    person = UserFactory()
    with pytest.raises(InputError) as refused:
        page_webhook_set(actor=person, url=url, user=person)
    assert refused.value.field == "url"
    assert "private or local" in refused.value.message or "does not resolve" in refused.value.message
    assert not PageWebhook.objects.exists()


def test_an_answer_dripped_one_byte_at_a_time_ends_at_the_timeout_and_is_retried(receiver):  # noqa: F811
    person = UserFactory()
    hook, _ = page_webhook_set(actor=person, url=receiver.url, user=person)
    notify(key="page:d", topic="INC-2", subject="Page", text="down", slack=[], outbox=[], webhook=[hook.address])
    receiver.reply_next(200, "ok", drip=0.1)  # about 45 bytes: 4.5 s, each byte well within the 1 s timeout

    with pytest.raises(Exception, match="longer than"):
        send(webhook_rows()[0])
    row = webhook_rows()[0]
    assert row.status == Status.PENDING and "longer than 1" in row.last_error


@pytest.mark.parametrize(
    ("resolving", "answering"),
    [(3.0, 0.0), (0.6, 0.6)],  # a name server slower than the timeout; each part within it, both together not
)
def test_a_slow_name_server_counts_against_the_send_timeout(receiver, monkeypatch, resolving, answering):  # noqa: F811
    """The look-up before the send (the check of where the URL points) is part of the one exchange that
    ``SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS`` bounds: a slow resolver cannot add its own timeouts to it."""
    person = UserFactory()
    hook, _ = page_webhook_set(actor=person, url=f"http://localhost:{receiver.port}/hook", user=person)
    notify(key="page:dns", topic="INC-4", subject="Page", text="down", slack=[], outbox=[], webhook=[hook.address])
    real = socket.getaddrinfo

    def slow_getaddrinfo(host, port, *args, **kwargs):
        if host == "localhost":
            time.sleep(resolving)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    receiver.reply_next(200, "ok", delay=answering)

    with pytest.raises(Exception, match="took longer than 1 s"):
        send(webhook_rows()[0])
    row = webhook_rows()[0]
    assert row.status == Status.PENDING and "took longer than 1 s" in row.last_error


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/x\r\nX-Evil: 1", "http://127.0.0.1/x\ty", "http://127.0.0.1/a b", "http://127.0.0.1/\x7f"]
)
def test_a_url_with_spaces_or_control_characters_is_refused_not_stored_as_given(settings, url):
    """``urlsplit`` drops tabs and line breaks before it looks, so the URL checked was not the one stored."""
    settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = True
    person = UserFactory()
    with pytest.raises(InputError) as refused:
        page_webhook_set(actor=person, url=url, user=person)
    assert refused.value.field == "url" and "space or control character" in refused.value.message
    assert not PageWebhook.objects.exists()


def test_the_admin_names_a_url_pages_may_not_go_to_on_its_field(client, settings):
    settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = False
    staff, person = UserFactory(is_staff=True, is_superuser=True), UserFactory()
    settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = True
    hook, _ = page_webhook_set(actor=person, url="http://127.0.0.1:9/hook", user=person)
    settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = False
    client.force_login(staff)

    answer = client.post(f"/admin/notifications/pagewebhook/{hook.pk}/change/", {"url": "https://10.0.0.1/x"})

    assert answer.status_code == 200 and "private or local address" in answer.content.decode()
    hook.refresh_from_db()
    assert hook.url == "http://127.0.0.1:9/hook"


@pytest.mark.parametrize("retry_after", ["1e308", "inf", "nan", "-inf", "99999999999"])
def test_a_hostile_retry_after_waits_at_most_a_day_and_the_page_stays_pending(receiver, retry_after):  # noqa: F811
    """A 429 whose Retry-After is no finite number of seconds (or years of them) made the ledger raise
    (timedelta overflow) and leave the row claimed for the sweep to retry forever."""
    person = UserFactory()
    hook, _ = page_webhook_set(actor=person, url=receiver.url, user=person)
    notify(key="page:h", topic="INC-3", subject="Page", text="down", slack=[], outbox=[], webhook=[hook.address])
    receiver.reply_next(429, "slow down", {"Retry-After": retry_after})

    try:
        send(webhook_rows()[0])  # held back in the database ("deferred"), or raised for the broker to retry
    except Exception as exc:
        assert "webhook answered 429" in str(exc)
    row = webhook_rows()[0]
    assert row.status == Status.PENDING and "webhook answered 429" in row.last_error
    assert -2 <= (row.not_before - timezone.now()).total_seconds() <= 86400 + 2


@pytest.fixture
def slow_name_server(monkeypatch, settings):
    """A name server that takes 3 s to answer for ``slow.example.com`` (every other name as the system does);
    the page webhook timeout is 0.5 s."""
    settings.SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS = 0.5
    real = socket.getaddrinfo

    def slow_getaddrinfo(host, port, *args, **kwargs):
        if host == "slow.example.com":
            time.sleep(3.0)
            return real("93.184.215.14", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)


def _timed(call):
    start = time.monotonic()
    answer = call()
    return answer, time.monotonic() - start


def test_a_slow_name_server_does_not_hold_the_request_that_enters_a_url(client, settings, slow_name_server):
    """The API, the profile form and the admin each answer on the URL's field within the webhook timeout, instead
    of waiting for the name server as long as the system resolver allows (before: 3 s here, and the URL taken)."""
    settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = True
    staff, person = UserFactory(is_staff=True, is_superuser=True), UserFactory()
    hook, _ = page_webhook_set(actor=person, url="http://127.0.0.1:9/hook", user=person)
    client.force_login(staff)
    url = "https://slow.example.com/hook"

    api, api_took = _timed(lambda: client.post("/api/v1/page-webhooks/", {"url": url}, content_type="application/json"))
    form, form_took = _timed(lambda: client.post("/me/profile/page-webhook/", {"url": url}))
    admin, admin_took = _timed(lambda: client.post(f"/admin/notifications/pagewebhook/{hook.pk}/change/", {"url": url}))

    sentence = "could not look up the host slow.example.com in time (within 0.5 s)"
    assert api.status_code == 400 and sentence in api.json()["error"]["fields"]["url"][0]
    assert form.status_code == 400 and sentence in form.content.decode()
    assert admin.status_code == 200 and sentence in admin.content.decode()
    assert max(api_took, form_took, admin_took) < 2.0
    assert list(PageWebhook.objects.values_list("url", flat=True)) == ["http://127.0.0.1:9/hook"]
