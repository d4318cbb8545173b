"""Slack channel names for incidents: ``inc-<n>-<slug of the title>`` within Slack's naming rules (BR-33).

Slack takes lower-case ASCII letters, digits, ``-`` and ``_``, at most 80
characters (``invalid_name_specials``, ``invalid_name_maxlength`` otherwise).
The title is folded to ASCII (``Zürich`` -> ``zurich``, an emoji dropped),
every other run of characters becomes one ``-``, and the slug is cut so the
whole name fits; a name already taken gets ``-2``, ``-3``... with the slug
shortened to keep the suffix inside the 80 characters.
"""

import re
import unicodedata

MAX_LENGTH = 80
_NOT_ALLOWED = re.compile(r"[^a-z0-9_]+")


def title_slug(title: str) -> str:
    """``title`` as lower-case ASCII words and ``-``: ``Payments: 5xx — EU/Zürich`` -> ``payments-5xx-eu-zurich``."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    return _NOT_ALLOWED.sub("-", folded).strip("-_")


def channel_name(number: int, title: str, attempt: int = 1) -> str:
    """The ``attempt``-th candidate name of incident ``number``'s channel (1: no suffix; 2: ``-2``...), ≤ 80 chars."""
    prefix = f"inc-{number}"
    suffix = f"-{attempt}" if attempt > 1 else ""
    room = MAX_LENGTH - len(prefix) - len(suffix) - 1  # the "-" between prefix and slug
    slug = title_slug(title)[: max(room, 0)].rstrip("-_")
    return f"{prefix}-{slug}{suffix}" if slug else f"{prefix}{suffix}"
