"""A stand-in for a team's own paging gateway: the receiving end of sredesk's signed page webhooks, local.

``FakeWebhookReceiver`` listens on 127.0.0.1 (a free port, in a thread), records every POST with its raw body
and headers, and answers 200 or what ``reply_next`` scripted (a 410, a 503, a 429 with ``Retry-After``, a slow
answer). ``WebhookRequest.signed_with`` checks the signature as the README documents it, written here apart
from ``notifications.signing`` so that a change to either shows.
"""

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from tests.fakes import QuietHandler, ScriptedReply, ServerThread


@dataclass(frozen=True)
class _Reply(ScriptedReply):
    drip: float = 0.0  # seconds between the bytes of the answer (a receiver that answers, but never quite)


@dataclass(frozen=True)
class WebhookRequest:
    """One POST the webhook receiver took: raw body as received, headers (lower-case names), what it answered."""

    path: str
    headers: dict[str, str]
    raw: bytes
    at: float
    status: int

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.raw)

    def signed_with(self, secret: str, *, now: float | None = None, tolerance: float = 300) -> bool:
        """Whether ``X-Sredesk-Signature`` signs the raw body with ``secret``, as the README documents it:
        ``t=<unix>,v1=<hex>``, hex HMAC-SHA256 of ``<t>.`` + raw body; any ``v1`` may match. Written here
        from the documentation, not imported from sredesk, so a change to either shows."""
        fields = [part.split("=", 1) for part in self.headers.get("x-sredesk-signature", "").split(",") if "=" in part]
        stamps = [v for k, v in fields if k == "t"]
        if len(stamps) != 1 or abs((now or time.time()) - int(stamps[0])) > tolerance:
            return False
        digest = hmac.new(secret.encode(), stamps[0].encode() + b"." + self.raw, hashlib.sha256).hexdigest()
        return any(hmac.compare_digest(digest, v) for k, v in fields if k == "v1")


class FakeWebhookReceiver:
    """A team's own paging gateway on 127.0.0.1: records every POST (raw body and headers) and answers 200,
    or what ``reply_next`` scripted (a 410, a 503, a 429 with Retry-After, a slow answer). Context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._requests: list[WebhookRequest] = []
        self._script: deque[ScriptedReply] = deque()
        self._server: ServerThread | None = None
        self._stopping = threading.Event()

    def __enter__(self) -> "FakeWebhookReceiver":
        self._server = ServerThread(self._handler_class(), host=self._host, port=self._port, name="fake-webhook")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        assert self._server is not None
        self._server.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{self._host}:{self.port}/hooks/sredesk"

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.port

    def reply_next(self, status: int, body: str = "", headers: dict[str, str] | None = None, times: int = 1,
                   delay: float = 0.0, drip: float = 0.0) -> None:  # fmt: skip
        """Answer the next ``times`` POSTs so; ``drip``: write the answer one byte every ``drip`` seconds."""
        with self._lock:
            self._script.extend([_Reply(status, body, headers or {}, delay, drip=drip)] * times)

    @property
    def requests(self) -> list[WebhookRequest]:
        with self._lock:
            return list(self._requests)

    def _handler_class(self) -> type[QuietHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                at, raw = self.read_body()
                with fake._lock:
                    reply = fake._script.popleft() if fake._script else _Reply(200, "ok")
                headers = {k.lower(): v for k, v in self.headers.items()}
                with fake._lock:
                    fake._requests.append(WebhookRequest(self.path, headers, raw, at, reply.status))
                if reply.delay:
                    fake._stopping.wait(reply.delay)
                data = str(reply.body).encode()
                if reply.drip:
                    self._drip(reply, data)
                    return
                self.send_reply(reply.status, data, "text/plain", reply.headers)

            def _drip(self, reply: _Reply, data: bytes) -> None:
                head = f"HTTP/1.1 {reply.status} X\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                self.close_connection = True
                for i in range(len(head + data)):
                    if fake._stopping.wait(reply.drip):
                        return
                    try:
                        self.wfile.write((head + data)[i : i + 1])
                        self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        return

        return Handler
