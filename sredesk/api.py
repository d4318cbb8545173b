"""What every REST endpoint under ``/api/v1/`` shares: errors, authentication, permissions, paging, ordering.

* **One error shape**: ``{"error": {"code", "message", "fields": {"<field>": ["..."]}}}``
  for every 4xx (``exception_handler``), including Django ``ValidationError``
  from the services (400, ``message_dict`` -> ``fields``), ``InvalidTransition``
  and ``InvalidPostMortemTransition`` (409), ``Http404``/``DoesNotExist`` (404)
  and ``PermissionDenied`` (403). A bad query string is one 400 naming every bad
  parameter at once (``QueryValidationMixin``).
* **Authentication**: a per-user token (``Authorization: Token <key>``, or
  ``Bearer``) first, then the browser session. A request carrying a token is
  judged by the token alone, so a stale session cookie never makes it need a
  CSRF token (BR-26); a session-only write still needs one.
* **Permissions**: every signed-in user reads; a write to an incident, a
  post-mortem (with its action items and regression tests) or a service is for
  the owning team's members, the incident commander (and a post-mortem's
  owner), and staff. Each viewset says who that is with ``write_scope(obj)``.
* **Paging** (``KeysetPagination``): cursors over the whole ordering tuple,
  which always ends in the unique ``id``. DRF's own CursorPagination keys on
  the first ordering field plus an offset, which skips or repeats rows when
  many share a timestamp and rows come and go between pages (BR-24).
"""

import base64
import binascii
import functools
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Q, QuerySet
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.pagination import BasePagination
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from incidents.services import InvalidTransition
from ownership.models import ApiToken, Membership, User
from postmortems.services import InvalidPostMortemTransition

from .tokens import token_hash

logger = logging.getLogger(__name__)

# Object ids in URLs: digits that fit a bigint (anything else is a 404 from the URL resolver, never a
# database error). The incident routes also take the public form INC-42.
ID_PATTERN = r"[0-9]{1,18}"


# --- errors -------------------------------------------------------------------------------


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    """The one error shape of the API."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF error detail (nested dicts and lists) -> {"field" or "field.0.sub": [messages]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix: [str(item) for item in detail]} if detail else {}
        out = {}
        for index, item in enumerate(detail):
            if isinstance(item, dict | list):
                out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
            else:
                out.setdefault(prefix, []).append(str(item))
        return out
    return {prefix: [str(detail)]}


def _first_code(exc: exceptions.APIException, default: str) -> str:
    codes = exc.get_codes()
    while isinstance(codes, dict | list) and codes:
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return codes if isinstance(codes, str) else default


NON_FIELD_KEYS = ("non_field_errors", "__all__")


def _validation_response(fields: dict[str, list[str]], code: str = "invalid", status: int = 400) -> Response:
    general = [m for key in NON_FIELD_KEYS for m in fields.pop(key, [])]
    if general:
        message = " ".join(general)
    elif fields:
        message = "Invalid input: " + "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in fields.items())
    else:
        message = "Invalid input."
    return Response(error_body(code, message, fields), status=status)


def _django_fields(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: list(messages) for field, messages in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every error the API answers with, in the one shape; None (a 500) only for real faults."""
    from rest_framework.views import set_rollback  # not at import: DRF's settings import this module

    if isinstance(exc, InvalidTransition | InvalidPostMortemTransition):
        set_rollback()
        code = getattr(exc, "code", None) or "invalid_transition"
        return Response(error_body(code, " ".join(exc.messages)), status=409)
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        return _validation_response(_django_fields(exc))
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("too_large", str(exc) or "The request body is too large."), status=413)
    if isinstance(exc, SuspiciousOperation):  # e.g. too many multipart fields or files
        return Response(error_body("bad_request", str(exc) or "Malformed request."), status=400)
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response = _validation_response(_flatten(detail), code="invalid")
    else:
        response = Response(
            error_body(_first_code(exc, "error"), str(exc.detail)), status=exc.status_code, headers=headers
        )
    return response


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


def handler404(request, exception=None):
    """JSON for unknown URLs under /api/, Django's page elsewhere."""
    if _is_api(request.path):
        return JsonResponse(error_body("not_found", "No such endpoint or object."), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler400(request, exception=None):
    """JSON for a request Django refused before any view ran (under /api/), Django's page elsewhere."""
    if _is_api(request.path):
        return JsonResponse(error_body("bad_request", "Malformed request."), status=400)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler500(request):
    """JSON for a server fault under /api/ (logged by Django), Django's page elsewhere."""
    if _is_api(request.path):
        return JsonResponse(error_body("server_error", "Something went wrong on our side."), status=500)
    from django.views.defaults import server_error

    return server_error(request)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. invalid, not_found, invalid_transition.")
    message = serializers.CharField(help_text="What went wrong, for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field or query parameter (empty when the error is not about one).",
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer."""

    error = ErrorDetailSerializer()


# --- authentication -----------------------------------------------------------------------


class UserTokenAuthentication(BaseAuthentication):
    """A person's API token (``ownership.ApiToken``, stored hashed), sent as ``Token <key>`` or ``Bearer <key>``.

    A request that carries a token is judged by it alone: a wrong one is 401
    even beside a valid session cookie, and no CSRF token is asked (BR-26).
    """

    keyword = "Token"

    def authenticate(self, request):
        scheme, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() not in ("token", "bearer"):
            return None
        key = key.strip()
        if not key or " " in key:
            raise exceptions.AuthenticationFailed("Invalid token header: give 'Token <key>'.")
        token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


# --- permissions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteScope:
    """Who may change an object besides staff: the members of ``team_id`` and the users in ``user_ids``."""

    team_id: int | None
    user_ids: tuple[int | None, ...] = ()


def is_staff(user: User) -> bool:
    return bool(user.is_staff or user.is_superuser)


def may_write(user: User, scope: WriteScope) -> bool:
    if not user.is_authenticated:
        return False
    if is_staff(user) or user.pk in scope.user_ids:
        return True
    return scope.team_id is not None and Membership.objects.filter(team_id=scope.team_id, user_id=user.pk).exists()


WRITE_DENIED = (
    "Only members of the owning team, the incident commander (or the post-mortem's owner) and staff may change this."
)


class ReadAllWriteOwners(BasePermission):
    """Signed-in users read; writes need ``may_write`` on the object's ``view.write_scope(obj)``."""

    message = WRITE_DENIED

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return may_write(request.user, view.write_scope(obj))


def check_write(request, scope: WriteScope) -> None:
    """Raise 403 unless the user may write within ``scope`` (for creates, where there is no object yet)."""
    if not may_write(request.user, scope):
        raise exceptions.PermissionDenied(WRITE_DENIED)


# --- input fields -------------------------------------------------------------------------


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant with its offset (``Z`` or ``+02:00``); naive times are refused (BR-22)."""

    default_error_messages = {
        "naive": "Give a time zone offset (e.g. 2024-05-01T10:05:00Z); times without one are refused.",
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive")
        elif isinstance(value, datetime) and timezone.is_naive(value):
            self.fail("naive")
        return super().to_internal_value(value)


def _label_choice_schema(choices) -> dict:
    return {
        "oneOf": [
            {"type": "string", "enum": list(choices.labels)},
            {"type": "integer", "enum": list(choices.values)},
        ],
        "description": f"{', '.join(choices.labels)} (or the number {choices.values[0]}..{choices.values[-1]})",
    }


class LabelChoiceInputField(serializers.Field):
    """An IntegerChoices value given as its label (``SEV2``, ``P1``) or its number."""

    default_error_messages = {"invalid": "Give one of {labels} (or the number)."}

    def __init__(self, choices, **kwargs):
        self.choices_class = choices
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        by_label = {label.upper(): value for value, label in self.choices_class.choices}
        if isinstance(data, str) and data.strip().upper() in by_label:
            return by_label[data.strip().upper()]
        if isinstance(data, bool):
            self.fail("invalid", labels=", ".join(self.choices_class.labels))
        if isinstance(data, int) or (isinstance(data, str) and data.strip().isdigit() and len(data.strip()) < 3):
            number = int(data)
            if number in self.choices_class.values:
                return number
        self.fail("invalid", labels=", ".join(self.choices_class.labels))

    def to_representation(self, value):
        return self.choices_class(value).label


@functools.cache
def _label_choice_input_class(choices) -> type[LabelChoiceInputField]:
    cls = type(f"{choices.__name__}InputField", (LabelChoiceInputField,), {})
    return extend_schema_field(_label_choice_schema(choices))(cls)


def label_choice_input(choices, **kwargs) -> LabelChoiceInputField:
    """A field taking ``choices`` by label or number, documented as such."""
    return _label_choice_input_class(choices)(choices, **kwargs)


class LabelChoiceField(serializers.ChoiceField):
    """Output of an IntegerChoices value as its label (``SEV2``)."""

    def __init__(self, choices, **kwargs):
        self.choices_class = choices
        super().__init__(choices=list(choices.labels), **kwargs)

    def to_representation(self, value):
        return self.choices_class(value).label if value is not None else None


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know (a typo must not be silently ignored)."""

    unknown_field_hints: dict[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        key: [self.unknown_field_hints.get(key, f"Unknown field; known: {', '.join(self.fields)}.")]
                        for key in unknown
                    }
                )
        return super().to_internal_value(data)


# --- query validation: filters, ordering and paging errors in one 400 ----------------------


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipped when the query string names none of the FilterSet's parameters.

    Building a FilterSet deep-copies every filter; on an unfiltered page (a
    dashboard polling, a client walking cursors) that was a sixth of the request.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None and not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


class QueryValidationMixin:
    """Run every filter backend and the paginator's checks, and answer one 400 naming every bad parameter."""

    def filter_queryset(self, queryset):
        errors: dict[str, Any] = {}
        for backend in list(self.filter_backends):
            try:
                queryset = backend().filter_queryset(self.request, queryset, self)
            except exceptions.ValidationError as exc:
                errors.update(exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail})
        if getattr(self, "action", None) == "list" and isinstance(self.paginator, KeysetPagination):
            errors.update(self.paginator.check_params(self.request, self))
        if errors:
            raise exceptions.ValidationError(errors)
        return queryset


# --- ordering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderKey:
    field: str  # model field name (a concrete, non-relational column)
    descending: bool
    nullable: bool

    @property
    def term(self) -> str:
        return f"-{self.field}" if self.descending else self.field

    def expression(self, reverse: bool = False):
        """NULLs last in the requested order on every database (so first when walking backwards).

        A non-null key gets a plain ASC/DESC, which a b-tree index serves in
        either direction (an explicit NULLS LAST on DESC would force a sort).
        """
        nulls = {}
        if self.nullable:
            nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
        if self.descending != reverse:
            return F(self.field).desc(**nulls)
        return F(self.field).asc(**nulls)


class StrictOrderingFilter:
    """``?ordering=-severity,detected_at`` over the view's ``ordering_fields`` whitelist; anything else is a 400.

    The view's ``ordering`` is the default. ``id`` always ends the ordering
    (same direction as the first key), so every row has a unique position.
    """

    param = "ordering"

    @staticmethod
    def _allowed(view) -> tuple[str, ...]:
        return tuple(getattr(view, "ordering_fields", ()))

    def keys(self, request, view) -> list[OrderKey]:
        """The ordering as keys, tie-breaker included. Raises ValidationError for a term not on the whitelist.

        Worked out once per request (the filter, the paginator's checks and its page all ask).
        """
        cached = getattr(request, "_sredesk_order_keys", None)
        if cached is None:
            cached = request._sredesk_order_keys = self._keys(request, view)
        return cached

    def _keys(self, request, view) -> list[OrderKey]:
        model = view.get_queryset().model
        raw = request.query_params.get(self.param)
        if raw is None or not raw.strip():
            terms = list(view.ordering)
        else:
            allowed = self._allowed(view)
            terms, bad = [], []
            for term in raw.split(","):
                term = term.strip()
                if term.lstrip("-") in allowed:
                    if term.lstrip("-") not in [t.lstrip("-") for t in terms]:
                        terms.append(term)
                else:
                    bad.append(term)
            if bad or not terms:
                shown = ", ".join(repr(b[:40]) for b in bad) or "nothing"
                raise exceptions.ValidationError(
                    {self.param: [f"Cannot order by {shown}. Allowed: {', '.join(allowed)} (prefix - to reverse)."]}
                )
        if "id" not in [t.lstrip("-") for t in terms]:
            terms.append("-id" if terms[0].startswith("-") else "id")
        keys = []
        for term in terms:
            name = term.lstrip("-")
            field = model._meta.get_field(name)
            keys.append(OrderKey(field=name, descending=term.startswith("-"), nullable=bool(field.null)))
        return keys

    def filter_queryset(self, request, queryset, view):
        return queryset.order_by(*(key.expression() for key in self.keys(request, view)))

    def get_schema_operation_parameters(self, view):
        allowed = self._allowed(view)
        choices = "|".join(allowed)
        return [
            {
                "name": self.param,
                "required": False,
                "in": "query",
                "description": (
                    f"Comma-separated fields to order by, `-` to reverse. Allowed: {', '.join(allowed)}. "
                    f"Default: {','.join(view.ordering)}. `id` always breaks ties."
                ),
                "schema": {"type": "string", "pattern": f"^-?({choices})(,-?({choices}))*$"},
            }
        ]


# --- keyset (cursor) pagination -----------------------------------------------------------


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
    if not isinstance(value, str):
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
        self.page_size = getattr(settings, "REST_FRAMEWORK", {}).get("PAGE_SIZE") or self.page_size

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
            payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            if not isinstance(payload, dict) or payload.get("o") != self._signature(keys):
                raise CursorError("made for another ordering")
            values = payload.get("v")
            if not isinstance(values, list) or len(values) != len(keys):
                raise CursorError("wrong length")
            reverse = payload.get("r", 0)
            if reverse not in (0, 1):
                raise CursorError("bad direction")
            return [_decode_value(model, k, v) for k, v in zip(keys, values, strict=True)], bool(reverse)
        except (CursorError, ValueError, TypeError, UnicodeError, binascii.Error, OverflowError) as exc:
            raise CursorError(str(exc)) from exc

    def _encode(self, keys: list[OrderKey], values: list[Any], reverse: bool) -> str:
        payload = {"o": self._signature(keys), "v": [_encode_value(v) for v in values], "r": int(reverse)}
        return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_param)
        if raw is None or raw == "":
            return self.page_size
        return min(int(raw), self.max_page_size)

    def check_params(self, request, view) -> dict[str, list[str]]:
        """Errors of the paging parameters (``page_size``, ``cursor``, and ``page``, which is not ours)."""
        errors: dict[str, list[str]] = {}
        if "page" in request.query_params:
            errors["page"] = ["This API pages with cursors: follow the `next` link instead of giving `page`."]
        raw_size = request.query_params.get(self.page_size_param)
        if raw_size not in (None, "") and (
            not raw_size.strip().isdigit() or int(raw_size) < 1 or len(raw_size.strip()) > 9
        ):
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
