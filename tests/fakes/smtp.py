"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it accepts and refuses what a test scripts."""

import email
import email.policy
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from .local import free_port


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
