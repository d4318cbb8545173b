"""The page webhook channel: a signed JSON POST to a person's or a team's own URL (``PageWebhook``).

**Where a URL may point** (``webhook_url_check``, run where a URL enters and again before every send, since
a name's addresses can change): ``https://`` to a host whose every address is public (not private, loopback,
link-local, reserved or multicast: a page must not become a request into sredesk's own network), or, when
``SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK`` is on (the embedded default, tests), ``http://`` or ``https://`` to
loopback only. No user:password in the URL; redirects are not followed.

**What is sent** (``WebhookBackend.send``): ``POST <url>`` with ``Content-Type: application/json`` and the body::

    {"version": 1, "delivery": "notification:17", "test": false, "topic": "INC-42",
     "subject": "Page: INC-42 (SEV1) ...", "text": "...", "url": "https://sredesk.example.com/incidents/42/",
     "sent_at": "2026-12-05T03:00:00Z"}

signed as ``notifications.signing`` documents (``X-Sredesk-Signature``; ``X-Sredesk-Delivery`` repeats
``delivery``, the same on every retry, so a receiver can drop a repeat). The body is at most
``SREDESK_PAGE_WEBHOOK_MAX_BYTES`` (a longer ``text`` is cut and says so); the call waits at most
``SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS`` to connect and between bytes of the answer; at most 2 KiB of the
answer is read.

**Answers**: 2xx is delivered; 429 waits its ``Retry-After``; 408, 425, 5xx, a timeout or a network error are
retried by the delivery ledger (backoff, ``SREDESK_NOTIFY_MAX_ATTEMPTS``); any other answer (3xx, 4xx) is a
permanent failure, recorded on the delivery row with the status and the start of the answer, and shown on the
owner's profile (``page_webhook_deliveries``).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils import timezone

from sredesk.inputs import InputError, check_text

from .base import Message, NotifyPermanentError, NotifyRateLimited, NotifyTransientError
from .models import PageWebhook
from .signing import DELIVERY_HEADER, HEADER, signature_header
from .slack import _retry_after_seconds

ANSWER_READ_BYTES = 2048
RETRIED_STATUSES = frozenset({408, 425, 429})
TRUNCATED = "\n… (truncated: see sredesk for the rest)"


def _host_addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address ``host`` resolves to (an IP literal: itself); OSError when it does not resolve."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        mapped = getattr(address, "ipv4_mapped", None)
        addresses.append(mapped or address)
    return addresses


def webhook_url_check(url: str, *, field: str = "url") -> str:
    """``url`` stripped, if pages may be POSTed to it (see the module docstring); :class:`InputError` else.

    Resolves the host name (a name that does not resolve is refused: a page sent there would be lost).
    """
    if not isinstance(url, str):
        raise InputError(field, "Give an https:// URL.")
    url = check_text(url.strip(), field=field, max_length=PageWebhook._meta.get_field("url").max_length)
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise InputError(field, "Give an https:// URL (this one does not parse).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise InputError(field, "Give an https:// URL with a host name.")
    if parts.username or parts.password:
        raise InputError(field, "Leave user and password out of the URL: every page is signed instead.")
    allow_loopback = settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK
    if scheme == "http" and not (allow_loopback and _loopback_name(parts.hostname)):
        raise InputError(field, "Give an https:// URL (http:// only to this machine, for tests and development).")
    try:
        addresses = _host_addresses(parts.hostname, port)
    except OSError:
        raise InputError(field, f"The host name {parts.hostname} does not resolve.") from None
    for address in addresses:
        if address.is_loopback and allow_loopback:
            continue
        if address.is_loopback or not address.is_global or address.is_multicast:
            raise InputError(
                field, f"{parts.hostname} points to {address}, a private or local address: give a public one."
            )
    return url


def _loopback_name(host: str) -> bool:
    """``localhost`` or a loopback IP literal (127.0.0.0/8, ::1): where plain http may go in development."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def webhook_body(message: Message, *, max_bytes: int) -> bytes:
    """The JSON body for ``message``, at most ``max_bytes`` (its ``text`` cut, saying so, when longer)."""
    payload = {
        "version": 1,
        "delivery": message.dedup_key,
        "test": message.test,
        "topic": message.topic,
        "subject": message.subject,
        "text": message.text,
        "url": message.url,
        "sent_at": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    while len(body) > max_bytes and payload["text"]:
        excess = len(body) - max_bytes
        kept = payload["text"].removesuffix(TRUNCATED)
        payload["text"] = kept[: max(0, len(kept) - excess - len(TRUNCATED))] + TRUNCATED
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        if payload["text"] == TRUNCATED:
            break
    return body


def _answer_start(response: requests.Response) -> str:
    try:
        start = response.raw.read(ANSWER_READ_BYTES, decode_content=True) or b""
    except (OSError, ValueError, requests.RequestException):  # the status is the news; its body a courtesy
        start = b""
    return " ".join(start.decode("utf-8", "replace").split())[:300]


class WebhookBackend:
    """Sends a message to the ``PageWebhook`` its address (``webhook:<id>``) names."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy from the environment: the address checked is the one reached

    def send(self, message: Message) -> str:
        """POST ``message`` signed to its webhook; returns ``HTTP <status>``. Raises the three notify errors."""
        kind, _, pk = message.address.partition(":")
        hook = PageWebhook.objects.filter(pk=int(pk)).first() if kind == "webhook" and pk.isdigit() else None
        if hook is None:
            raise NotifyPermanentError(f"no webhook {message.address}: it was removed")
        try:
            url = webhook_url_check(hook.url)
        except InputError as exc:
            if "does not resolve" in exc.message:
                raise NotifyTransientError(exc.message) from exc
            raise NotifyPermanentError(f"refused to send: {exc.message}") from exc
        from .page_webhooks import page_webhook_secrets

        body = webhook_body(message, max_bytes=settings.SREDESK_PAGE_WEBHOOK_MAX_BYTES)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "sredesk-page-webhook/1",
            HEADER: signature_header(page_webhook_secrets(hook), int(time.time()), body),
            DELIVERY_HEADER: message.dedup_key,
        }
        timeout = settings.SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS
        try:
            response = self.session.post(
                url, data=body, headers=headers, timeout=(min(5.0, timeout), timeout), allow_redirects=False,
                stream=True,
            )  # fmt: skip
        except requests.RequestException as exc:
            raise NotifyTransientError(f"webhook unreachable: {exc.__class__.__name__}: {exc}") from exc
        with response:
            status = response.status_code
            if 200 <= status < 300:
                return f"HTTP {status}"
            answer = _answer_start(response)
            said = f"webhook answered {status}" + (f": {answer}" if answer else "")
            if status == 429:
                wait = _retry_after_seconds(response.headers.get("Retry-After"))
                raise NotifyRateLimited(said, wait)
            if status in RETRIED_STATUSES or status >= 500:
                raise NotifyTransientError(said)
            if 300 <= status < 400:
                said += f" (a redirect to {response.headers.get('Location', '?')[:200]}: not followed)"
            raise NotifyPermanentError(said)
