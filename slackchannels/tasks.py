"""Celery tasks of incident channels: thin wrappers over ``slackchannels.services``.

Channel set-up itself runs as the ``incident_channel`` side effect (``incidents.side_effect``).
"""

from celery import shared_task


@shared_task(name="slackchannels.archive_due")
def channels_archive_due_task() -> int:
    """Beat entry: archive incident channels whose post-mortem completed their team's days ago (each once)."""
    from .services import channels_archive_due

    return channels_archive_due()
