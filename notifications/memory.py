"""In-memory backend for unit tests: messages collect in ``outbox``, like ``django.core.mail.outbox``.

Edits in place (``update``) collect in ``updates`` as (where, new message) pairs.
"""

from .base import Message, Posted

outbox: list[Message] = []
updates: list[tuple[Posted, Message]] = []


class MemoryBackend:
    def send(self, message: Message) -> str:
        return self.post(message).ref

    def post(self, message: Message) -> Posted:
        outbox.append(message)
        return Posted(conversation=message.address, ref=str(len(outbox)))

    def update(self, message: Message, *, posted: Posted) -> None:
        updates.append((posted, message))
