"""Where Slack handlers plug in: decorators by kind and name, the context a handler gets, and what it returns.

The contract other modules rely on (also in ``/work/wt/notes/slack-contract.md``)::

    @command("ack")                      # /sredesk ack INC-42: the first word; ctx.args is the rest
    @action("incident_ack")              # a button's action_id; prefix=True matches every id starting with it
    @view_submission("declare_modal")    # a modal's callback_id
    @suggestion("test_picker")           # external_select options (block_suggestion); always answered in the request
    @event("reaction_added")             # an Events API event type

Options: ``sync`` (run inside the request; the return value is the HTTP
answer; default: a worker runs it after the door answered), ``modal``
(a loading view the door opens with the trigger id before anything slow,
FIELD-CASES BR-31), ``person_required`` (default for commands, actions and
submissions: an unmapped Slack user is asked to link the account and the
handler is not called), ``ack`` (a command's immediate ephemeral answer).

A handler takes one :class:`SlackContext` and returns None, a string (an
ephemeral reply), a :class:`Reply`, or (sync only) a dict sent as the JSON
body. It raises :class:`SlackUserError` (or the domain's ``PermissionDenied``
/ ``ValidationError``) to tell the user what to do instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from incidents.models import Incident
    from ownership.models import User

KINDS = ("command", "action", "view_submission", "suggestion", "event")
WORKING = "Working on it…"


class SlackUserError(Exception):
    """Something the user can fix: ``message`` is told to them, ephemeral, as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Reply:
    """A message back to the user: through ``response_url`` (async) or as the HTTP answer (sync)."""

    text: str
    blocks: list[dict] | None = None
    ephemeral: bool = True
    replace_original: bool = False
    delete_original: bool = False

    def as_body(self) -> dict[str, Any]:
        """The JSON Slack expects at a ``response_url`` or in a command's HTTP answer."""
        body: dict[str, Any] = {"response_type": "ephemeral" if self.ephemeral else "in_channel", "text": self.text}
        if self.blocks is not None:
            body["blocks"] = self.blocks
        if self.replace_original:
            body["replace_original"] = True
        if self.delete_original:
            body["delete_original"] = True
        return body


def as_reply(value: Reply | str) -> Reply:
    return value if isinstance(value, Reply) else Reply(str(value))


def loading_view(title: str) -> dict[str, Any]:
    """A small modal saying "Loading…", opened at once with the trigger id and filled in later (views.update)."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title[:24]},  # Slack's limit for a modal title
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": ":hourglass_flowing_sand: Loading…"}}],
    }


@dataclass(frozen=True)
class Handler:
    kind: str
    name: str
    func: Callable[[SlackContext], Any]
    sync: bool = False
    modal: dict | None = None
    person_required: bool = True
    ack: str = WORKING
    prefix: bool = False


_exact: dict[str, dict[str, Handler]] = {kind: {} for kind in KINDS}
_prefixed: dict[str, list[Handler]] = {kind: [] for kind in KINDS}


def _register(kind: str, name: str, *, prefix: bool = False, **options: Any) -> Callable:
    def decorate(func: Callable) -> Callable:
        table = _prefixed[kind] if prefix else _exact[kind]
        names = [h.name for h in table] if prefix else list(table)
        if name in names:
            raise ImproperlyConfigured(f"Two Slack {kind} handlers for {name!r}: pick another name.")
        handler = Handler(kind, name, func, prefix=prefix, **options)
        if prefix:
            _prefixed[kind].append(handler)
            _prefixed[kind].sort(key=lambda h: -len(h.name))  # the longest prefix wins
        else:
            _exact[kind][name] = handler
        return func

    return decorate


def command(
    verb: str, *, sync: bool = False, modal: dict | None = None, person_required: bool = True, ack: str = WORKING
) -> Callable:
    """Handle ``/sredesk <verb> ...`` (``verb`` lower-case); ``ctx.args`` is the text after the verb."""
    return _register("command", verb.lower(), sync=sync, modal=modal, person_required=person_required, ack=ack)


def action(
    action_id: str, *, prefix: bool = False, sync: bool = False, modal: dict | None = None, person_required: bool = True
) -> Callable:
    """Handle a ``block_actions`` click whose ``action_id`` is ``action_id`` (or starts with it, ``prefix=True``)."""
    return _register("action", action_id, prefix=prefix, sync=sync, modal=modal, person_required=person_required)


def view_submission(callback_id: str, *, sync: bool = False, person_required: bool = True) -> Callable:
    """Handle a modal's submission by its ``callback_id``. Return a dict with ``response_action`` only when sync."""
    return _register("view_submission", callback_id, sync=sync, person_required=person_required)


def suggestion(action_id: str, *, prefix: bool = False, person_required: bool = False) -> Callable:
    """Answer an ``external_select``'s ``block_suggestion`` (always in the request): return ``{"options": [...]}``."""
    return _register("suggestion", action_id, prefix=prefix, sync=True, person_required=person_required)


def event(event_type: str, *, person_required: bool = False) -> Callable:
    """Handle an Events API event by its inner ``event.type`` (in a worker)."""
    return _register("event", event_type, person_required=person_required)


def find(kind: str, name: str) -> Handler | None:
    """The handler for ``name``: an exact registration first, else the longest matching prefix."""
    handler = _exact[kind].get(name)
    if handler is not None:
        return handler
    return next((h for h in _prefixed[kind] if name.startswith(h.name)), None)


def names(kind: str) -> list[str]:
    """Every exact name registered for ``kind`` (the verbs ``help`` lists), sorted."""
    return sorted(_exact[kind])


# --- the incident a request is about ----------------------------------------------------------------------

_channel_resolver: Callable[[str], Incident | None] | None = None
_INCIDENT_WORD = re.compile(r"^inc-\d+$", re.IGNORECASE)  # any digits: an impossible id is refused, not skipped


def channel_incident_resolver(func: Callable[[str], Incident | None]) -> Callable[[str], Incident | None]:
    """Register the one function that says which incident a Slack channel id belongs to (incident channels)."""
    global _channel_resolver
    _channel_resolver = func
    return func


def incident_for_channel(channel_id: str) -> Incident | None:
    """The incident whose channel ``channel_id`` is, or None (no resolver registered, or no such channel)."""
    if not channel_id or _channel_resolver is None:
        return None
    return _channel_resolver(channel_id)


def split_incident(text: str) -> tuple[int | None, str]:
    """(the incident ``INC-<n>`` names as the first or last word of ``text``, the rest); (None, text) when none.

    The one reader of "which incident does this line name" for every Slack door: a command's arguments, a
    button's value, a modal's private metadata. Only the first or last word counts, so a note that mentions
    another incident ("same as INC-41") is not taken for it. A word shaped like an id that names no possible
    incident (``INC-0``, ``INC-<20 digits>``, ``INC-٣``) raises SlackUserError: the request must not fall back
    to the channel's incident, which the user did not name.
    """
    from incidents.models import parse_public_id
    from sredesk.inputs import InputError

    words = (text or "").split()
    for index in (0, -1):
        if words and _INCIDENT_WORD.match(words[index]):
            try:
                number = parse_public_id(words[index])
            except InputError as exc:
                word = words[index][:40].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                raise SlackUserError(f"{word} is no incident: {exc.message}") from None
            rest = words[1:] if index == 0 else words[:-1]
            return number, " ".join(rest)
    return None, text


# --- the context --------------------------------------------------------------------------------------------


@dataclass
class SlackContext:
    """What a handler gets: the request as Slack sent it, who sent it (mapped to a person), and helpers."""

    kind: str
    payload: dict[str, Any]
    person: User | None = None
    slack_user_id: str = ""
    team_id: str = ""
    channel_id: str = ""
    trigger_id: str = ""
    response_url: str = ""
    message_ts: str = ""
    args: str = ""
    value: str = ""
    action: dict[str, Any] = field(default_factory=dict)
    view: dict[str, Any] = field(default_factory=dict)
    view_id: str = ""
    view_hash: str = ""
    inbound_id: int | None = None
    replies: list[Reply] = field(default_factory=list)  # what respond() buffered; sent after the handler commits

    @property
    def event(self) -> dict[str, Any]:
        """An Events API request's inner event; ``{}`` for the other kinds."""
        event = self.payload.get("event") if self.kind == "event" else None
        return event if isinstance(event, dict) else {}

    @cached_property
    def client(self) -> WebClient:
        """slack_sdk's WebClient with the bot token, at ``SREDESK_SLACK_API_URL``."""
        from .client import slack_client

        return slack_client()

    def respond(self, reply: Reply | str) -> None:
        """Say ``reply`` through the request's ``response_url`` once the handler's transaction has committed."""
        self.replies.append(as_reply(reply))

    def open_view(self, view: dict[str, Any]) -> dict[str, Any]:
        """``views.open`` with the request's trigger id (valid for 3 s after the click): returns Slack's ``view``."""
        return self.client.views_open(trigger_id=self.trigger_id, view=view)["view"]

    def update_view(self, view: dict[str, Any]) -> dict[str, Any]:
        """``views.update`` of the modal opened for this request (``view_id``/``view_hash``): returns the new view."""
        response = self.client.views_update(view_id=self.view_id, hash=self.view_hash or None, view=view)
        self.view_hash = response["view"].get("hash", "")
        return response["view"]

    @cached_property
    def incident(self) -> Incident | None:
        """The incident the request names (``INC-42`` as the first or last word of its args, value, action value or
        private metadata: ``split_incident``), else the incident of the channel it came from, else None."""
        from incidents.models import Incident

        texts = [self.args, self.value, str(self.action.get("value", "")), str(self.view.get("private_metadata", ""))]
        for text in texts:
            number, _ = split_incident(text)
            if number is not None:
                return Incident.objects.filter(pk=number).first()
        return incident_for_channel(self.channel_id)
