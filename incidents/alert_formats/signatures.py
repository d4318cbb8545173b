"""Who may post to an alert webhook: the senders' HMAC signatures and the webhook's authentication policy.

Policy (``authenticate``): an integration with a signing secret whose sender
signs (PagerDuty, Grafana) requires the sender's HMAC signature over the raw
bytes; every other integration requires its bearer token
(``Authorization: Bearer <token>``, or ``?token=``), compared by hash. A bad
signature is 403, a malformed one 400 (as PagerDuty's Go client recommends, so
the sender stops retrying), a missing one or a wrong token 401.
"""

import hashlib
import hmac
import logging
import time
from typing import NamedTuple

from cryptography.fernet import InvalidToken

logger = logging.getLogger(__name__)

PAGERDUTY_SIGNATURE_HEADER = "X-PagerDuty-Signature"
# Grafana's default header is X-Grafana-Alert-Signature (grafana/alerting http/hmac.go); the name is
# configurable per contact point and FORMATS.md documents X-Grafana-Alerting-Signature: accept both.
GRAFANA_SIGNATURE_HEADERS = ("X-Grafana-Alert-Signature", "X-Grafana-Alerting-Signature")
# Grafana sends no timestamp unless a timestamp header is configured; configure this name to use one.
GRAFANA_TIMESTAMP_HEADER = "X-Grafana-Alert-Timestamp"
GRAFANA_TIMESTAMP_TOLERANCE_SECONDS = 300


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _raw_bytes(raw_body: object) -> bytes:
    """The request body as received; a ``str`` is refused because re-encoding breaks signatures (BR-11)."""
    if isinstance(raw_body, bytes | bytearray | memoryview):
        return bytes(raw_body)
    raise TypeError("verify the raw request bytes (request.body), not a decoded or re-encoded body")


def verify_pagerduty_signature(raw_body: bytes, header: str | None, secrets: list[str]) -> bool:
    """Whether ``X-PagerDuty-Signature`` is valid for the raw body under any of ``secrets``.

    ``header``: ``v1=<hex HMAC-SHA256(secret, raw body)>``, several comma-separated during a
    secret rotation; entries of other versions are skipped. Valid if any ``v1`` value matches
    any (non-empty) secret; each comparison is constant-time (``hmac.compare_digest``). An
    empty/missing header or no secrets -> ``False``. The header carries no timestamp: replay
    protection is the caller's dedup on ``event.id``.
    """
    body = _raw_bytes(raw_body)
    signatures = []
    for part in (header or "").split(","):
        version, _, value = part.strip().partition("=")
        if version.strip().lower() == "v1" and value.strip():
            signatures.append(value.strip().lower().encode("ascii", "replace"))
    expected = [_hmac_hex(secret, body).encode("ascii") for secret in secrets if secret]
    return any(hmac.compare_digest(want, got) for want in expected for got in signatures)


def verify_grafana_signature(raw_body: bytes, header: str | None, secret: str, timestamp: str | None = None) -> bool:
    """Whether Grafana's HMAC header (default ``X-Grafana-Alert-Signature``) is valid for the raw body.

    ``header``: hex HMAC-SHA256 with ``secret`` over the body, or over ``"<timestamp>:" + body``
    when the contact point sends a timestamp header (unix seconds; pass its value as
    ``timestamp``). Source: grafana/alerting ``http/hmac.go``. ``timestamp=None`` means no
    timestamp header is configured; an empty string (configured but absent) fails. Freshness of
    the timestamp is the caller's check. Constant-time comparison.
    """
    body = _raw_bytes(raw_body)
    if not secret or not header or timestamp == "":
        return False
    message = body if timestamp is None else timestamp.strip().encode("ascii", "replace") + b":" + body
    expected = _hmac_hex(secret, message).encode("ascii")
    return hmac.compare_digest(expected, header.strip().lower().encode("ascii", "replace"))


class Refusal(NamedTuple):
    """Why a request may not proceed: the HTTP status, a sentence, and the header or field it is about."""

    status: int
    message: str
    field: str = ""


def _bearer_token(request) -> str:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.GET.get("token", "")


def authenticate(integration, request, body: bytes) -> Refusal | None:
    """None when ``request`` (a Django request whose raw ``body`` was read) may post to ``integration``.

    Else the ``Refusal`` (401, 403 or 400; 503 when the stored signing secret
    cannot be decrypted, so the sender retries once the operator has put the
    key back).
    """
    try:
        if integration.signs_requests and integration.has_signing_secret:
            if integration.kind == integration.Kind.PAGERDUTY:
                return _pagerduty(request, body, integration.signing_secret)
            return _grafana(request, body, integration.signing_secret)
    except InvalidToken:
        logger.error(
            "Signing secret cannot be decrypted: SREDESK_ENCRYPTION_KEY changed?",
            extra={"integration_id": integration.pk},
        )
        return Refusal(503, "this integration's signing secret cannot be read; the operator must fix it")
    if not integration.check_token(_bearer_token(request)):
        return Refusal(401, "missing or wrong token (Authorization: Bearer <token>)", "Authorization")
    return None


def _pagerduty(request, body: bytes, secret: str) -> Refusal | None:
    name = PAGERDUTY_SIGNATURE_HEADER
    header = request.headers.get(name, "")
    if not header:
        return Refusal(401, f"{name} is required for this integration", name)
    if not any(part.strip().lower().startswith("v1=") for part in header.split(",")):
        return Refusal(400, f"{name} is malformed (expected v1=<hex>)", name)
    if not verify_pagerduty_signature(body, header, [secret]):
        return Refusal(403, f"{name} does not match the body", name)
    return None


def _grafana(request, body: bytes, secret: str) -> Refusal | None:
    name = next((h for h in GRAFANA_SIGNATURE_HEADERS if h in request.headers), GRAFANA_SIGNATURE_HEADERS[0])
    header = request.headers.get(name, "")
    if not header:
        return Refusal(401, f"{name} is required for this integration", name)
    timestamp = request.headers.get(GRAFANA_TIMESTAMP_HEADER)
    if timestamp is not None:
        try:
            stale = abs(time.time() - int(timestamp)) > GRAFANA_TIMESTAMP_TOLERANCE_SECONDS
        except ValueError:
            return Refusal(400, f"{GRAFANA_TIMESTAMP_HEADER} is not unix seconds", GRAFANA_TIMESTAMP_HEADER)
        if stale:
            return Refusal(403, f"{GRAFANA_TIMESTAMP_HEADER} is too old or in the future", GRAFANA_TIMESTAMP_HEADER)
    if not verify_grafana_signature(body, header, secret, timestamp):
        return Refusal(403, f"{name} does not match the body", name)
    return None
