"""How pages reach a person: their contact rules (which channels, after how many minutes), the one place paging asks.

``page_channels(person)`` is the answer every door uses: escalation's pages (``oncall.escalation``), the test
page (``page_test_send``), the profile page and ``GET /api/v1/me/contact-rules/``. It gives:

* the outbox (``user:<username>``) at 0 minutes, always (the record of what was said);
* each of the person's ``ContactRule`` rows whose channel reaches them now: a Slack direct message (a bot token
  is configured and they have a Slack member id), email (a mail server and an address), their page webhook;
* with no rule, or no rule that reaches them, the defaults: every channel that reaches them, at 0 minutes
  (so a page is never left in the outbox alone because a rule names a channel that is gone).

A delayed channel is planned with the page and waits on its delivery row (``not_before``); the page is
skipped there if its incident is no longer ``triggered`` when the wait ends (``notifications.services``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ownership.models import User
from ownership.permissions import require_write
from sredesk.exceptions import TooSoon
from sredesk.inputs import InputError, parse_int

from .base import email_enabled, slack_enabled
from .models import ContactRule, Notification, PageWebhook
from .services import TEST_PAGE_PREFIX, notify

Channel = Notification.Channel
MAX_DELAY_MINUTES = 1440
DELAY_REQUIRED = "Required: the minutes after the page, 0 to 1440 (0: at once)."
TEST_PAGE_INTERVAL = dt.timedelta(seconds=60)  # at most one test page per person in this time


@dataclass(frozen=True)
class Route:
    """One channel of a page: where (``channel``, ``address``) and when (``delay_minutes`` after the page)."""

    channel: str
    address: str
    delay_minutes: int


@dataclass(frozen=True)
class PagePlan:
    """How a page reaches a person: ``routes`` (outbox first, then by delay); ``from_rules`` False when the
    defaults apply; ``gaps``: one sentence per rule that does not reach them now, saying why."""

    routes: tuple[Route, ...]
    from_rules: bool
    gaps: tuple[str, ...]


def _address(person: User, channel: str, webhook: PageWebhook | None) -> tuple[str, str]:
    """(address, "") when ``channel`` reaches ``person`` now, else ("", why not)."""
    if channel == Channel.SLACK:
        if not slack_enabled():
            return "", "Slack: this sredesk has no Slack bot token (SLACK_BOT_TOKEN)."
        if not person.slack_user_id:
            return "", "Slack: no Slack member id on your profile."
        return person.slack_user_id, ""
    if channel == Channel.EMAIL:
        if not email_enabled():
            return "", "Email: this sredesk has no mail server (EMAIL_URL)."
        return (person.email, "") if person.email else ("", "Email: no email address on your profile.")
    return (webhook.address, "") if webhook else ("", "Webhook: you have no page webhook.")


def page_channels(person: User) -> PagePlan:
    """Which channels a page to ``person`` goes to, at what delay (see the module docstring). Two queries."""
    rules = list(ContactRule.objects.filter(user=person).order_by("delay_minutes", "channel"))
    webhook = PageWebhook.objects.filter(user=person).first()
    outbox = Route(Channel.OUTBOX, f"user:{person.username}", 0)
    routes, gaps = [], []
    for rule in rules:
        address, why = _address(person, rule.channel, webhook)
        if address:
            routes.append(Route(rule.channel, address, rule.delay_minutes))
        else:
            gaps.append(f"{why} Your rule ({rule.delay_minutes} min) cannot reach you.")
    if routes:
        return PagePlan((outbox, *routes), True, tuple(gaps))
    defaults = []
    for channel in (Channel.SLACK, Channel.EMAIL, Channel.WEBHOOK):
        address, _ = _address(person, channel, webhook)
        if address:
            defaults.append(Route(channel, address, 0))
    if rules:
        gaps.append("None of your rules reaches you now, so pages use every channel that does, at once.")
    return PagePlan((outbox, *defaults), False, tuple(gaps))


def contact_rules_count_check(rules: object) -> None:
    """Raise InputError (field ``rules``) unless ``rules`` is a list of at most one rule per channel: checked
    before any item is looked at, so a list of a million costs nothing."""
    if not isinstance(rules, list):
        raise InputError("rules", "Give a list of {channel, delay_minutes}.")
    if len(rules) > len(ContactRule.PageChannel.values):
        raise InputError("rules", f"At most {len(ContactRule.PageChannel.values)} rules: one per channel.")


def contact_rules_set(*, actor: User | None, person: User, rules: list) -> list[ContactRule]:
    """Replace ``person``'s contact rules with ``rules``: a list of ``{"channel": ..., "delay_minutes": ...}``.

    Channels: ``slack``, ``email``, ``webhook``, each at most once (``contact_rules_count_check``); delays 0 to
    1440 minutes (strict integers), required in every rule (missing or null is refused, never read as 0; the
    profile form leaves a channel with a blank delay out instead).
    An empty list goes back to the defaults. Raises InputError naming ``rules.<i>.<field>`` (nothing stored),
    PermissionDenied unless ``actor`` is the person or staff.
    """
    require_write(actor, ContactRule(user=person))
    contact_rules_count_check(rules)
    clean: dict[str, int] = {}
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or set(rule) - {"channel", "delay_minutes"}:
            raise InputError(f"rules.{i}", "Give {channel, delay_minutes} and nothing else.")
        channel = rule.get("channel")
        if channel not in ContactRule.PageChannel.values:
            raise InputError(f"rules.{i}.channel", f"One of: {', '.join(ContactRule.PageChannel.values)}.")
        if channel in clean:
            raise InputError(f"rules.{i}.channel", "Name each channel once.")
        if rule.get("delay_minutes") is None:  # not "at once": a channel meant for later must not wake anyone now
            raise InputError(f"rules.{i}.delay_minutes", DELAY_REQUIRED, code="required")
        clean[channel] = parse_int(rule["delay_minutes"], field=f"rules.{i}.delay_minutes", min_value=0,
                                   max_value=MAX_DELAY_MINUTES)  # fmt: skip
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=person.pk).first()  # two saves at once: the last one wins whole
        ContactRule.objects.filter(user=person).delete()
        ContactRule.objects.bulk_create(
            [ContactRule(user=person, channel=c, delay_minutes=d) for c, d in clean.items()]
        )
    return list(ContactRule.objects.filter(user=person))


def page_routes(plan: PagePlan) -> list[tuple[str, str, float]]:
    """``plan``'s routes as ``notifications.services.notify`` takes them: (channel, address, delay seconds)."""
    return [(r.channel, r.address, r.delay_minutes * 60.0) for r in plan.routes]


def page_test_send(*, actor: User | None, person: User, now: dt.datetime | None = None) -> PagePlan:
    """Page ``person`` alone, through their contact rules, marked as a test (webhook JSON ``"test": true``).

    At most once per person per ``TEST_PAGE_INTERVAL`` (60 s) counted from their last test page: a double
    click, or two requests at once, send one (the person's row is locked while the last one is looked up and
    the new one planned). Returns the plan used. Raises ``TooSoon`` (``retry_at``: the last test page's time
    plus the interval, UTC) when nothing was sent, ``PermissionDenied`` when ``actor`` may not page ``person``.
    """
    require_write(actor, ContactRule(user=person))
    now = now or timezone.now()
    plan = page_channels(person)
    when = ", ".join(f"{r.channel} at {r.delay_minutes} min" for r in plan.routes)
    prefix = f"{TEST_PAGE_PREFIX}{person.pk}:"
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=person.pk).first()  # two clicks at once: one after the other
        recent = Notification.objects.filter(dedup_key__startswith=prefix, created_at__gt=now - TEST_PAGE_INTERVAL)
        last = recent.order_by("-created_at").values_list("created_at", flat=True).first()
        if last is not None:
            retry_at = (last + TEST_PAGE_INTERVAL).astimezone(dt.UTC)
            raise TooSoon(
                f"No test page was sent: one a minute per person; the next is allowed from {retry_at:%H:%M:%S} UTC.",
                retry_at=retry_at,
            )
        notify(
            key=f"{prefix}{now:%Y%m%dT%H%M%S}", topic="test page",
            subject=f"Test page for {person} (nothing is wrong)",
            text=f"This is the test page you asked for: nothing is wrong. It reaches you through: {when}.",
            url="", slack=[], outbox=[], routes=page_routes(plan),
        )  # fmt: skip
    return plan
