"""Celery tasks of the incidents app: thin wrappers over ``incidents.ingest``."""

from celery import shared_task

from . import ingest


@shared_task(name="incidents.webhook_deliveries_purge")
def webhook_deliveries_purge_task() -> int:
    """Beat entry: delete raw webhook receipts older than ``SREDESK_WEBHOOK_RETENTION_DAYS``."""
    return ingest.webhook_deliveries_purge()
