"""Where a message to one person goes: the one rule reminders plan by, and profiles show.

Everyone has the database outbox (``user:<username>``). Slack direct messages
need a bot token (``SLACK_BOT_TOKEN``) and the person's Slack member id; email
needs a mail server (``EMAIL_URL``) and an address. When Slack is on but the
person has no Slack id, Slack cannot reach them directly, so reminders to them
also go to their team's channel (``postmortems.reminders``). When a message may
be sent is the other half, their working hours (``ownership.hours``).
"""

from dataclasses import dataclass

from django.db.models import Q

from .base import email_enabled, slack_enabled
from .models import DeliveryBase

Channel = DeliveryBase.Channel


@dataclass(frozen=True)
class Reach:
    """How a person is reached.

    ``channels``: (channel, address) pairs a message to them goes to, outbox first.
    ``team_channel_instead``: Slack is on but cannot message them directly, so their team's channel is told.
    ``gaps``: one sentence per channel that does not reach them, saying why and what would fix it.
    """

    channels: tuple[tuple[str, str], ...]
    team_channel_instead: bool
    gaps: tuple[str, ...]


def person_reach(person) -> Reach:
    """Where a message to ``person`` (a ``User``) goes now, with the current Slack and email configuration."""
    channels = [(Channel.OUTBOX, f"user:{person.username}")]
    gaps = []
    if not slack_enabled():
        gaps.append("Slack: this sredesk has no Slack bot token (SLACK_BOT_TOKEN), so it sends nobody Slack messages.")
    elif person.slack_user_id:
        channels.append((Channel.SLACK, person.slack_user_id))
    else:
        gaps.append("Slack: no Slack member id, so reminders go to your team's Slack channel instead of to you.")
    if not email_enabled():
        gaps.append("Email: this sredesk has no mail server (EMAIL_URL), so it sends nobody email.")
    elif person.email:
        channels.append((Channel.EMAIL, person.email))
    else:
        gaps.append("Email: no email address.")
    return Reach(
        channels=tuple(channels),
        team_channel_instead=slack_enabled() and not person.slack_user_id,
        gaps=tuple(gaps),
    )


def reached_beyond_outbox() -> Q:
    """``person_reach`` as a filter on people: those a configured channel (Slack DM, email) reaches besides the outbox.

    Matches nobody when neither Slack nor email is configured (the embedded default).
    """
    reached = Q(pk__in=[])
    if slack_enabled():
        reached |= ~Q(slack_user_id="")
    if email_enabled():
        reached |= ~Q(email="")
    return reached
