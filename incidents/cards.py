"""An incident's live Slack message: one per (incident, conversation), posted once, then edited in place.

Slack hears of an incident through its card: the first announcement
(``incidents.effects``) owes a card to the owning team's channel and the
paged person (``cards_owe``); every later change of the incident (a lifecycle
move, severity, commander, title: anything that bumps ``Incident.version``)
makes the card stale, and a worker edits it (``chat.update``) so the message
always says where the incident stands, with the buttons that fit its status
(Acknowledge, Resolve, Add note, Open; their action ids are below, handled by
the Slack app's interactivity door).

Race safety: a card row is unique per (incident, address) and locked while
Slack is called, so two workers sending the first announcement post one
message; a worker that finds the card already at the incident's version does
nothing. The one window for a duplicate is the one every channel has
(``notifications.delivery``): Slack accepted the post, then the worker died
before its transaction committed the ``ts``.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from notifications.base import (
    Button,
    Message,
    NotifyError,
    NotifyPermanentError,
    NotifyRateLimited,
    NotifyTransientError,
    Posted,
    get_backend,
    slack_enabled,
)
from notifications.models import DeliveryBase
from notifications.problems import channel_failed, channel_reached

from . import alert_labels
from .models import Incident, IncidentCard

logger = logging.getLogger(__name__)

# The card's buttons (``action_id``s; the value is the incident's pk). The Slack app's handlers answer them.
ACK, RESOLVE, NOTE, OPEN = "incident.ack", "incident.resolve", "incident.note.open", "incident.open"

# Back-off of a card Slack did not take: 1, 2, 4 ... minutes, at most an hour (as other side effects).
RETRY_BASE, RETRY_MAX = timedelta(minutes=1), timedelta(hours=1)


def incident_url(incident: Incident) -> str:
    """The incident's page, absolute (``SREDESK_BASE_URL``)."""
    return settings.SREDESK_BASE_URL + reverse("incidents:detail", args=[incident.pk])


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def status_line(incident: Incident) -> str:
    """Where the incident stands, with who and when, e.g. ``Acknowledged by Ana Ops at 2026-12-05 10:02 UTC``.

    A re-opened incident keeps its first acknowledgement (``acknowledged_at``/``_by``, for MTTA): triggered with
    one, it was acknowledged before, and the line says so rather than that nobody ever did.
    """
    Status = Incident.Status
    who = f" by {incident.acknowledged_by}" if incident.acknowledged_by else ""
    if incident.status == Status.TRIGGERED:
        if incident.acknowledged_at is None:
            return "Triggered: nobody has acknowledged it yet"
        return (
            f"Triggered again: acknowledged{who} at {_when(incident.acknowledged_at)}, then re-opened; "
            "nobody has acknowledged it since"
        )
    if incident.status == Status.ACKNOWLEDGED:
        return f"Acknowledged{who} at {_when(incident.acknowledged_at)}"
    if incident.status == Status.MITIGATED:
        return f"Mitigated at {_when(incident.mitigated_at)}"
    return f"Resolved at {_when(incident.resolved_at)}"


def card_buttons(incident: Incident) -> tuple[Button, ...]:
    """The buttons that fit the incident's status: Acknowledge while it needs acknowledging
    (``Incident.needs_acknowledgement``, the rule escalation and the dashboard use), Resolve until resolved,
    always Add note and Open."""
    value = str(incident.pk)
    buttons = []
    if incident.needs_acknowledgement:
        buttons.append(Button("Acknowledge", ACK, value, style="primary"))
    if incident.status != Incident.Status.RESOLVED:
        buttons.append(Button("Resolve", RESOLVE, value, confirm=f"Resolve {incident.public_id} now?"))
    buttons += [Button("Add note", NOTE, value), Button("Open", OPEN, value, url=incident_url(incident))]
    return tuple(buttons)


def card_message(incident: Incident, address: str) -> Message:
    """The card as it should read now: headline, status, roles and firing alerts, and its buttons."""
    headline = f"{incident.public_id} ({incident.get_severity_display()}) {incident.title}"
    lines = [headline, status_line(incident)]
    roles = [f"Commander: {incident.commander or 'nobody yet'}"]
    if incident.primary_service_id:
        roles.append(f"Service: {incident.primary_service.name}")
    if incident.owning_team_id:
        roles.append(f"Team: {incident.owning_team.name}")
    lines.append(" · ".join(roles))
    alerts = alert_labels.firing_alerts_line(incident.pk) if incident.integration_id else ""
    if alerts:
        lines.append(f"Firing: {alerts}")
    return Message(
        address=address,
        subject=headline,
        text="\n".join(lines),
        url=incident_url(incident),
        dedup_key=f"incident-card:{incident.pk}:{address}",
        buttons=card_buttons(incident),
    )


def cards_owe(incident: Incident, addresses: list[str]) -> bool:
    """Record, in the caller's transaction, that ``incident`` has a card in each Slack conversation of
    ``addresses`` (blanks ignored; one row per address, whoever races). A card Slack refused for good is
    tried again. Returns whether any card is owed (False when Slack is off); the caller queues ``cards_sync``.
    """
    addresses = [a for a in dict.fromkeys(addresses) if a]
    if not addresses or not slack_enabled():
        return False
    IncidentCard.objects.bulk_create(
        [IncidentCard(incident_id=incident.pk, address=a) for a in addresses], ignore_conflicts=True
    )
    IncidentCard.objects.filter(incident_id=incident.pk, address__in=addresses, failed_at__isnull=False).update(
        failed_at=None, attempts=0, next_attempt_at=timezone.now()
    )
    return True


def cards_sync(incident_id: int) -> bool:
    """Post or edit each stale card of the incident; True if Slack was called successfully for any.

    Idempotent: a card already at the incident's version is left alone. A
    failure is recorded on its card (``last_error``; ``next_attempt_at`` after
    the Retry-After of a 429, else a back-off; ``failed_at`` for a refusal that
    retrying cannot fix) and never raised: the sweep tries again.
    """
    card_ids = IncidentCard.objects.filter(incident_id=incident_id, failed_at__isnull=True).values_list("pk", flat=True)
    synced = False
    for card_id in card_ids:
        synced = _sync_one(card_id) or synced
    return synced


def _sync_one(card_id: int) -> bool:
    backend = get_backend("slack")
    with transaction.atomic():
        card = IncidentCard.objects.select_for_update().filter(pk=card_id, failed_at__isnull=True).first()
        if card is None:
            return False
        incident = Incident.objects.select_related(
            "owning_team", "commander", "acknowledged_by", "primary_service"
        ).get(pk=card.incident_id)
        if card.ts and card.synced_version >= incident.version:
            return False
        message = card_message(incident, card.address)
        now = timezone.now()
        method = "chat.update" if card.ts else "chat.postMessage"
        try:
            if card.ts:
                backend.update(message, posted=Posted(conversation=card.conversation, ref=card.ts))
            else:
                posted = backend.post(message)
                card.conversation, card.ts = posted.conversation, posted.ref
        except (NotifyPermanentError, NotifyTransientError) as exc:
            # As every outbound Slack message: kept for the health view, and an error a person must fix
            # (not_in_channel, invalid_auth...) made a visible problem of the team or person (notifications.problems).
            channel_failed(DeliveryBase.Channel.SLACK, card.address, exc, method=method)
            _failed(card, incident, exc, now)
        else:
            channel_reached(DeliveryBase.Channel.SLACK, card.address)
            card.synced_version, card.synced_at, card.attempts, card.last_error = incident.version, now, 0, ""
        card.save()
        return card.synced_at == now


def _failed(card: IncidentCard, incident: Incident, exc: NotifyError, now: datetime) -> None:
    """Keep Slack's refusal on the card: for good (``failed_at``), or tried again after a back-off or Retry-After."""
    if isinstance(exc, NotifyPermanentError):
        card.failed_at, card.last_error = now, str(exc)
        logger.error("Slack refused the card of %s for good: %s", incident.public_id, exc)
        return
    card.attempts += 1
    wait = (
        timedelta(seconds=exc.retry_after)
        if isinstance(exc, NotifyRateLimited)
        else min(RETRY_BASE * 2 ** (card.attempts - 1), RETRY_MAX)
    )
    card.next_attempt_at, card.last_error = now + wait, str(exc)
    logger.warning("Card of %s not sent, retried in %s: %s", incident.public_id, wait, exc)


def cards_pending(now: datetime, limit: int) -> list[int]:
    """Incidents (ids) with a card owed a post or an edit and due for an attempt: the sweep's list."""
    stale = Q(ts="") | Q(synced_version__lt=F("incident__version"))
    return list(
        IncidentCard.objects.filter(stale, failed_at__isnull=True, next_attempt_at__lte=now)
        .order_by("incident_id")
        .values_list("incident_id", flat=True)
        .distinct()[:limit]
    )


def cards_pending_count() -> int:
    """Cards owed a post or an edit (failing ones included, refused ones not), for ``/metrics``."""
    stale = Q(ts="") | Q(synced_version__lt=F("incident__version"))
    return IncidentCard.objects.filter(stale, failed_at__isnull=True).count()


def card_for_message(conversation: str, ts: str) -> IncidentCard | None:
    """The card that is the Slack message ``ts`` in ``conversation`` (what a button click names), or None."""
    return IncidentCard.objects.filter(conversation=conversation, ts=ts).first()
