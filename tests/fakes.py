"""Stand-ins for outside services that tests cross for real: Slack's Web API and an SMTP server, both local.

``FakeSlack`` listens on 127.0.0.1 (a free port, in a thread) and records every
``POST /api/<method>`` with its headers and parsed body (JSON or form). By
default it answers ``chat.postMessage`` like Slack does (a message to a person's
``U…`` id lands in a ``D…`` conversation), ``chat.update`` of a message it holds
(by conversation id and ``ts``, else ``channel_not_found``/``message_not_found``),
``views.open``/``views.update`` (a view id and hash) and any other method with
``ok``; ``reply_next`` scripts the next replies, of any method or of one
(HTTP 429 with ``Retry-After``, ``ok: false`` errors, 5xx, a reply held back
for a while), ``fail_method`` the next replies of one method with an error.
The channel methods (``conversations.create/list/invite/setTopic/archive/unarchive/info/history``,
``bookmarks.add``, ``auth.test``) act on a small ``FakeWorkspace`` (``fake.workspace``)
with Slack's rules and errors (``name_taken``, ``already_in_channel``, ``cant_invite``...);
``lose_reply_to`` has it do a call and lose the reply.
Point the real slack_sdk client at it with ``SREDESK_SLACK_API_URL = fake.url``. It answers
``users.info`` (sent as GET) from ``add_user``, and takes replies posted to a request's
``response_url`` when that URL is ``fake.response_url(name)`` (recorded as method
``response/<name>``; see ``responses``).

``FakeSMTP`` is a real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every
message it accepts; ``reply_next`` makes it refuse the next ones (``550 ...``).
Point Django's SMTP backend at it with ``EMAIL_HOST`` / ``EMAIL_PORT``.
"""

import email
import email.policy
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from aiosmtpd.controller import Controller

T = TypeVar("T")


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


@dataclass(frozen=True)
class ScriptedReply:
    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to trip the client's timeout); cut short by stop()
    drop: bool = False  # take the request, then close the connection without answering
    act: bool = False  # with ``drop``: the workspace does what was asked first (Slack did it; the reply was lost)
    method: str = ""  # only for this Web API method ("": the next request of any method)


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
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()  # ends held-back replies, so stop() does not wait for them
        self.workspace = FakeWorkspace()

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> "FakeSlack":
        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "FakeSlack":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeSlack is not started"
        return self._server.server_address[1]

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
                        self._workspace_reply(method, body)
                    return scripted
            workspace_reply = self._workspace_reply(method, body)
            if workspace_reply is not None:
                return replace(workspace_reply, delay=self.workspace.slow.get(method, 0.0))
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

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                at = time.monotonic()
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
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
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:  # quiet: tests read .requests instead
                pass

        return Handler


# --- a small workspace behind the channel methods -------------------------------------------------

SLACK_CHANNEL_NAME = re.compile(r"[a-z0-9_-]{1,80}")


@dataclass
class FakeChannel:
    id: str
    name: str
    archived: bool = False
    members: set[str] = field(default_factory=set)
    topic: str = ""
    creator: str = ""  # the member id that created it (the bot's, for one conversations.create made)
    created: int = field(default_factory=lambda: int(time.time()))  # when, in Unix seconds
    bookmarks: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # by ts, for conversations.history


@dataclass
class FakeWorkspace:
    """What the channel methods act on. Tests seed it (``add_channel``) and read it back.

    ``deactivated``: member ids Slack refuses to invite (``cant_invite``); ``unknown``: ids it does not know
    (``user_not_found``); ``scopes``: what ``auth.test`` reports in ``X-OAuth-Scopes``;
    ``bot_member_of``: channel ids the bot is in (``conversations.info``'s ``is_member``; created ones too).
    """

    bot_user_id: str = "U0SREDESK"
    bot_id: str = "B0000001"
    team_id: str = "T0000001"
    channels: dict[str, FakeChannel] = field(default_factory=dict)  # by id
    deactivated: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)
    scopes: str = ""
    bot_member_of: set[str] = field(default_factory=set)
    join_on_create: set[str] = field(default_factory=set)  # member ids in every channel created (already members)
    slow: dict[str, float] = field(default_factory=dict)  # method -> seconds its answer is held back
    _ids: int = 0

    def add_channel(
        self, name: str, *, archived: bool = False, bot_in: bool = False, creator: str = "U0SOMEONE",
        created: int | None = None,
    ) -> FakeChannel:  # fmt: skip
        self._ids += 1
        channel = FakeChannel(id=f"C{self._ids:08d}", name=name, archived=archived, creator=creator)
        if created is not None:
            channel.created = created
        self.channels[channel.id] = channel
        if bot_in:
            self.bot_member_of.add(channel.id)
        return channel

    def by_name(self, name: str) -> FakeChannel | None:
        return next((c for c in self.channels.values() if c.name == name), None)


def _error(error: str) -> ScriptedReply:
    return ScriptedReply(200, {"ok": False, "error": error})


def _ok(**fields: Any) -> ScriptedReply:
    return ScriptedReply(200, {"ok": True, **fields})


def _channel_json(channel: FakeChannel) -> dict[str, Any]:
    return {
        "id": channel.id, "name": channel.name, "is_archived": channel.archived, "is_channel": True,
        "creator": channel.creator, "created": channel.created, "topic": {"value": channel.topic},
    }  # fmt: skip


LIST_PAGE = 2  # conversations.list answers this many channels a page at most, whatever ``limit`` asks: pages show


def _list_reply(ws: "FakeWorkspace", body: dict[str, Any]) -> ScriptedReply:
    """``conversations.list``: public channels by id order, ``exclude_archived``, cursor pagination."""
    channels = [c for c in ws.channels.values() if not (c.archived and body.get("exclude_archived") in ("true", "1"))]
    start = int(body.get("cursor") or 0)
    page = channels[start : start + min(int(body.get("limit") or 100), LIST_PAGE)]
    after = start + len(page)
    cursor = str(after) if after < len(channels) else ""
    return _ok(channels=[_channel_json(c) for c in page], response_metadata={"next_cursor": cursor})


def _workspace_reply(self: FakeSlack, method: str, body: dict[str, Any]) -> ScriptedReply | None:
    """Slack's answer to a channel method from the fake workspace (called under the fake's lock); None: not one."""
    ws = self.workspace
    if method == "auth.test":
        reply = _ok(user_id=ws.bot_user_id, bot_id=ws.bot_id, team_id=ws.team_id, team="Acme", user="sredesk")
        return ScriptedReply(200, reply.body, {"X-OAuth-Scopes": ws.scopes})
    if method == "conversations.list":
        return _list_reply(ws, body)
    if method == "conversations.create":
        name = str(body.get("name", ""))
        if len(name) > 80:
            return _error("invalid_name_maxlength")
        if not SLACK_CHANNEL_NAME.fullmatch(name):
            return _error("invalid_name_specials")
        if ws.by_name(name) is not None:
            return _error("name_taken")
        channel = ws.add_channel(name, bot_in=True, creator=ws.bot_user_id)
        channel.members |= {ws.bot_user_id, *ws.join_on_create}
        return _ok(channel=_channel_json(channel))
    channel = ws.channels.get(str(body.get("channel") or body.get("channel_id") or ""))
    if method == "conversations.info":
        if channel is None:
            return _error("channel_not_found")
        return _ok(channel={**_channel_json(channel), "is_member": channel.id in ws.bot_member_of})
    if method == "conversations.history":
        if channel is None:
            return _error("channel_not_found")
        latest = str(body.get("latest", ""))
        found = [m for ts, m in channel.messages.items() if ts == latest and body.get("inclusive") in ("true", "1")]
        return _ok(messages=found, has_more=False)
    if method not in {
        "conversations.invite", "conversations.setTopic", "conversations.archive", "conversations.unarchive",
        "bookmarks.add",
    }:  # fmt: skip
        return None
    if channel is None:
        return _error("channel_not_found")
    if method == "conversations.archive":
        if channel.archived:
            return _error("already_archived")
        channel.archived = True
        return _ok()
    if method == "conversations.unarchive":
        if not channel.archived:
            return _error("not_archived")
        channel.archived = False
        return _ok()
    if channel.archived:
        return _error("is_archived")
    if method == "conversations.invite":
        user = str(body.get("users", ""))
        if "," in user:
            return _error("invalid_arguments")  # sredesk invites one by one
        if user in (ws.bot_user_id, ws.bot_id):
            return _error("cant_invite_self")
        if user in ws.unknown:
            return _error("user_not_found")
        if user in ws.deactivated:
            return _error("cant_invite")
        if user in channel.members:
            return _error("already_in_channel")
        channel.members.add(user)
        return _ok(channel=_channel_json(channel))
    if method == "conversations.setTopic":
        channel.topic = str(body.get("topic", ""))
        return _ok(channel=_channel_json(channel))
    bookmark = {"id": f"Bk{len(channel.bookmarks) + 1:08d}", "title": body.get("title"), "link": body.get("link")}
    channel.bookmarks.append(bookmark)
    return _ok(bookmark=bookmark)


FakeSlack._workspace_reply = _workspace_reply


def _parse_body(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        return json.loads(raw)
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just now: bind it soon)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port_url() -> str:
    """An ``http://127.0.0.1:<port>/api/`` URL on which nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}/api/"


@dataclass(frozen=True)
class ReceivedMail:
    """One message the SMTP server accepted: the envelope, and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


class FakeSMTP:
    """A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread). Use as a context manager.

    Accepts every message and keeps it in ``messages``, unless ``reply_next``
    scripted a refusal: at ``RCPT`` (``SMTPRecipientsRefused`` in smtplib) or
    at ``DATA`` (``SMTPDataError``), e.g. ``"550 5.7.1 Message rejected"``.
    """

    def __init__(self, port: int = 0) -> None:
        self._lock = threading.Lock()
        self._messages: list[ReceivedMail] = []
        self._script: dict[str, deque[str]] = {"RCPT": deque(), "DATA": deque()}
        self._controller: Controller | None = None
        self.host = "127.0.0.1"
        self.port = port  # 0: a free one, chosen at start

    def start(self) -> "FakeSMTP":
        self.port = self.port or free_port()
        self._controller = Controller(_SMTPHandler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "FakeSMTP":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reply_next(self, reply: str, *, at: str = "DATA", times: int = 1) -> None:
        """Answer the next ``times`` ``RCPT`` or ``DATA`` commands with ``reply`` (a full SMTP reply line)."""
        with self._lock:
            self._script[at].extend([reply] * times)

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    def _scripted(self, at: str) -> str | None:
        with self._lock:
            return self._script[at].popleft() if self._script[at] else None

    def _keep(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._messages.append(mail)


class _SMTPHandler:
    """aiosmtpd handler hooks (called on the server's event loop thread)."""

    def __init__(self, fake: FakeSMTP) -> None:
        self.fake = fake

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        refusal = self.fake._scripted("RCPT")
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        refusal = self.fake._scripted("DATA")
        if refusal:
            return refusal
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.fake._keep(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    diagnostics: Callable[[], str] | None = None,
) -> T:
    """Poll ``condition`` until it returns something truthy, and return that; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            detail = f"\n{diagnostics()}" if diagnostics else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{detail}")
        time.sleep(interval)
