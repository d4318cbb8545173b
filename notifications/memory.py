"""In-memory backend for unit tests: messages collect in ``outbox``, like ``django.core.mail.outbox``."""

from .base import Message

outbox: list[Message] = []


class MemoryBackend:
    def send(self, message: Message) -> str:
        outbox.append(message)
        return str(len(outbox))
