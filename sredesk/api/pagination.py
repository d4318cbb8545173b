"""Keyset (cursor) pagination over the whole ordering tuple (BR-24)."""

import base64
import binascii
import functools
import json
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from sredesk.inputs import InputError, load_json, parse_int, text_problem

from .ordering import OrderKey, StrictOrderingFilter


class CursorError(Exception):
    pass


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _decode_value(model, key: OrderKey, value: Any) -> Any:
    if value is None:
        if not key.nullable:
            raise CursorError("null for a non-null key")
        return None
    field = model._meta.get_field(key.field)
    internal = field.get_internal_type()
    if internal == "DateTimeField":
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None or timezone.is_naive(parsed):
            raise CursorError("bad datetime")
        return parsed
    if internal == "DateField":
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None:
            raise CursorError("bad date")
        return parsed
    if internal in ("AutoField", "BigAutoField", "IntegerField", "PositiveIntegerField", "PositiveSmallIntegerField"):
        if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**63:
            raise CursorError("bad integer")
        return value
    if not isinstance(value, str) or text_problem(value) is not None:
        raise CursorError("bad string")
    return value


def _beyond(key: OrderKey, value: Any, reverse: bool) -> Q | None:
    """Rows strictly past ``value`` on this key, in walking direction (None: no row can be)."""
    if not reverse:
        if value is None:
            return None  # NULLs come last: nothing is past them
        q = Q(**{f"{key.field}__{'lt' if key.descending else 'gt'}": value})
        return q | Q(**{f"{key.field}__isnull": True}) if key.nullable else q
    if value is None:
        return Q(**{f"{key.field}__isnull": False})
    return Q(**{f"{key.field}__{'gt' if key.descending else 'lt'}": value})


def keyset_filter(keys: list[OrderKey], values: list[Any], reverse: bool) -> Q:
    """Rows after (``reverse``: before) the row whose ordering values are ``values``: a lexicographic comparison.

    The first key's bound is repeated as a plain range condition so PostgreSQL
    can start an index scan there instead of filtering from the top.
    """
    parts, equal = [], Q()
    for key, value in zip(keys, values, strict=True):
        beyond = _beyond(key, value, reverse)
        if beyond is not None:
            parts.append(equal & beyond)
        equal &= Q(**{f"{key.field}__isnull": True}) if value is None else Q(**{key.field: value})
    condition = functools.reduce(lambda a, b: a | b, parts) if parts else Q(pk__in=[])
    first, first_value = keys[0], values[0]
    if first_value is not None and not first.nullable:
        lookup = "lte" if first.descending != reverse else "gte"
        condition = Q(**{f"{first.field}__{lookup}": first_value}) & condition
    return condition


class KeysetPagination(BasePagination):
    """Cursor pages keyed on the full ordering tuple (ending in ``id``); ``page_size`` up to ``max_page_size``.

    A cursor names the last (``next``) or first (``previous``) row of a page by
    its ordering values, so rows inserted or deleted elsewhere never shift a
    page: every row that exists throughout a walk appears exactly once. A
    cursor made for another ordering, or one that does not decode, is a 400;
    a cursor whose row was deleted still works.
    """

    page_size = 50
    max_page_size = 200
    cursor_param = "cursor"
    page_size_param = "page_size"
    invalid_cursor = "Invalid cursor: follow the `next` and `previous` links as given."

    def __init__(self) -> None:
        self.page_size = settings.SREDESK_API_PAGE_SIZE

    # -- parameters

    def ordering_keys(self, request, view) -> list[OrderKey]:
        """The page ordering: the view's ordering filter's (raises ValidationError for a bad ``ordering``)."""
        for backend in view.filter_backends:
            if issubclass(backend, StrictOrderingFilter):
                return backend().keys(request, view)
        return StrictOrderingFilter().keys(request, view)

    def page_model(self, view):
        """The model whose fields the ordering keys name."""
        return view.get_queryset().model

    def _signature(self, keys: list[OrderKey]) -> str:
        return ",".join(key.term for key in keys)

    def _decode(self, raw: str, keys: list[OrderKey], model) -> tuple[list[Any], bool]:
        try:
            padded = raw.strip() + "=" * (-len(raw.strip()) % 4)
            payload = load_json(base64.urlsafe_b64decode(padded.encode("ascii")), field=self.cursor_param, max_depth=2)
            if not isinstance(payload, dict) or payload.get("o") != self._signature(keys):
                raise CursorError("made for another ordering")
            values = payload.get("v")
            if not isinstance(values, list) or len(values) != len(keys):
                raise CursorError("wrong length")
            reverse = payload.get("r", 0)
            if reverse not in (0, 1):
                raise CursorError("bad direction")
            return [_decode_value(model, k, v) for k, v in zip(keys, values, strict=True)], bool(reverse)
        except (CursorError, InputError, ValueError, TypeError, UnicodeError, binascii.Error, OverflowError) as exc:
            raise CursorError(str(exc)) from exc

    def _encode(self, keys: list[OrderKey], values: list[Any], reverse: bool) -> str:
        payload = {"o": self._signature(keys), "v": [_encode_value(v) for v in values], "r": int(reverse)}
        return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")

    def _page_size(self, request) -> int:
        """``page_size`` capped at ``max_page_size`` (the default when absent); raises InputError when not 1 or more."""
        raw = request.query_params.get(self.page_size_param)
        if raw is None or raw == "":
            return self.page_size
        return min(parse_int(raw, field=self.page_size_param, min_value=1, max_value=None), self.max_page_size)

    def check_params(self, request, view) -> dict[str, list[str]]:
        """Errors of the paging parameters (``page_size``, ``cursor``, and ``page``, which is not ours)."""
        errors: dict[str, list[str]] = {}
        if "page" in request.query_params:
            errors["page"] = ["This API pages with cursors: follow the `next` link instead of giving `page`."]
        try:
            self._page_size(request)
        except InputError:
            errors[self.page_size_param] = [f"A whole number from 1 (at most {self.max_page_size} are served)."]
        raw_cursor = request.query_params.get(self.cursor_param)
        if raw_cursor is not None:
            try:
                keys = self.ordering_keys(request, view)
            except exceptions.ValidationError:
                return errors  # the ordering error is reported by the ordering filter
            try:
                self._decode(raw_cursor, keys, self.page_model(view))
            except CursorError:
                errors[self.cursor_param] = [self.invalid_cursor]
        return errors

    # -- paging

    def paginate_queryset(self, queryset: QuerySet, request, view=None):
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size_now = self._page_size(request)
        self.keys = self.ordering_keys(request, view)
        raw_cursor = request.query_params.get(self.cursor_param)
        self.cursor_values, self.reverse = None, False
        if raw_cursor is not None:
            try:
                self.cursor_values, self.reverse = self._decode(raw_cursor, self.keys, queryset.model)
            except CursorError as exc:
                raise exceptions.ValidationError({self.cursor_param: [self.invalid_cursor]}) from exc
            queryset = queryset.filter(keyset_filter(self.keys, self.cursor_values, self.reverse))
        queryset = queryset.order_by(*(key.expression(reverse=self.reverse) for key in self.keys))
        rows = list(queryset[: self.page_size_now + 1])
        more = len(rows) > self.page_size_now
        rows = rows[: self.page_size_now]
        if self.reverse:
            rows.reverse()
            self.has_next, self.has_previous = True, more
        else:
            self.has_next, self.has_previous = more, self.cursor_values is not None
        self.page = rows
        return rows

    def _values(self, row) -> list[Any]:
        if isinstance(row, dict):
            return [row[key.field] for key in self.keys]
        return [getattr(row, key.field) for key in self.keys]

    def _link(self, values: list[Any], reverse: bool) -> str:
        return replace_query_param(self.base_url, self.cursor_param, self._encode(self.keys, values, reverse))

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        if self.page:
            return self._link(self._values(self.page[-1]), reverse=False)
        if self.cursor_values is not None:  # an empty page walking backwards: start again after its cursor
            return self._link(self.cursor_values, reverse=False)
        return None

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if self.page:
            return self._link(self._values(self.page[0]), reverse=True)
        if self.cursor_values is not None:  # past the end (a stale cursor): the rows before its position
            return self._link(self.cursor_values, reverse=True)
        return remove_query_param(self.base_url, self.cursor_param)

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri", "description": "The next page."},
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The previous page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, default {self.page_size}; more than {self.max_page_size} "
                f"gives {self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
