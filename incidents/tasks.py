"""Celery tasks of the incidents app: thin wrappers over ``incidents.ingest.receipts`` and ``incidents.services``."""

from celery import shared_task

from .ingest import receipts


@shared_task(name="incidents.webhook_deliveries_purge")
def webhook_deliveries_purge_task() -> int:
    """Beat entry: delete raw webhook receipts older than ``SREDESK_WEBHOOK_RETENTION_DAYS``."""
    return receipts.webhook_deliveries_purge()


@shared_task(name="incidents.announce", acks_late=True)
def incident_announce_task(event_id: int) -> bool:
    """Announce one timeline event (declared, escalated, resolved, re-opened); a no-op if already sent."""
    from . import services

    return services.incident_announce(event_id)


@shared_task(name="incidents.announcements_recover")
def announcements_recover_task() -> int:
    """Beat entry: re-queue announcements whose task was lost; returns how many."""
    from . import services

    return services.announcements_recover()
