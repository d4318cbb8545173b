"""Is this request from Slack? Its signature over the raw bytes, and a timestamp close to now.

Slack signs ``v0:{X-Slack-Request-Timestamp}:{raw body}`` with HMAC-SHA256 and
the app's signing secret, and sends ``X-Slack-Signature: v0=<hex>``
(https://api.slack.com/authentication/verifying-requests-from-slack). The
check runs over the exact bytes received, read before anything parses them
(FIELD-CASES BR-11: a re-encoded form no longer matches). Both the current
secret (``SLACK_SIGNING_SECRET``) and, during a rotation, the previous one
(``SREDESK_SLACK_SIGNING_SECRET_PREVIOUS``) are accepted. A timestamp further
than ``SREDESK_SLACK_REQUEST_MAX_AGE_SECONDS`` from now, either way, is
refused: a captured request cannot be replayed later.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from slack_sdk.signature import Clock, SignatureVerifier

from sredesk.inputs import is_ascii_int


@dataclass(frozen=True)
class SignatureProblem:
    """Why a request was refused: HTTP ``status`` and a sentence (safe to show: it names no secret)."""

    status: int
    message: str


class _At(Clock):
    """The verifier's clock set to the request's own time: the age is checked here, against our setting."""

    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at


def secrets_configured() -> list[str]:
    """The signing secrets accepted now: the current one, then the previous one; empty when Slack is not set up.

    The previous secret counts only beside a current one: alone it is the secret being retired, not a set-up app.
    """
    if not settings.SLACK_SIGNING_SECRET.strip():
        return []
    return [s for s in (settings.SLACK_SIGNING_SECRET, settings.SREDESK_SLACK_SIGNING_SECRET_PREVIOUS) if s.strip()]


def verify(
    body: bytes, timestamp: str | None, signature: str | None, *, now: float | None = None
) -> SignatureProblem | None:
    """None when ``body`` carries a valid Slack signature made within the allowed age, else the problem (401).

    ``timestamp`` and ``signature`` are the ``X-Slack-Request-Timestamp`` and
    ``X-Slack-Signature`` headers as received; ``now`` is Unix seconds (default: the clock).
    """
    if not timestamp or not signature:
        return SignatureProblem(
            401, "Missing X-Slack-Request-Timestamp or X-Slack-Signature: not a request from Slack."
        )
    if not is_ascii_int(timestamp) or len(timestamp) > 12:
        return SignatureProblem(401, "X-Slack-Request-Timestamp is not Unix seconds.")
    now = time.time() if now is None else now
    age = now - int(timestamp)
    if abs(age) > settings.SREDESK_SLACK_REQUEST_MAX_AGE_SECONDS:
        when = "old" if age > 0 else "in the future"
        return SignatureProblem(
            401,
            f"X-Slack-Request-Timestamp is {abs(int(age))} s {when}; at most "
            f"{settings.SREDESK_SLACK_REQUEST_MAX_AGE_SECONDS} s is accepted (check the server's clock).",
        )
    if not signature.isascii():  # hmac.compare_digest refuses non-ASCII text (a TypeError, not a mismatch)
        return SignatureProblem(401, "X-Slack-Signature is not v0=<hex>: not a request from Slack.")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return SignatureProblem(401, "The body is not UTF-8: Slack sends UTF-8, so it is not from Slack.")
    for secret in secrets_configured():
        if SignatureVerifier(secret, clock=_At(int(timestamp))).is_valid(body, timestamp, signature):
            return None
    return SignatureProblem(401, "The Slack signature does not match this body (check SLACK_SIGNING_SECRET).")
