"""Who a Slack user is in sredesk: the stored Slack member id, else the verified Slack email, else nobody yet.

A person is found by ``User.slack_user_id``; failing that (and only in a
worker: it is a Slack call) by the email Slack has *confirmed* for the user
(``users.info``: ``user.is_email_confirmed`` and ``user.profile.email``),
matched case-insensitively to exactly one active person who has no other
Slack id; the id is then stored, so the lookup happens once. Someone still
unknown is sent a one-time link (``link_token_issue``) that, opened while
signed in to sredesk, shows which Slack account of which workspace it ties
(``link_token_preview``) and, confirmed with a POST, stores the Slack id on
that person (``link_token_redeem``) unless Slack's confirmed email for that
account is another person's (a link sent to someone else: link-CSRF, phishing).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from slack_sdk.errors import SlackClientError

from ownership.models import User
from sredesk.tokens import new_token, token_hash

from .client import slack_client
from .models import SlackLinkToken
from .payloads import text_of
from .registry import SlackContext

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackProfile:
    """What ``users.info`` says of a Slack user: ``handle`` (``user.name``), ``real_name``, ``team_id``, and
    ``email``: the profile's email only when Slack has confirmed it (``is_email_confirmed``), else ""."""

    slack_user_id: str
    handle: str = ""
    real_name: str = ""
    team_id: str = ""
    email: str = ""
    is_person: bool = True  # False for a deleted account or a bot


def slack_profile(slack_user_id: str) -> SlackProfile | None:
    """``users.info`` for ``slack_user_id`` (the bot token; ``SREDESK_SLACK_TIMEOUT_SECONDS``), or None when
    Slack is not set up, unreachable or refuses (no such user, missing ``users:read.email``): logged, never raised.
    Source: https://api.slack.com/methods/users.info (``user.profile.email`` needs ``users:read.email``)."""
    if not slack_user_id or not settings.SLACK_BOT_TOKEN:
        return None
    try:
        user = slack_client().users_info(user=slack_user_id)["user"]
    except (SlackClientError, OSError, KeyError, TypeError) as exc:
        logger.info("slack users.info failed for %s: %s", slack_user_id, exc)
        return None
    if not isinstance(user, dict):
        return None
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    email = text_of(profile.get("email")).strip() if user.get("is_email_confirmed") is True else ""
    return SlackProfile(
        slack_user_id=slack_user_id,
        handle=text_of(user.get("name"))[:80],
        real_name=(text_of(profile.get("real_name")) or text_of(user.get("real_name")))[:120],
        team_id=text_of(user.get("team_id"))[:32],
        email=email[:254],
        is_person=not user.get("deleted") and not user.get("is_bot"),
    )


def person_by_slack_id(slack_user_id: str) -> User | None:
    """The active person whose stored Slack member id is ``slack_user_id`` (the oldest, should two share it)."""
    if not slack_user_id:
        return None
    return User.objects.filter(slack_user_id=slack_user_id, is_active=True).order_by("pk").first()


def person_for_slack_user(slack_user_id: str, *, lookup: bool = True) -> User | None:
    """The person behind ``slack_user_id``, or None; ``lookup=False`` skips the ``users.info`` call (in a request).

    Slack being unreachable or refusing the call (no token, missing
    ``users:read.email`` scope) leaves the user unmapped, logged, never raised.
    """
    person = person_by_slack_id(slack_user_id)
    if person is not None or not lookup or not slack_user_id or not settings.SLACK_BOT_TOKEN:
        return person
    profile = slack_profile(slack_user_id)
    if profile is None or not profile.email or not profile.is_person:
        return None
    candidates = list(User.objects.filter(email__iexact=profile.email, is_active=True).order_by("pk")[:2])
    if len(candidates) != 1 or candidates[0].slack_user_id not in ("", slack_user_id):
        return None  # nobody, two people, or someone tied to another Slack account: the person links by hand
    person = candidates[0]
    User.objects.filter(pk=person.pk, slack_user_id="").update(slack_user_id=slack_user_id)
    person.slack_user_id = slack_user_id
    logger.info("slack user %s mapped to %s by confirmed email", slack_user_id, person.username)
    return person


def link_token_issue(slack_user_id: str, team_id: str = "", *, handle: str = "", team_name: str = "") -> str:
    """A fresh one-time link (absolute URL) that ties ``slack_user_id`` to whoever opens it signed in and confirms;
    ``handle`` and ``team_name`` (as the request from Slack named them) are shown on the link page."""
    token, digest = new_token("sdsl")
    SlackLinkToken.objects.create(
        token_hash=digest,
        slack_user_id=slack_user_id[:32],
        team_id=team_id[:32],
        slack_handle=handle[:80],
        team_name=team_name[:80],
        expires_at=timezone.now() + timedelta(seconds=settings.SREDESK_SLACK_LINK_MAX_AGE_SECONDS),
    )
    return settings.SREDESK_BASE_URL + reverse("slackapp:link", args=[quote(token, safe="")])


def _names(ctx: SlackContext) -> tuple[str, str]:
    """(the user's handle, the workspace's name) as the request carries them: a command's ``user_name`` and
    ``team_domain``; a click's or a submission's ``user.username`` and ``team.domain``; an event names neither."""
    payload = ctx.payload
    if ctx.kind == "command":
        return text_of(payload.get("user_name")), text_of(payload.get("team_domain"))
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    team = payload.get("team") if isinstance(payload.get("team"), dict) else {}
    return text_of(user.get("username")) or text_of(user.get("name")), text_of(team.get("domain"))


def link_message(ctx: SlackContext) -> str:
    """The ephemeral sentence for the Slack user of ``ctx`` whom sredesk cannot map, with a fresh one-time link."""
    handle, team_name = _names(ctx)
    url = link_token_issue(ctx.slack_user_id, ctx.team_id, handle=handle, team_name=team_name)
    hours = settings.SREDESK_SLACK_LINK_MAX_AGE_SECONDS / 3600
    return (
        "sredesk does not know who you are in Slack yet. "
        f"<{url}|Link your Slack account> (sign in to sredesk; the link works once, for {hours:g} h), then try again."
    )


class LinkTokenInvalid(Exception):
    """The link cannot be used (unknown, used already, expired, or another person's Slack account): ``message``
    says which and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LinkPreview:
    """What the link page shows before anything is stored: the Slack account and workspace the link ties, and
    ``refusal``: why the viewer may not link it ("" when they may)."""

    slack_user_id: str
    handle: str
    real_name: str
    team_id: str
    team_name: str
    refusal: str


def _usable(row: SlackLinkToken | None) -> SlackLinkToken:
    again = f"Run {settings.SREDESK_SLACK_COMMAND} in Slack again for a new link."
    if row is None:
        raise LinkTokenInvalid(f"This Slack link is not valid. {again}")
    if row.used_at is not None:
        raise LinkTokenInvalid(f"This Slack link was used already. {again}")
    if row.expires_at <= timezone.now():
        raise LinkTokenInvalid(f"This Slack link has expired. {again}")
    return row


def _refusal(row: SlackLinkToken, profile: SlackProfile | None, person: User) -> str:
    """Why ``person`` may not take the Slack account of ``row`` ("" if they may): Slack has confirmed an email for
    that account and it is not ``person``'s (compared case-insensitively)."""
    if profile is None or not profile.email or profile.email.casefold() == (person.email or "").strip().casefold():
        return ""
    yours = f"yours ({person.email})" if person.email else "yours (your sredesk profile has no email)"
    return (
        f"This link is for the Slack account {_account(row, profile)}, whose confirmed email in Slack is not "
        f"{yours}, so it cannot be linked to you. Open only a link sredesk sent to your own Slack account; "
        "if this is your Slack account, ask an admin to correct the email on one side."
    )


def _account(row: SlackLinkToken, profile: SlackProfile | None) -> str:
    handle = (profile.handle if profile else "") or row.slack_handle
    return f"@{handle} ({row.slack_user_id})" if handle else row.slack_user_id


def link_token_preview(*, token: str, person: User) -> LinkPreview:
    """The link page's content for ``person`` (asks Slack's ``users.info``; nothing is stored). Raises
    LinkTokenInvalid for an unknown, used or expired token."""
    row = _usable(SlackLinkToken.objects.filter(token_hash=token_hash(token)).first())
    profile = slack_profile(row.slack_user_id)
    return LinkPreview(
        slack_user_id=row.slack_user_id,
        handle=(profile.handle if profile else "") or row.slack_handle,
        real_name=profile.real_name if profile else "",
        team_id=row.team_id or (profile.team_id if profile else ""),
        team_name=row.team_name,
        refusal=_refusal(row, profile, person),
    )


def link_token_redeem(*, token: str, person: User) -> str:
    """Store the token's Slack member id on ``person`` (taking it off anyone else); returns the Slack id.

    One use only (row lock, ``used_at``). Raises LinkTokenInvalid for an
    unknown, used or expired token, and for a Slack account whose confirmed
    email (``users.info``, asked before the lock) is not ``person``'s: the
    token then stays unused, for its rightful owner.
    """
    row = SlackLinkToken.objects.filter(token_hash=token_hash(token)).first()
    profile = slack_profile(_usable(row).slack_user_id)  # a Slack call: outside the transaction
    with transaction.atomic():
        row = _usable(SlackLinkToken.objects.select_for_update().filter(token_hash=token_hash(token)).first())
        refusal = _refusal(row, profile, person)
        if refusal:
            logger.warning("slack link for %s refused to %s: email differs", row.slack_user_id, person.username)
            raise LinkTokenInvalid(refusal)
        row.used_at, row.used_by = timezone.now(), person
        row.save(update_fields=["used_at", "used_by"])
        User.objects.filter(slack_user_id=row.slack_user_id).exclude(pk=person.pk).update(slack_user_id="")
        User.objects.filter(pk=person.pk).update(slack_user_id=row.slack_user_id)
    return row.slack_user_id
