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

Modules: ``slack`` (``FakeSlack``), ``slack_workspace`` (its channels), ``smtp`` (``FakeSMTP``), ``local`` (what
every stand-in shares, ``tests.fakewebhook`` too: ``ServerThread``, ``QuietHandler``, ``ScriptedReply``,
``free_port``, ``wait_until``).
"""

from .local import QuietHandler, ScriptedReply, ServerThread, closed_port_url, free_port, wait_until
from .slack import FakeSlack, SlackRequest
from .slack_workspace import LIST_PAGE, SLACK_CHANNEL_NAME, FakeChannel, FakeWorkspace
from .smtp import FakeSMTP, ReceivedMail

__all__ = [
    "LIST_PAGE",
    "SLACK_CHANNEL_NAME",
    "FakeChannel",
    "FakeSMTP",
    "FakeSlack",
    "FakeWorkspace",
    "QuietHandler",
    "ReceivedMail",
    "ScriptedReply",
    "ServerThread",
    "SlackRequest",
    "closed_port_url",
    "free_port",
    "wait_until",
]
