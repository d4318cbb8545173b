"""Webhook receipts: what one delivery did, stored with it in the delivery's transaction, and their retention.

Every delivery's raw body is kept as a ``WebhookDelivery`` row (the receipt)
with its outcome and answer, so a delivery can be audited and replayed once a
parser is fixed. ``retrying`` applies a parsed delivery and stores its receipt
in ONE transaction, so a delivery is either applied whole or not at all.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from sredesk import sql

from ..models import WebhookDelivery, public_id_for

logger = logging.getLogger(__name__)

Outcome = WebhookDelivery.Outcome


@dataclass
class IngestResult:
    """What one delivery did; the webhook's JSON answer and the receipt's ``result``."""

    outcome: str
    new: int = 0
    repeated: int = 0
    resolved: int = 0
    orphan: int = 0
    stale: int = 0
    incidents: list[str] = field(default_factory=list)
    note: str = ""

    def as_dict(self) -> dict:
        data = {
            "outcome": self.outcome,
            "alerts": {
                "new": self.new,
                "repeated": self.repeated,
                "resolved": self.resolved,
                "orphan": self.orphan,
                "stale": self.stale,
            },
            "incidents": self.incidents,
        }
        if self.note:
            data["note"] = self.note
        return data


def public_ids(incident_ids) -> list[str]:
    """The answer's ``incidents``: each incident id once (None skipped), in order, as ``INC-<n>``."""
    return [public_id_for(pk) for pk in sorted({pk for pk in incident_ids if pk})]


RECEIPT_FIELDS = ("integration_id", "received_at", "body", "headers", "outcome", "error", "result", "event_id")


def save_receipt(delivery: WebhookDelivery, result: IngestResult) -> None:
    """Store the receipt with its outcome and answer in ONE statement, the INSERT here (``sredesk.sql``).

    Nothing is written when the delivery's own statement stored it already: a
    plain repeat's slot UPDATE carries its receipt (``matching.update_firing_slots``).
    """
    if delivery.pk is not None:
        return  # stored by the one-statement path, with this outcome
    delivery.outcome = result.outcome
    delivery.result = result.as_dict()
    delivery.error = result.note if result.outcome in (Outcome.IGNORED, Outcome.ORPHAN) else ""
    row = {name: getattr(delivery, name) for name in RECEIPT_FIELDS}
    [delivery.pk] = sql.insert(WebhookDelivery, [row], returning="id")
    delivery._state.adding = False


# PostgreSQL SQLSTATEs worth one more try: deadlock_detected, serialization_failure.
RETRYABLE_SQLSTATES = {"40P01", "40001"}


def _collided(exc: Exception) -> bool:
    """A concurrent delivery got there first: a unique constraint, or a deadlock PostgreSQL broke."""
    if isinstance(exc, IntegrityError):
        return True
    return isinstance(exc, OperationalError) and getattr(exc.__cause__, "sqlstate", None) in RETRYABLE_SQLSTATES


def retrying(apply, delivery: WebhookDelivery) -> IngestResult:
    """Run ``apply()`` and save the receipt in one transaction; after a collision retry once in a fresh one.

    A collision (IntegrityError) is a concurrent delivery that created the same
    alert or the same open group incident first; by the retry its rows are
    committed, so the retry sees them and treats them as repeats. The rolled
    back attempt's on-commit announcements are discarded with it.
    """
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                result = apply()
                save_receipt(delivery, result)
            return result
        except (IntegrityError, OperationalError) as exc:
            delivery.pk = None
            delivery._state.adding = True
            if attempt == 2 or not _collided(exc):
                raise
            logger.info(
                "Alert delivery collided with a concurrent one; retrying once",
                extra={"integration_id": delivery.integration_id, "error": str(exc)},
            )
    raise AssertionError("unreachable")


def webhook_deliveries_purge(*, now: datetime | None = None) -> int:
    """Delete webhook receipts older than ``SREDESK_WEBHOOK_RETENTION_DAYS``. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SREDESK_WEBHOOK_RETENTION_DAYS)
    deleted, _ = WebhookDelivery.objects.filter(received_at__lt=cutoff).delete()
    if deleted:
        logger.info("Old webhook receipts deleted", extra={"deleted": deleted, "before": cutoff.isoformat()})
    return deleted
