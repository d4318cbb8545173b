"""Celery tasks of the Slack app: thin wrappers over ``slackapp.inbound``."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="slack.inbound_handle", acks_late=True)
def inbound_handle_task(inbound_id: int) -> str:
    """Run the handler of recorded Slack request ``inbound_id`` once (``inbound.run``); returns its status.

    Database trouble leaves the row ``queued`` and returns "queued": the minute's sweep queues it again (its own
    retry, so its tasks start no retries of their own), and fails it once ``SREDESK_SLACK_GIVE_UP_SECONDS`` have
    passed since Slack sent it (``ledger.inbound_sweep``).
    """
    from sredesk import dbtrouble

    from . import inbound

    try:
        return inbound.run(inbound_id)
    except Exception as exc:
        if not dbtrouble.is_database_trouble(exc):
            raise
        logger.warning("slack inbound %s left for the sweep, database trouble: %s", inbound_id, exc)
        return "queued"


@shared_task(name="slack.inbound_sweep")
def inbound_sweep_task() -> dict[str, int]:
    """Beat entry (every minute): lost Slack requests queued again, too-old ones failed, old rows purged."""
    from . import ledger

    return ledger.inbound_sweep()


@shared_task(name="slack.inbound_receive", bind=True, acks_late=True, max_retries=None)
def inbound_receive_task(self, message: dict) -> str:
    """Record a Slack request the door handed over (``inbound.hand_over``) and run it once; returns its status.

    Database trouble (locked, down), in recording it or in its handler (``inbound.run``), is retried with the
    delivery backoff until ``SREDESK_SLACK_GIVE_UP_SECONDS`` after Slack sent it, however many tries that takes (no
    ``max_retries``: the give-up time bounds them); then the person is told nothing was done (``inbound.give_up``).
    A retried message shows what the first one showed of its argument (``inbound.message_repr``), never the payload.
    """
    from sredesk import dbtrouble

    from . import inbound

    if self.request.retries and inbound.retry_wait(message, attempts=1) is None:
        # The last try met database trouble and the give-up time has come: ``run`` would now only mark the request
        # too late, and the person would never hear of it.
        inbound.give_up(message, "database trouble until the give-up time")
        return "failed"
    try:
        return inbound.accept(message)
    except Exception as exc:
        if not dbtrouble.is_database_trouble(exc):
            raise
        wait = inbound.retry_wait(message, attempts=self.request.retries + 1)
        if wait is None:
            inbound.give_up(message, exc)
            return "failed"
        raise self.retry(exc=exc, countdown=wait, argsrepr=inbound.message_repr(message)) from exc
