"""A local Slack Web API (``FakeSlack``): see the package's docstring for what it answers and how to script it."""

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

from .local import QuietHandler, ScriptedReply, ServerThread
from .slack_workspace import FakeWorkspace, workspace_reply


@dataclass(frozen=True)
class SlackRequest:
    """One request the fake received. ``at`` is ``time.monotonic()`` on arrival."""

    method: str  # the Web API method, e.g. "chat.postMessage"
    headers: dict[str, str]
    body: dict[str, Any]
    at: float
    status: int  # what the fake answered (0: it hung up without answering)
    reply: dict[str, Any] | str  # the body it answered with

    @property
    def channel(self) -> str:
        return str(self.body.get("channel", ""))

    @property
    def text(self) -> str:
        return str(self.body.get("text", ""))

    @property
    def authorization(self) -> str:
        return self.headers.get("authorization", "")


class FakeSlack:
    """A local Slack Web API: records requests, replies ``ok`` unless told otherwise. Use as a context manager."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[SlackRequest] = []
        self._script: deque[ScriptedReply] = deque()
        self._holds: dict[str, ScriptedReply] = {}  # channel -> the held-back answer to its next post
        self._ts = 0
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}  # (conversation, ts) -> latest body
        self._views = 0
        self.users: dict[str, dict[str, Any]] = {}  # users.info answers, by user id (add_user)
        self._server: ServerThread | None = None
        self._stopping = threading.Event()  # ends held-back replies, so stop() does not wait for them
        self.workspace = FakeWorkspace()

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> "FakeSlack":
        self._stopping.clear()
        self._server = ServerThread(self._handler_class(), name="fake-slack")
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> "FakeSlack":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeSlack is not started"
        return self._server.port

    @property
    def url(self) -> str:
        """The base URL to give slack_sdk (``SREDESK_SLACK_API_URL``), ending in ``/api/``."""
        return f"http://127.0.0.1:{self.port}/api/"

    # --- scripting and reading ------------------------------------------------------------

    def reply_next(
        self,
        status: int = 200,
        body: dict[str, Any] | str | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        delay: float = 0.0,
        method: str = "",
    ) -> None:
        """Answer the next ``times`` requests (of ``method`` only, if given) with this reply instead of the default.

        ``body`` may be a dict (sent as JSON) or a string (sent as text/html, like a proxy's error page).
        """
        body = body if body is not None else {"ok": status == 200}
        reply = ScriptedReply(status, body, headers or {}, delay, method=method)
        with self._lock:
            self._script.extend([reply] * times)

    def reply_next_for(
        self,
        method: str,
        status: int = 200,
        body: dict[str, Any] | str | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """``reply_next`` for calls of ``method`` alone (``"views.open"``)."""
        self.reply_next(status, body, headers, times, delay, method=method)

    def add_user(self, user_id: str, email: str = "", *, confirmed: bool = True, **fields: Any) -> None:
        """Make ``users.info`` know ``user_id``, with ``profile.email`` and ``is_email_confirmed``."""
        user = {"id": user_id, "name": user_id.lower(), "deleted": False, "is_bot": False,
                "is_email_confirmed": confirmed, "profile": {"email": email, "real_name": user_id}}  # fmt: skip
        user.update(fields)
        with self._lock:
            self.users[user_id] = user

    def response_url(self, name: str = "r") -> str:
        """A ``response_url`` that lands here (allowed when ``url_root + "response/"`` is an allowed prefix)."""
        return f"http://127.0.0.1:{self.port}/response/{name}"

    @property
    def url_root(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def responses(self, name: str | None = None) -> list[SlackRequest]:
        """What was posted to ``response_url(name)`` (to every name when None)."""
        prefix = "response/" + (name or "")
        return [r for r in self.requests if r.method.startswith(prefix) and (name is None or r.method == prefix)]

    def rate_limit_next(self, retry_after: int = 30, times: int = 1) -> None:
        """Answer like Slack's rate limiter: HTTP 429, ``Retry-After``, ``{"ok": false, "error": "ratelimited"}``."""
        self.reply_next(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}, times)

    def hold_next_to(self, channel: str, seconds: float) -> None:
        """Hold back the answer to the next post to ``channel`` (a Slack id) for ``seconds`` (cut short by stop()),
        whatever else is posted meanwhile: a worker sending it stays in the call, for a test to kill it there."""
        with self._lock:
            self._holds[channel] = ScriptedReply(200, {}, {}, seconds)

    def drop_next(self, times: int = 1) -> None:
        """Take the next ``times`` requests, then hang up without a reply (Slack got it; the answer was lost)."""
        with self._lock:
            self._script.extend([ScriptedReply(0, "", drop=True)] * times)

    def lose_reply_to(self, method: str) -> None:
        """The next call of ``method`` (e.g. ``conversations.create``) is done by the workspace, then the connection
        closes without its reply: Slack did it, sredesk never heard (a timeout)."""
        with self._lock:
            self._script.append(ScriptedReply(0, "", drop=True, act=True, method=method))

    def fail_method(self, method: str, error: str, *, status: int = 200, times: int = 1, delay: float = 0.0) -> None:
        """Answer the next ``times`` calls of ``method`` (e.g. ``conversations.create``) with ``ok: false, error``."""
        self.reply_next(status, {"ok": False, "error": error}, times=times, delay=delay, method=method)

    @property
    def requests(self) -> list[SlackRequest]:
        with self._lock:
            return list(self._requests)

    def posts(self, channel: str | None = None) -> list[SlackRequest]:
        """``chat.postMessage`` requests, optionally only those addressed to ``channel``."""
        return [
            r for r in self.requests if r.method == "chat.postMessage" and (channel is None or r.channel == channel)
        ]

    def ok_posts(self, channel: str | None = None) -> list[SlackRequest]:
        """``chat.postMessage`` requests that were answered with HTTP 200 ``ok``."""
        return [r for r in self.posts(channel) if r.status == 200]

    def calls(self, method: str) -> list[SlackRequest]:
        """Requests of one Web API method, e.g. ``chat.update`` or ``views.open``."""
        return [r for r in self.requests if r.method == method]

    def message(self, conversation: str, ts: str) -> dict[str, Any]:
        """The latest body posted or updated for the message ``ts`` in ``conversation`` ({} if none)."""
        with self._lock:
            return dict(self._messages.get((conversation, ts), {}))

    # --- the server -------------------------------------------------------------------

    def _next_reply(self, method: str, body: dict[str, Any]) -> ScriptedReply:
        with self._lock:
            held = self._holds.pop(str(body.get("channel", "")), None) if method == "chat.postMessage" else None
            for scripted in self._script if held is None else ():
                if scripted.method in ("", method):
                    self._script.remove(scripted)
                    if scripted.act:
                        workspace_reply(self.workspace, method, body)
                    return scripted
            from_workspace = workspace_reply(self.workspace, method, body)
            if from_workspace is not None:
                return replace(from_workspace, delay=self.workspace.slow.get(method, 0.0))
            reply = ScriptedReply(200, self._default_reply(method, body))
        return ScriptedReply(200, reply.body, {}, held.delay) if held is not None else reply

    def _default_reply(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """What Slack answers by default (called under the lock)."""
        channel = str(body.get("channel", ""))
        if method == "chat.postMessage":
            self._ts += 1
            ts = f"{int(time.time())}.{self._ts:06d}"
            conversation = "D" + channel[1:] if channel.startswith("U") else channel  # a DM with the person
            self._messages[(conversation, ts)] = body
            return {"ok": True, "channel": conversation, "ts": ts}
        if method == "chat.update":
            key = (channel, str(body.get("ts", "")))
            if not any(conversation == channel for conversation, _ in self._messages):
                return {"ok": False, "error": "channel_not_found"}
            if key not in self._messages:
                return {"ok": False, "error": "message_not_found"}
            self._messages[key] = body
            return {"ok": True, "channel": key[0], "ts": key[1], "text": body.get("text", "")}
        if method == "users.info":
            user = self.users.get(str(body.get("user", "")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method in ("views.open", "views.update", "views.push"):
            self._views += 1
            view = body.get("view")
            view = json.loads(view) if isinstance(view, str) else dict(view or {})
            view_id = str(body.get("view_id") or f"V{self._views:08d}")
            return {"ok": True, "view": {**view, "id": view_id, "hash": f"{self._views}.hash"}}
        return {"ok": True}

    def _record(self, request: SlackRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _handler_class(self) -> type[QuietHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                at, raw = self.read_body()
                self._serve(at, _parse_body(self.headers.get("Content-Type", ""), raw))

            def do_GET(self) -> None:  # slack_sdk sends a few methods (users.info) as GET with a query string
                at = time.monotonic()
                query = self.path.split("?", 1)[1] if "?" in self.path else ""
                self._serve(at, dict(parse_qsl(query, keep_blank_values=True)))

            def _serve(self, at: float, body: dict[str, Any]) -> None:
                method = self.path.split("?", 1)[0].removeprefix("/api/")
                if self.path.startswith("/response/"):  # a request's response_url
                    method = self.path.split("?", 1)[0].removeprefix("/")
                    reply = ScriptedReply(200, "ok")
                elif not self.path.startswith("/api/"):
                    reply = ScriptedReply(404, {"ok": False, "error": "unknown_method"})
                else:
                    reply = fake._next_reply(method, body)
                headers = {k.lower(): v for k, v in self.headers.items()}
                request = SlackRequest(method, headers, body, at, status=reply.status, reply=reply.body)
                fake._record(request)
                if reply.drop:
                    self.close_connection = True
                    return
                if reply.delay:
                    fake._stopping.wait(reply.delay)
                payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                data = payload.encode()
                content_type = "text/html" if isinstance(reply.body, str) else "application/json; charset=utf-8"
                self.send_reply(reply.status, data, content_type, reply.headers)

        return Handler


def _parse_body(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        return json.loads(raw)
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
