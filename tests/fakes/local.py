"""What the local stand-ins share: an HTTP server in a thread, its handler base, scripted replies, free ports,
and polling until something happens."""

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ScriptedReply:
    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to trip the client's timeout); cut short by stop()
    drop: bool = False  # take the request, then close the connection without answering
    act: bool = False  # with ``drop``: the workspace does what was asked first (Slack did it; the reply was lost)
    method: str = ""  # only for this Web API method ("": the next request of any method)


class ServerThread:
    """A ``ThreadingHTTPServer`` on ``host`` (``port`` 0: a free one) serving ``handler_class`` from a daemon thread,
    from construction until ``stop``."""

    def __init__(
        self, handler_class: type[BaseHTTPRequestHandler], *, host: str = "127.0.0.1", port: int = 0, name: str = ""
    ) -> None:
        self.server = ThreadingHTTPServer((host, port), handler_class)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name=name or None, daemon=True
        )
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def stop(self) -> None:
        """Stop serving, close the socket, and wait (5 s at most) for the thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class QuietHandler(BaseHTTPRequestHandler):
    """An HTTP/1.1 handler that reads a request's body, writes a whole reply, and logs nothing (tests read what
    the stand-in recorded instead)."""

    protocol_version = "HTTP/1.1"

    def read_body(self) -> tuple[float, bytes]:
        """When the request arrived (``time.monotonic()``, before its body was read) and its raw body."""
        at = time.monotonic()
        return at, self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send_reply(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        """Answer ``status`` with ``data``; a client that gave up (a timeout test) just closes the connection."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just now: bind it soon)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port_url() -> str:
    """An ``http://127.0.0.1:<port>/api/`` URL on which nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}/api/"


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
