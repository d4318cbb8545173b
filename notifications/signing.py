"""The signature on sredesk's outgoing page webhooks, and how a receiver checks it.

Every POST carries::

    X-Sredesk-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]
    X-Sredesk-Delivery: <delivery id>       (the same on every retry of one delivery)

``<hex>`` is the lower-case hex HMAC-SHA256, keyed with the webhook's secret (the text sredesk showed once,
as UTF-8 bytes), of the ASCII bytes ``<t>.`` followed by the raw request body exactly as received (before any
JSON parsing). While a rotated-out secret is still valid (``SREDESK_PAGE_WEBHOOK_ROTATION_GRACE_SECONDS``)
the header carries one ``v1=`` per secret, the new one first; a receiver accepts the request when any of them
matches its secret. A receiver should also refuse a ``t`` further than a few minutes from its clock (replay);
``verify`` does both, with a constant-time comparison. Within those minutes a captured request can be sent
again: deduplicate on the body's ``delivery`` (signed), not on the header alone (which is not signed and a
replayer can change).
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Sredesk-Signature"
DELIVERY_HEADER = "X-Sredesk-Delivery"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``b"<timestamp>." + body`` keyed with ``secret`` (UTF-8)."""
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    """The ``X-Sredesk-Signature`` value: ``t=<timestamp>`` then one ``v1=`` per secret, in order."""
    return ",".join([f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets)])


def verify(header: str, body: bytes, secret: str, *, now: float, tolerance: float = TOLERANCE_SECONDS) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` at a time within ``tolerance`` seconds of ``now``.

    For receivers (and sredesk's own tests): False for a malformed header, a stale or future ``t``, or no
    matching ``v1``.
    """
    parts = [p.partition("=") for p in header.split(",")]
    stamps = [value for key, _, value in parts if key.strip() == "t"]
    stamp = stamps[0].strip() if len(stamps) == 1 else ""
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:  # unix seconds: 10 digits until 2286
        return False
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).encode("ascii")
    given = [value.strip().encode("ascii", "replace") for key, _, value in parts if key.strip() == "v1"]
    return any(hmac.compare_digest(expected, g) for g in given)
