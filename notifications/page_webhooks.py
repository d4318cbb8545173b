"""Set, rotate and remove page webhooks (``PageWebhook``): the one write of the profile page, the API and the admin.

A person's webhook is theirs (and staff's) to change; a team's is its members' and staff's
(``ownership.permissions.may_write_page_webhook``). The URL is checked where it enters
(``notifications.webhook.webhook_url_check``). The signing secret is made here (256 random bits), returned once
by the call that makes it (creation, rotation) and never shown again.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.http import HttpResponseBase
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from ownership.models import Team, User
from ownership.permissions import require_write
from sredesk.tokens import secret_decrypt, secret_encrypt

from .models import Notification, PageWebhook
from .webhook import webhook_url_check


def _new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def page_webhook_set(*, actor: User | None, url: str, user: User | None = None, team: Team | None = None,
                     now: dt.datetime | None = None) -> tuple[PageWebhook, str | None]:  # fmt: skip
    """Give ``user`` or ``team`` (exactly one) a page webhook at ``url``, or move theirs there.

    Returns (webhook, secret): the secret only when the webhook is new (show it once; it is not stored in
    clear), else None (the old secret keeps signing). Raises InputError (field ``url``) for a URL pages may
    not go to, PermissionDenied for an actor who may not change it.
    """
    if (user is None) == (team is None):
        raise ValueError("a page webhook belongs to a person or a team")
    probe = PageWebhook(user=user, team=team)
    require_write(actor, probe)
    url = webhook_url_check(url)
    with transaction.atomic():
        owner = {"user": user} if user is not None else {"team": team}
        # The owner's row, locked: two requests at once make one webhook (the second finds it, and moves it).
        (User if user is not None else Team).objects.select_for_update().filter(pk=(user or team).pk).first()
        hook = PageWebhook.objects.filter(**owner).first()
        if hook is not None:
            if hook.url != url:
                hook.url = url
                hook.save(update_fields=["url"])
            return hook, None
        secret = _new_secret()
        hook = PageWebhook.objects.create(
            url=url, secret_encrypted=secret_encrypt(secret), created_at=now or timezone.now(), **owner
        )
    return hook, secret


def page_webhook_rotate(*, actor: User | None, webhook: PageWebhook, now: dt.datetime | None = None) -> str:
    """A new secret for ``webhook``, returned once; the old one keeps signing beside it for
    ``SREDESK_PAGE_WEBHOOK_ROTATION_GRACE_SECONDS`` (two ``v1=`` in the header), then stops."""
    require_write(actor, webhook)
    now = now or timezone.now()
    secret = _new_secret()
    grace = dt.timedelta(seconds=settings.SREDESK_PAGE_WEBHOOK_ROTATION_GRACE_SECONDS)
    with transaction.atomic():
        hook = PageWebhook.objects.select_for_update().get(pk=webhook.pk)
        hook.previous_secret_encrypted = hook.secret_encrypted
        hook.previous_valid_until = now + grace
        hook.secret_encrypted = secret_encrypt(secret)
        hook.rotated_at = now
        hook.save(update_fields=["previous_secret_encrypted", "previous_valid_until", "secret_encrypted", "rotated_at"])
    webhook.refresh_from_db()
    return secret


def page_webhook_delete(*, actor: User | None, webhook: PageWebhook) -> None:
    """Remove ``webhook``: pages stop going there; its pending deliveries fail, saying it was removed."""
    require_write(actor, webhook)
    webhook.delete()


def page_webhook_secrets(webhook: PageWebhook, *, now: dt.datetime | None = None) -> list[str]:
    """The secrets that sign a request now: the current one, then the previous one while it is still valid."""
    now = now or timezone.now()
    out = [secret_decrypt(webhook.secret_encrypted)]
    if webhook.previous_secret_encrypted and webhook.previous_valid_until and webhook.previous_valid_until > now:
        out.append(secret_decrypt(webhook.previous_secret_encrypted))
    return out


def secret_answer(response: HttpResponseBase) -> HttpResponseBase:
    """``response``, which shows a signing secret, marked for no browser or proxy to keep (``no-store``)."""
    add_never_cache_headers(response)
    return response


def page_webhook_of(person: User) -> PageWebhook | None:
    """``person``'s own page webhook, or None."""
    return PageWebhook.objects.filter(user=person).first()


def page_webhook_deliveries(webhook: PageWebhook, *, limit: int = 5) -> list[Notification]:
    """The latest deliveries to ``webhook`` (newest first): status, attempts and the last error, for its owner."""
    return page_webhooks_deliveries([webhook], limit=limit)[webhook.pk]


def page_webhooks_deliveries(webhooks: Iterable[PageWebhook], *, limit: int = 5) -> dict[int, list[Notification]]:
    """{webhook id: its latest ``limit`` deliveries, newest first} for every webhook given, in one query whatever
    their number (a webhook with none maps to []). Deliveries are found by address (``webhook:<id>``)."""
    by_address = {hook.address: hook.pk for hook in webhooks}
    found: dict[int, list[Notification]] = {pk: [] for pk in by_address.values()}
    if not by_address:
        return found
    newest_first = [F("created_at").desc(), F("id").desc()]
    rows = (
        Notification.objects.filter(channel=Notification.Channel.WEBHOOK, address__in=by_address)
        .annotate(rank=Window(RowNumber(), partition_by=F("address"), order_by=newest_first))
        .filter(rank__lte=limit)
        .order_by("address", *newest_first)
    )
    for row in rows:
        found[by_address[row.address]].append(row)
    return found
