"""The page webhook channel: a signed JSON POST to a person's or a team's own URL (``PageWebhook``).

**Where a URL may point** (``webhook_url_check``, run where a URL enters and again before every send, since
a name's addresses can change): ``https://`` to a host whose every address is public (not private, loopback,
link-local, CGNAT, reserved or multicast, nor an IPv6 address carrying such an IPv4 one: IPv4-mapped or
-compatible, SIIT, NAT64, 6to4; a page must not become a request into sredesk's own network), or, when
``SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK`` is on (the embedded default, tests), ``http://`` or ``https://`` to
loopback only. A port, if given, is 1-65535. No user:password in the URL; redirects are not followed. The
request connects to the addresses the check just before it resolved (``WebhookTarget``; each in turn until one
answers), never to a second answer of the name server (DNS rebinding); the name still goes in the Host header,
TLS's server name and the certificate check.

**What is sent** (``WebhookBackend.send``): ``POST <url>`` with ``Content-Type: application/json`` and the body::

    {"version": 1, "delivery": "notification:17", "test": false, "topic": "INC-42",
     "subject": "Page: INC-42 (SEV1) ...", "text": "...", "url": "https://sredesk.example.com/incidents/42/",
     "sent_at": "2026-12-05T03:00:00Z"}

signed as ``notifications.signing`` documents (``X-Sredesk-Signature``; ``X-Sredesk-Delivery`` repeats
``delivery``, the same on every retry; a receiver drops a repeat by the signed body's ``delivery``). The body is at most
``SREDESK_PAGE_WEBHOOK_MAX_BYTES`` (a longer ``text`` is cut and says so); the call waits at most
``SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS`` in all, the host name look-up of the check before it included, however
the name server and the receiver pace their answers (then it is retried);
at most 2 KiB of the answer is read.

**Answers**: 2xx is delivered; 429 waits its ``Retry-After``; 408, 425, 5xx, a timeout or a network error are
retried by the delivery ledger (backoff, ``SREDESK_NOTIFY_MAX_ATTEMPTS``); any other answer (3xx, 4xx) is a
permanent failure, recorded on the delivery row with the status and the start of the answer, and shown on the
owner's profile (``page_webhook_deliveries``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import requests.adapters
from django.conf import settings
from django.utils import timezone
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from sredesk.inputs import InputError, check_text

from .base import Message, NotifyPermanentError, NotifyRateLimited, NotifyTransientError
from .models import PageWebhook
from .signing import DELIVERY_HEADER, HEADER, signature_header
from .slack import _retry_after_seconds

ANSWER_READ_BYTES = 2048
RETRIED_STATUSES = frozenset({408, 425, 429})
TRUNCATED = "\n… (truncated: see sredesk for the rest)"


Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 prefixes that carry an IPv4 address in their last 32 bits (IPv4-compatible, SIIT, NAT64's well-known
# prefix: RFC 4291, RFC 2765, RFC 6052): a request there can reach that IPv4 address, so it is checked as well.
_IPV4_IN_LAST_32_BITS = tuple(ipaddress.ip_network(n) for n in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96"))
# NAT64 local-use prefix (RFC 8215): translated inside the operator's own network, never public.
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


@dataclass(frozen=True)
class WebhookTarget:
    """A URL pages may go to, and the addresses it was checked at: the request connects to these
    (``addresses``, in the resolver's order, the next when one refuses) and nowhere else, so a name that
    answers differently a moment later (DNS rebinding) changes nothing."""

    url: str
    host: str
    addresses: tuple[Address, ...]


class LookupTimeout(Exception):
    """The name server did not answer for ``host`` within the time left (``webhook_target``'s ``within``)."""

    def __init__(self, host: str, within: float) -> None:
        super().__init__(f"looking up {host} took longer than {within:.3g} s")
        self.host, self.within = host, within


def _getaddrinfo_within(host: str, port: int, within: float | None) -> list[tuple]:
    """``socket.getaddrinfo`` for a stream socket to ``host``; with ``within`` (seconds), asked in a worker thread
    waited for at most that long, :class:`LookupTimeout` when it takes longer (the system resolver cannot be
    interrupted: the thread, a daemon, ends when its own timeouts do, and its answer is dropped)."""
    if within is None:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    outcome: dict[str, object] = {}

    def lookup() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except BaseException as exc:  # handed to the waiting caller, who raises it
            outcome["error"] = exc

    worker = threading.Thread(target=lookup, name=f"webhook-lookup-{host}"[:60], daemon=True)
    worker.start()
    worker.join(max(0.0, within))
    if worker.is_alive():
        raise LookupTimeout(host, within)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["infos"]


def _host_addresses(host: str, port: int, *, within: float | None = None) -> list[Address]:
    """Every address ``host`` resolves to (an IP literal: itself), an IPv4-mapped IPv6 address as its IPv4 one;
    OSError when it does not resolve, :class:`LookupTimeout` when ``within`` seconds pass first."""
    try:
        found = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        infos = _getaddrinfo_within(host, port, within)
        found = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    return [getattr(address, "ipv4_mapped", None) or address for address in found]


def _inside(address: Address) -> bool:
    """Whether ``address`` is not a public one (private, loopback, link-local, CGNAT, reserved, multicast), or
    is an IPv6 address that carries such an IPv4 one (IPv4-compatible, SIIT, NAT64, 6to4) or is local NAT64."""
    if not address.is_global or address.is_multicast:
        return True
    if address.version == 4:
        return False
    if address in _LOCAL_NAT64:
        return True
    if address.sixtofour is not None and _inside(address.sixtofour):
        return True
    embedded = next((n for n in _IPV4_IN_LAST_32_BITS if address in n), None)
    return embedded is not None and _inside(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))


def webhook_url_check(url: str, *, field: str = "url") -> str:
    """``url`` stripped, if pages may be POSTed to it (see the module docstring); :class:`InputError` naming
    ``field`` else. Where a URL enters (API, profile form, admin): the host name look-up waits at most
    ``SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS``, as a send's does, so a slow name server cannot hold the request;
    a later answer is refused (try again)."""
    try:
        return webhook_target(url, field=field, within=settings.SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS).url
    except LookupTimeout as exc:
        raise InputError(
            field,
            f"sredesk could not look up the host {exc.host} in time (within {exc.within:g} s). Try again in a moment.",
        ) from None


def webhook_target(url: str, *, field: str = "url", within: float | None = None) -> WebhookTarget:
    """``url`` (stripped) and the address to connect to, if pages may be POSTed to it (see the module
    docstring); :class:`InputError` naming ``field`` else.

    Resolves the host name once (a name that does not resolve is refused: a page sent there would be lost);
    every address it gives must be allowed, and the request connects to those (``WebhookTarget.addresses``).
    ``within``: seconds the look-up may take (None: as long as the system resolver's own timeouts allow);
    :class:`LookupTimeout` when it takes longer.
    """
    if not isinstance(url, str):
        raise InputError(field, "Give an https:// URL.")
    url = check_text(url.strip(), field=field, max_length=PageWebhook._meta.get_field("url").max_length)
    if any(ch <= " " or ch == "\x7f" for ch in url):  # urlsplit drops tabs and line breaks before it parses
        raise InputError(field, "Take out the space or control character: write it %-encoded (%20) if it belongs.")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise InputError(field, "Give an https:// URL (this one does not parse).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise InputError(field, "Give an https:// URL with a host name.")
    if parts.port == 0:  # no receiver listens there; ``or`` above would have read it as the scheme's port
        raise InputError(field, "Give a port from 1 to 65535, or none (443 for https://).")
    if parts.username or parts.password:
        raise InputError(field, "Leave user and password out of the URL: every page is signed instead.")
    allow_loopback = settings.SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK
    if scheme == "http" and not (allow_loopback and _loopback_name(parts.hostname)):
        raise InputError(field, "Give an https:// URL (http:// only to this machine, for tests and development).")
    try:
        addresses = _host_addresses(parts.hostname, port, within=within)
    except (OSError, UnicodeError):
        raise InputError(field, f"The host name {parts.hostname} does not resolve.") from None
    for address in addresses:
        if address.is_loopback and allow_loopback:
            continue
        if _inside(address):
            raise InputError(
                field, f"{parts.hostname} points to {address}, a private or local address: give a public one."
            )
    if not addresses:
        raise InputError(field, f"The host name {parts.hostname} does not resolve.")
    return WebhookTarget(url=url, host=parts.hostname, addresses=tuple(addresses))


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


class _Deadline:
    """Ends one exchange ``seconds`` after it starts, however the receiver paces it: the sockets it watches are
    shut down then (a receiver that sends one byte a second never trips a per-read timeout). ``fired`` says
    whether it did. Context manager: the timer runs inside the ``with``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock``'s connection down at the deadline (a duplicate of its descriptor is kept: TLS takes over
        the original object; shutting either down ends the one connection)."""
        with self._lock:
            self._watched.append(sock.dup())
            if self.fired:
                self._shutdown(self._watched[-1])

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):  # closed already: nothing left to end
            sock.shutdown(socket.SHUT_RDWR)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._watched:
                self._shutdown(sock)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._watched:
                sock.close()
            self._watched.clear()


class _PinnedAdapter(requests.adapters.HTTPAdapter):
    """Connects to ``addresses`` (the checked ones, in turn until one answers) whatever the URL's host name
    resolves to now, keeping the name for the Host header, TLS's server name and the certificate check; hands
    each socket to ``deadline``. One adapter per send: its pools hold connections to those addresses only."""

    def __init__(self, addresses: tuple[Address, ...], deadline: _Deadline) -> None:
        self._addresses, self._deadline = [str(a) for a in addresses], deadline
        super().__init__(max_retries=0)

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
        addresses, deadline = self._addresses, self._deadline

        class PinnedConnection(pool.ConnectionCls):
            def _new_conn(self) -> socket.socket:
                name, refused = self._dns_host, None
                for address in addresses:
                    self._dns_host = address  # only the dialled address: .host stays the name
                    try:
                        sock = super()._new_conn()
                        break
                    except (NewConnectionError, ConnectTimeoutError) as exc:
                        refused = exc
                    finally:
                        self._dns_host = name
                else:
                    raise refused or NewConnectionError(self, "no address to connect to")
                deadline.watch(sock)
                return sock

        pool.ConnectionCls = PinnedConnection
        return pool


class WebhookBackend:
    """Sends a message to the ``PageWebhook`` its address (``webhook:<id>``) names."""

    def send(self, message: Message) -> str:
        """POST ``message`` signed to its webhook; returns ``HTTP <status>``. Raises the three notify errors.

        The URL is checked again and the request connects to the address that check resolved; the whole
        exchange (the check's host name look-up, connect, send, status, the start of a refusal's body) ends after
        ``SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS`` (a transient error: the ledger retries), so one send never
        outlasts ``SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS`` and is never sent twice for being slow.
        """
        timeout = settings.SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS
        started = time.monotonic()
        too_slow = f"webhook unreachable: took longer than {timeout:g} s"
        kind, _, pk = message.address.partition(":")
        hook = PageWebhook.objects.filter(pk=int(pk)).first() if kind == "webhook" and pk.isdigit() else None
        if hook is None:
            raise NotifyPermanentError(f"no webhook {message.address}: it was removed")
        try:
            target = webhook_target(hook.url, within=timeout)
        except LookupTimeout as exc:
            raise NotifyTransientError(f"{too_slow} ({exc})") from exc
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
        left = timeout - (time.monotonic() - started)
        if left <= 0:
            raise NotifyTransientError(f"{too_slow} (before the request was sent)")
        with _Deadline(left) as deadline, requests.Session() as session:
            session.trust_env = False  # no proxy from the environment: the address checked is the one reached
            session.mount("http://", _PinnedAdapter(target.addresses, deadline))
            session.mount("https://", _PinnedAdapter(target.addresses, deadline))
            try:
                return self._post(session, target.url, body, headers, left)
            except NotifyTransientError as exc:
                if deadline.fired:
                    raise NotifyTransientError(too_slow) from exc
                raise

    @staticmethod
    def _post(session: requests.Session, url: str, body: bytes, headers: dict[str, str], timeout: float) -> str:
        try:
            response = session.post(
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
