"""The API's one error shape, the exception handler that produces it, and JSON 400/404/500 pages under /api/.

``{"error": {"code", "message", "fields": {"<field>": ["..."]}}}`` for every 4xx,
including Django ``ValidationError`` from the services (400, ``message_dict`` ->
``fields``; ``sredesk.inputs.InputError`` under its own field), a domain
``StateConflict`` (409: ``InvalidTransition``, ``InvalidPostMortemTransition``),
a domain ``TooSoon`` (429 with ``Retry-After``: a limited action asked for again too soon),
``Http404``/``DoesNotExist`` (404) and ``PermissionDenied`` (403: a domain
``sredesk.exceptions.PermissionDenied`` keeps its sentence, and its ``field``
under ``fields``, as the web and Slack show it).
"""

import sys
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from sredesk.exceptions import PermissionDenied as DomainPermissionDenied
from sredesk.exceptions import StateConflict, TooSoon
from sredesk.inputs import InputError


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

    if isinstance(exc, StateConflict):
        set_rollback()
        code = getattr(exc, "code", None) or "invalid_transition"
        return Response(error_body(code, " ".join(exc.messages)), status=409)
    if isinstance(exc, TooSoon):  # nothing was done; the header says when it is allowed again
        set_rollback()
        headers = {"Retry-After": str(exc.wait_seconds())}
        return Response(error_body("too_soon", exc.message), status=429, headers=headers)
    if isinstance(exc, InputError):  # a body the parser could not read keeps DRF's code, parse_error
        set_rollback()
        return _validation_response(exc.as_fields(), code="parse_error" if exc.code == "parse_error" else "invalid")
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        return _validation_response(_django_fields(exc))
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("too_large", str(exc) or "The request body is too large."), status=413)
    if isinstance(exc, SuspiciousOperation):  # e.g. too many multipart fields or files
        return Response(error_body("bad_request", str(exc) or "Malformed request."), status=400)
    if isinstance(exc, DomainPermissionDenied):  # the domain's sentence, as the web and Slack show it
        set_rollback()
        fields = {exc.field: [exc.message]} if exc.field else None
        return Response(error_body("permission_denied", exc.message, fields), status=403)
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
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
    """JSON for a server fault under /api/ (logged by Django), Django's page elsewhere.

    A fault that is the database's (a lock or statement timeout, a lost connection) raised outside a view is a 503
    with Retry-After instead (``sredesk.dbtrouble``; inside views its middleware answers first).
    """
    from sredesk import dbtrouble

    exc = sys.exc_info()[1]
    if dbtrouble.is_database_trouble(exc):
        return dbtrouble.unavailable_response(request, exc)
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
