"""Celery tasks of the Slack app: thin wrappers over ``slackapp.inbound``."""

from celery import shared_task


@shared_task(name="slack.inbound_handle", acks_late=True)
def inbound_handle_task(inbound_id: int) -> str:
    """Run the handler of recorded Slack request ``inbound_id`` once (``inbound.run``); returns its status."""
    from . import inbound

    return inbound.run(inbound_id)


@shared_task(name="slack.inbound_sweep")
def inbound_sweep_task() -> dict[str, int]:
    """Beat entry (every minute): lost Slack requests queued again, too-old ones failed, old rows purged."""
    from . import ledger

    return ledger.inbound_sweep()
