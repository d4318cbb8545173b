"""The notification layer's interface: domain code says what to tell whom; a backend says how.

Each channel ("outbox", "slack", ...) has one backend, configured by dotted
path in ``settings.SREDESK_NOTIFY_BACKENDS``. Backends raise the three error
types below and nothing else, so callers can decide to retry or give up.
"""

from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Button:
    """Something the reader can do from the message: an action sredesk handles (``action_id`` and ``value``,
    e.g. ``incident.ack`` / ``"42"``), or a link (``url``). ``style``: "", "primary" or "danger".
    ``confirm``: a question the reader answers before the click counts ("" for none).

    Channels with buttons (Slack) show them; the others leave them out (the text and ``url`` say the same).
    """

    label: str
    action_id: str
    value: str = ""
    url: str = ""
    style: str = ""
    confirm: str = ""


@dataclass(frozen=True)
class Message:
    """What to say. ``address`` is channel-specific: a Slack id, an email, an outbox name.

    ``dedup_key`` names the logical message, so a backend that can make a
    resend harmless (the outbox can) writes it once. ``buttons``: what the
    reader can do from it (``Button``).
    """

    address: str
    subject: str
    text: str
    url: str = ""
    dedup_key: str = ""
    buttons: tuple[Button, ...] = ()
    topic: str = ""  # what it is about (INC-42), for channels that carry it apart (the webhook's JSON)
    test: bool = False  # a test page a person sent themselves (``notifications.services.TEST_PAGE_PREFIX``)


@dataclass(frozen=True)
class Posted:
    """Where a channel put a message, for editing it later: the conversation (a Slack DM's ``D…`` id when the
    address was a person) and the channel's message id (Slack's ``ts``)."""

    conversation: str
    ref: str


class NotifyError(Exception):
    """Base class for delivery failures. ``code``: the channel's own error code when it gave one
    (Slack's ``channel_not_found``...), for ``notifications.problems``."""

    code: str = ""


class NotifyTransientError(NotifyError):
    """The channel may accept the message later (network error, 5xx)."""


class NotifyRateLimited(NotifyTransientError):
    """The channel asked us to wait ``retry_after`` seconds (e.g. Slack's HTTP 429 Retry-After)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotifyPermanentError(NotifyError):
    """Retrying will not help (unknown channel, revoked token, invalid address)."""


class Backend(Protocol):
    """A channel's sender. ``send`` returns the channel's id for the message (may be "")."""

    def send(self, message: Message) -> str: ...


class EditableBackend(Backend, Protocol):
    """A channel whose messages can be edited in place (Slack): ``post`` says where the message went,
    ``update`` replaces its content. Both raise the error types above."""

    def post(self, message: Message) -> Posted: ...

    def update(self, message: Message, *, posted: Posted) -> None: ...


@cache
def _backend(path: str) -> Backend:
    return import_string(path)()


def get_backend(channel: str) -> Backend:
    """The backend configured for ``channel``; KeyError if the channel is not configured."""
    return _backend(settings.SREDESK_NOTIFY_BACKENDS[channel])


def slack_enabled() -> bool:
    """Whether Slack deliveries should be planned at all (a bot token is configured)."""
    return bool(settings.SLACK_BOT_TOKEN)


def email_enabled() -> bool:
    """Whether email deliveries should be planned (``EMAIL_URL`` is configured)."""
    return bool(settings.SREDESK_EMAIL_ENABLED)
