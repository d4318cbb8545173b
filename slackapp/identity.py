"""Who a Slack user is in sredesk: the stored Slack member id, else the verified Slack email, else nobody yet.

A person is found by ``User.slack_user_id``; failing that (and only in a
worker: it is a Slack call) by the email Slack has *confirmed* for the user
(``users.info``: ``user.is_email_confirmed`` and ``user.profile.email``),
matched case-insensitively to exactly one active person who has no other
Slack id; the id is then stored, so the lookup happens once. Someone still
unknown is sent a one-time link (``link_token_issue``) that, opened while
signed in to sredesk, stores the Slack id on that person (``link_token_redeem``).
"""

import logging
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

logger = logging.getLogger(__name__)


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
    try:
        user = slack_client().users_info(user=slack_user_id)["user"]
    except (SlackClientError, OSError, KeyError) as exc:
        logger.info("slack users.info failed for %s: %s", slack_user_id, exc)
        return None
    profile = user.get("profile") or {}
    email = str(profile.get("email") or "").strip()
    if not email or user.get("is_email_confirmed") is not True or user.get("deleted") or user.get("is_bot"):
        return None
    candidates = list(User.objects.filter(email__iexact=email, is_active=True).order_by("pk")[:2])
    if len(candidates) != 1 or candidates[0].slack_user_id not in ("", slack_user_id):
        return None  # nobody, two people, or someone tied to another Slack account: the person links by hand
    person = candidates[0]
    User.objects.filter(pk=person.pk, slack_user_id="").update(slack_user_id=slack_user_id)
    person.slack_user_id = slack_user_id
    logger.info("slack user %s mapped to %s by confirmed email", slack_user_id, person.username)
    return person


def link_token_issue(slack_user_id: str, team_id: str = "") -> str:
    """A fresh one-time link (absolute URL) that ties ``slack_user_id`` to whoever opens it signed in."""
    token, digest = new_token("sdsl")
    SlackLinkToken.objects.create(
        token_hash=digest,
        slack_user_id=slack_user_id,
        team_id=team_id,
        expires_at=timezone.now() + timedelta(seconds=settings.SREDESK_SLACK_LINK_MAX_AGE_SECONDS),
    )
    return settings.SREDESK_BASE_URL + reverse("slackapp:link", args=[quote(token, safe="")])


def link_message(slack_user_id: str, team_id: str = "") -> str:
    """The ephemeral sentence for a Slack user sredesk cannot map, with a fresh one-time link."""
    url = link_token_issue(slack_user_id, team_id)
    hours = settings.SREDESK_SLACK_LINK_MAX_AGE_SECONDS / 3600
    return (
        "sredesk does not know who you are in Slack yet. "
        f"<{url}|Link your Slack account> (sign in to sredesk; the link works once, for {hours:g} h), then try again."
    )


class LinkTokenInvalid(Exception):
    """The link is unknown, used already or expired: ``message`` says which and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def link_token_redeem(*, token: str, person: User) -> str:
    """Store the token's Slack member id on ``person`` (taking it off anyone else); returns the Slack id.

    One use only (row lock, ``used_at``). Raises LinkTokenInvalid for an
    unknown, used or expired token.
    """
    row = SlackLinkToken.objects.select_for_update().filter(token_hash=token_hash(token)).first()
    again = f"Run {settings.SREDESK_SLACK_COMMAND} in Slack again for a new link."
    if row is None:
        raise LinkTokenInvalid(f"This Slack link is not valid. {again}")
    if row.used_at is not None:
        raise LinkTokenInvalid(f"This Slack link was used already. {again}")
    if row.expires_at <= timezone.now():
        raise LinkTokenInvalid(f"This Slack link has expired. {again}")
    row.used_at, row.used_by = timezone.now(), person
    row.save(update_fields=["used_at", "used_by"])
    User.objects.filter(slack_user_id=row.slack_user_id).exclude(pk=person.pk).update(slack_user_id="")
    User.objects.filter(pk=person.pk).update(slack_user_id=row.slack_user_id)
    return row.slack_user_id
