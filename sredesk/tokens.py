"""Bearer tokens for machines (CI uploads, alert webhooks): shown once, stored as a SHA-256 hash.

Tokens are 256-bit random strings, so a plain SHA-256 is enough (no slow
password hash is needed against guessing), and comparison is constant-time.
"""

import hashlib
import hmac
import secrets


def token_hash(token: str) -> str:
    """Hex SHA-256 of ``token`` as stored in the database."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(prefix: str) -> tuple[str, str]:
    """A fresh token such as ``sdci_…`` and its hash: (token to show once, hash to store)."""
    token = f"{prefix}_{secrets.token_urlsafe(32)}"
    return token, token_hash(token)


def token_matches(token: str | None, stored_hash: str) -> bool:
    """Whether ``token`` hashes to ``stored_hash``; False for a missing token or an empty hash."""
    if not token or not stored_hash:
        return False
    return hmac.compare_digest(token_hash(token), stored_hash)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (also accepts ``Token <token>``), else None."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    return value.strip() or None if scheme.lower() in ("bearer", "token") else None


def fernet():
    """The MultiFernet over ``SREDESK_ENCRYPTION_KEY`` (comma-separated; the first key encrypts, all decrypt).

    For secrets sredesk must read back in clear (integration signing secrets, page webhook secrets).
    """
    from cryptography.fernet import Fernet, MultiFernet
    from django.conf import settings

    return MultiFernet([Fernet(key.strip().encode()) for key in settings.SREDESK_ENCRYPTION_KEY.split(",") if key])


def secret_encrypt(value: str) -> str:
    """``value`` encrypted for storage (Fernet token, text)."""
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def secret_decrypt(token: str) -> str:
    """The clear text of a ``secret_encrypt`` token; ``cryptography.fernet.InvalidToken`` if no key reads it."""
    return fernet().decrypt(token.encode("ascii")).decode("utf-8")
