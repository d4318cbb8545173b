"""Keyset pages for the web's lists (the kind of BR-24), as the REST API pages (``sredesk.api.pagination``).

Offset pages (Django's ``Paginator``) shift when rows are inserted or
deleted while someone pages, which is what happens during an alert storm:
page 2 repeats rows of page 1 or skips some. A keyset page starts strictly
after (or before) a row's ordering values, given in the URL as ``cursor``,
so every row that exists throughout a walk is shown exactly once. The
ordering must end in a unique key (``id``). A cursor that does not decode
(edited by hand, or made for another list) shows the first page.
"""

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime

from sredesk.api.ordering import OrderKey
from sredesk.api.pagination import keyset_filter

MAX_CURSOR_CHARS = 400


@dataclass(frozen=True)
class KeysetPage:
    """One page of a list: its rows, how many rows the whole list has, and the cursors of the pages beside it."""

    object_list: list
    count: int
    next_cursor: str  # "" on the last page
    previous_cursor: str  # "" on the first page

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.previous_cursor)


def _encode(values: list[Any], reverse: bool) -> str:
    payload = [int(reverse), *(v.isoformat() if isinstance(v, dt.datetime) else v for v in values)]
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(raw: str, keys: list[OrderKey]) -> tuple[list[Any], bool] | None:
    """The ordering values and direction a cursor holds (aware datetimes and integers), or None."""
    if len(raw) > MAX_CURSOR_CHARS:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(raw.strip() + "=" * (-len(raw.strip()) % 4)))
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        return None
    if not isinstance(payload, list) or len(payload) != len(keys) + 1 or payload[0] not in (0, 1):
        return None
    values = []
    for value in payload[1:]:
        if isinstance(value, str):
            try:
                value = parse_datetime(value)
            except ValueError:
                return None
            if value is None or value.tzinfo is None:
                return None
        elif not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**63:
            return None
        values.append(value)
    return values, bool(payload[0])


def keyset_page(queryset: QuerySet, keys: list[OrderKey], cursor: str | None, size: int) -> KeysetPage:
    """The page of ``queryset`` ordered by ``keys`` (ending in ``id``) that ``cursor`` points at; the first without.

    Key fields may be annotations of ``queryset``. Runs three queries: the
    count, the page, and nothing per row.
    """
    count = queryset.count()
    decoded = _decode(cursor, keys) if cursor else None
    values, reverse = decoded if decoded else (None, False)
    if values is not None:
        queryset = queryset.filter(keyset_filter(keys, values, reverse))
    rows = list(queryset.order_by(*(key.expression(reverse=reverse) for key in keys))[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if reverse:
        rows.reverse()
        has_next, has_previous = True, more
    else:
        has_next, has_previous = more, values is not None
    position = [[getattr(row, key.field) for key in keys] for row in (rows[0], rows[-1])] if rows else None
    return KeysetPage(
        object_list=rows,
        count=count,
        next_cursor=_encode(position[1], False) if has_next and position else "",
        previous_cursor=_encode(position[0], True) if has_previous and position else "",
    )
