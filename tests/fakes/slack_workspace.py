"""The small Slack workspace behind ``FakeSlack``'s channel methods, with Slack's rules and errors."""

import re
import time
from dataclasses import dataclass, field
from typing import Any

from .local import ScriptedReply

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


def _list_reply(ws: FakeWorkspace, body: dict[str, Any]) -> ScriptedReply:
    """``conversations.list``: public channels by id order, ``exclude_archived``, cursor pagination."""
    channels = [c for c in ws.channels.values() if not (c.archived and body.get("exclude_archived") in ("true", "1"))]
    start = int(body.get("cursor") or 0)
    page = channels[start : start + min(int(body.get("limit") or 100), LIST_PAGE)]
    after = start + len(page)
    cursor = str(after) if after < len(channels) else ""
    return _ok(channels=[_channel_json(c) for c in page], response_metadata={"next_cursor": cursor})


def workspace_reply(ws: FakeWorkspace, method: str, body: dict[str, Any]) -> ScriptedReply | None:
    """Slack's answer to a channel method from the fake workspace (called under the fake's lock); None: not one."""
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
