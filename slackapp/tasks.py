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


@shared_task(name="slack.inbound_receive", bind=True, acks_late=True, max_retries=None)
def inbound_receive_task(self, message: dict) -> str:
    """Record a Slack request the door handed over (``inbound.hand_over``) and run it once; returns its status.

    Database trouble (locked, down) is retried with the delivery backoff until ``SREDESK_SLACK_GIVE_UP_SECONDS``
    after Slack sent it, however many tries that takes (no ``max_retries``: the give-up time bounds them); then the
    person is told nothing was done (``inbound.give_up``). A retried message shows what the first one showed of
    its argument (``inbound.message_repr``), never the payload.
    """
    from sredesk import dbtrouble

    from . import inbound

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
