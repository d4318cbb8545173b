"""Celery tasks of the incidents app: thin wrappers over ``incidents.ingest.receipts`` and ``incidents.effects``."""

from celery import shared_task

from .ingest import receipts


@shared_task(name="incidents.webhook_deliveries_purge")
def webhook_deliveries_purge_task() -> int:
    """Beat entry: delete raw webhook receipts older than ``SREDESK_WEBHOOK_RETENTION_DAYS``."""
    return receipts.webhook_deliveries_purge()


@shared_task(name="incidents.side_effect", acks_late=True)
def side_effect_task(kind: str, target_id: int) -> bool:
    """Do one owed side effect after commit (``effects.side_effect_run``: an announcement, a post-mortem draft);
    a no-op if it is done already. Never raises for the effect's own failure: that is recorded and retried."""
    from . import effects

    return effects.side_effect_run(kind, target_id)


@shared_task(name="incidents.side_effects_recover")
def side_effects_recover_task() -> int:
    """Beat entry: queue again the side effects still owed (lost task, broker outage, back-off over)."""
    from . import effects

    return effects.side_effects_recover()
