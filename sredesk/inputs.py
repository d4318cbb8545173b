"""The one place that checks values from outside: integers, text and JSON, before anything stores them.

Every door (web forms, the REST API, alert webhooks, CI uploads, management
commands) calls these instead of writing its own ``isdigit()`` or
``json.loads``. Each check raises :class:`InputError`, a Django
``ValidationError`` that also knows the *field* it is about, so every door
answers the same way without extra code:

* a form field's ``clean`` lets it propagate: the message lands on that field;
* a DRF serializer field's ``to_internal_value`` lets it propagate: DRF puts it
  under the field's name, and the API's exception handler answers 400 with
  ``{"error": {"fields": {"<field>": ["..."]}}}`` when it is raised elsewhere;
* a plain view catches it and answers ``400 {"error": exc.message, "field": exc.field}``
  (see the webhook and ``/ci/junit/``).

What is refused, and why:

* **Integers** (:func:`parse_int`, :func:`parse_id`, :func:`is_ascii_int`):
  ASCII digits only, optionally one leading ``-``, surrounding spaces
  allowed. ``str.isdigit()`` accepts ``'¹'``, ``'①'`` and ``'²³'``, on which
  ``int()`` then raises (a 500), and ``int()`` itself accepts ``'٣'`` (Arabic-Indic 3)
  and ``'1_000'``; neither is a number a person or a program sends us on purpose.
  Values are bounded (by default to PostgreSQL's ``bigint``), so an id of 30
  digits is an input error, not a database error.
* **Text** (:func:`check_text`, :func:`text_problem`): NUL (``\\x00``) and
  lone surrogates (``\\ud800``: valid in a Python ``str`` and in JSON's
  ``\\u`` escapes, not UTF-8) cannot be stored by PostgreSQL, and a length
  over the column's limit is a database error; both are refused with a message
  naming the field and what is wrong. Values are never altered silently.
* **JSON** (:func:`load_json`): the body must be UTF-8 JSON nested at most
  ``max_depth`` (default :data:`MAX_JSON_DEPTH`) containers deep. Python's
  parser recurses per level, so 100,000 nested ``[`` raise ``RecursionError``
  (a 500) and smaller depths make every later walk over the data recursive too.

Cost (the alert webhook is a benchmarked hot path, bench/ingest): the depth
check counts brackets in the raw bytes first (``bytes.count``, C speed) and
walks the parsed value only when there are more brackets than the limit;
text checks take an ``isascii()`` fast path. Measured in
``/work/wt/notes/platform.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError

__all__ = [
    "BIGINT_MAX",
    "MAX_JSON_DEPTH",
    "InputError",
    "check_text",
    "check_texts",
    "check_url",
    "escape_text",
    "http_url",
    "is_ascii_int",
    "json_depth_exceeds",
    "load_json",
    "parse_id",
    "parse_int",
    "text_problem",
    "unescape_text",
]

BIGINT_MAX = 2**63 - 1  # PostgreSQL bigint, Django's BigAutoField
MAX_JSON_DEPTH = 64  # Alertmanager's deepest real payload is 4; the API's bodies 3
_MAX_INT_CHARS = 19  # len(str(BIGINT_MAX)); longer digit strings are refused before int() parses them


class InputError(ValidationError):
    """A value from outside that sredesk refuses: ``field`` names it, ``message`` says what is wrong.

    A ``ValidationError`` (so forms and DRF serializers report it on their
    field) whose ``field`` is the name the client used: a form field, a JSON
    member path (``alerts.0.labels``), a query parameter or a header.
    """

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(message, code=code)
        self.field = field

    def as_fields(self) -> dict[str, list[str]]:
        """``{field: [message]}``: the API error shape's ``fields`` member."""
        return {self.field: [self.message]}


# --- integers --------------------------------------------------------------------------------


def is_ascii_int(value: str) -> bool:
    """True for one or more ASCII digits and nothing else (``"042"`` yes; ``"¹"``, ``"٣"``, ``"-1"``, ``" 1"`` no)."""
    return value.isascii() and value.isdigit()


def parse_int(
    value: Any,
    *,
    field: str,
    min_value: int | None = None,
    max_value: int | None = BIGINT_MAX,
) -> int:
    """``value`` (an ``int``, or a string of ASCII digits with an optional leading ``-``) as an int.

    Surrounding ASCII spaces are ignored. ``bool`` and ``float`` are refused
    (``true`` is not 1, ``1.5`` is not an integer). Raises :class:`InputError`
    naming ``field`` when the value is not such an integer or lies outside
    ``min_value``..``max_value`` (inclusive; ``None`` for no bound; the upper
    bound is PostgreSQL's ``bigint`` unless given).
    """
    if isinstance(value, bool):
        raise InputError(field, "Give a whole number, not true or false.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip(" \t")
        digits = text[1:] if text[:1] == "-" else text
        if not is_ascii_int(digits):
            raise InputError(field, "Give a whole number in ASCII digits (0-9).")
        if len(digits) > _MAX_INT_CHARS:
            raise InputError(field, "Too large a number.", code="max_value")
        number = int(text)
    else:
        raise InputError(field, "Give a whole number.")
    if min_value is not None and number < min_value:
        raise InputError(field, f"Give a number of at least {min_value}.", code="min_value")
    if max_value is not None and number > max_value:
        raise InputError(field, f"Give a number of at most {max_value}.", code="max_value")
    return number


def parse_id(value: Any, *, field: str) -> int:
    """A database id: a whole number from 1 that fits a ``bigint`` (see :func:`parse_int`)."""
    return parse_int(value, field=field, min_value=1, max_value=BIGINT_MAX)


# --- text ----------------------------------------------------------------------------------


def text_problem(value: str, max_length: int | None = None) -> str | None:
    """Why ``value`` cannot be stored as text (NUL, a lone surrogate, over ``max_length`` characters), or None."""
    if max_length is not None and len(value) > max_length:
        return f"At most {max_length} characters (this has {len(value)})."
    if "\x00" in value:
        return "Contains a NUL character (\\u0000), which cannot be stored."
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"Contains a lone surrogate (\\u{ord(value[exc.start]):04x}), which is not valid Unicode text."
    return None


def check_text(value: str, *, field: str, max_length: int | None = None) -> str:
    """``value`` unchanged, or :class:`InputError` naming ``field`` (see :func:`text_problem`)."""
    problem = text_problem(value, max_length)
    if problem is not None:
        raise InputError(field, problem, code="max_length" if problem.startswith("At most") else "invalid")
    return value


def check_texts(pairs: Iterable[tuple[str, Any]], max_length: int | None = None) -> None:
    """Check every ``(field, value)`` whose value is a string; raises on the first bad one."""
    for field, value in pairs:
        if isinstance(value, str):
            check_text(value, field=field, max_length=max_length)


# Characters PostgreSQL cannot store in text or jsonb: NUL, and surrogates (in a Python str any surrogate is lone:
# JSON's escaped pairs are joined by the parser).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ESCAPE = re.compile(r"\\(\\|u[0-9a-f]{4})")


def escape_text(value: str) -> str:
    r"""``value`` made storable where it must be kept rather than refused: NUL and lone surrogates escaped.

    A value without either is returned unchanged (the usual case, and the
    reason the escape touches nothing else). A value with one has its
    backslashes doubled, then each NUL or surrogate written as JSON writes it:
    ``"a\x00b"`` becomes the text ``a\u0000b``. :func:`unescape_text` gives an
    escaped value back exactly, and two values that needed the escape never
    share an escaped form. An escaped value can look like an ordinary value
    that happens to contain the text ``\u0000``; where the difference matters
    the raw bytes tell (the webhook keeps them on its receipt). Use it where
    refusing loses data (alert labels, see ``incidents.alert_formats.common``);
    elsewhere refuse with :func:`check_text`.
    """
    if value.isascii() and "\x00" not in value:
        return value
    if _UNSTORABLE.search(value) is None:
        return value
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", value.replace("\\", "\\\\"))


def unescape_text(value: str) -> str:
    r"""The inverse of :func:`escape_text` for a value it escaped (``\\`` -> ``\``, ``\uXXXX`` -> the character)."""
    return _ESCAPE.sub(lambda m: "\\" if m.group(1) == "\\" else chr(int(m.group(1)[1:], 16)), value)


# --- URLs ----------------------------------------------------------------------------------

URL_SCHEMES = ("http", "https")
"""The only schemes a URL from outside may have: a ``javascript:`` or ``data:`` link runs in the viewer's page."""


def http_url(value: str) -> bool:
    """True for an absolute ``http``/``https`` URL with a host (case-insensitive scheme, no whitespace before it)."""
    scheme, sep, rest = value.partition(":")
    return bool(sep) and scheme.lower() in URL_SCHEMES and rest.startswith("//") and len(rest) > 2


def check_url(value: str, *, field: str, max_length: int | None = None) -> str:
    """``value`` unchanged when empty or an ``http``/``https`` URL storable as text, else :class:`InputError`.

    Checked where a URL enters (before it is stored) and again where one is
    rendered as a link (``sredesk_ui.http_url``), so a URL stored before this
    check existed cannot run script either.
    """
    check_text(value, field=field, max_length=max_length)
    if value and not http_url(value):
        raise InputError(field, "Give an http:// or https:// URL.", code="invalid_url")
    return value


# --- JSON ----------------------------------------------------------------------------------


def json_depth_exceeds(value: Any, max_depth: int) -> bool:
    """True when ``value`` (parsed JSON) nests more than ``max_depth`` lists/objects; iterative, no recursion."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return True
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def load_json(body: bytes | str, *, field: str = "body", max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse a request body as JSON, nested at most ``max_depth`` deep.

    ``body`` is the raw bytes (UTF-8, a BOM is refused as JSON's RFC 8259
    says) or text. ``NaN`` and ``Infinity`` are refused (not JSON; they would
    not survive a round trip to PostgreSQL's ``jsonb``). Raises
    :class:`InputError` naming ``field`` for bytes that are not UTF-8, text
    that is not JSON, or nesting deeper than ``max_depth``; never
    ``RecursionError``. Strings inside are returned as parsed: check the ones
    you store with :func:`check_text` (JSON's ``\\u0000`` and ``\\ud800``
    escapes are legal JSON but not storable text).
    """
    brackets = body.count(b"[" if isinstance(body, bytes) else "[") + body.count(
        b"{" if isinstance(body, bytes) else "{"
    )
    too_deep = f"Nested more than {max_depth} levels deep."
    try:
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        value = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise InputError(field, too_deep, code="too_deep") from None
    except UnicodeDecodeError as exc:
        raise InputError(field, f"Not UTF-8 text (byte {exc.start}).") from None
    except ValueError as exc:
        raise InputError(field, f"Not valid JSON: {exc}") from None
    # Fewer brackets than the limit cannot nest deeper than it: no walk for ordinary bodies.
    if brackets > max_depth and json_depth_exceeds(value, max_depth):
        raise InputError(field, too_deep, code="too_deep")
    return value
