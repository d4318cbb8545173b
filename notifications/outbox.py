"""Outbox backend: writes the message to the database and the log.

This is the embedded default's only channel and every deployment's record of
what was said. Writing is idempotent per ``Message.dedup_key``.
"""

import logging
import uuid

from .base import Message
from .models import OutboxMessage

logger = logging.getLogger(__name__)


class OutboxBackend:
    def send(self, message: Message) -> str:
        defaults = {
            "recipient": message.address,
            "subject": message.subject[:300],
            "text": message.text,
            "url": message.url,
        }
        key = message.dedup_key or f"adhoc:{uuid.uuid4()}"
        row, created = OutboxMessage.objects.get_or_create(dedup_key=key, defaults=defaults)
        if created:
            logger.info("notification to %s: %s", message.address, message.text, extra={"outbox_id": row.pk})
        return str(row.pk)
