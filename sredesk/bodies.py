"""Request bodies within a byte limit: raw, multipart and chunked alike, streamed, 413 before reading past it.

Every endpoint that takes a body reads it through here, so each one enforces
its documented limit the same way:

==============================================  ====================================  ============
door                                            limit (setting)                       default
==============================================  ====================================  ============
``/hooks/<integration>/``                       ``SREDESK_WEBHOOK_MAX_BYTES``         1 MiB
``/ci/junit/``, ``POST /api/v1/test-runs/upload/``  ``SREDESK_JUNIT_MAX_BYTES``      50 MiB
``/slack/commands``, ``/interactivity``, ``/events``  ``SREDESK_SLACK_MAX_BODY_BYTES``  256 KiB
every other view (web forms, API JSON, admin)   Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``  2.5 MiB
==============================================  ====================================  ============

A view names its limit with :func:`body_limit`; :class:`BodyLimitMiddleware`
applies it before the view (and before CSRF reads a form) runs; the webhook,
which takes a short path past the middleware, calls :func:`read_bytes` itself.

What happens to a body (RFC 9112 section 6):

1. ``Content-Length`` (ASCII digits only, else 400) over the limit: **413**, with
   the limit and its setting in the message, before a byte is read.
2. ``Transfer-Encoding: chunked`` has no length up front. The WSGI server
   decodes the chunks and ends the input stream (gunicorn sets
   ``wsgi.input_terminated``), but Django trusts ``CONTENT_LENGTH`` alone and
   reads such a body as empty: a valid alert became a 400 and was lost
   (issue 12). Here it is read up to the limit plus one byte into a spool; one
   byte more is a 413 and nothing further is read. The request then looks like
   an ordinary one (``CONTENT_LENGTH`` is the spooled size, its stream the
   spool), so Django's form and multipart parsers and DRF read it unchanged. A
   server that does not end the input (``manage.py runserver``) cannot delimit
   a chunked body: **411**, asking for ``Content-Length``.
3. Spooling: a body is held in memory up to Django's ``FILE_UPLOAD_MAX_MEMORY_SIZE``
   and on disk (``FILE_UPLOAD_TEMP_DIR``) beyond, the same rule Django's
   upload handlers apply to multipart files, so a 50 MiB report, raw or
   multipart, is never held whole in memory. Django's own 2.5 MiB
   ``request.body`` limit is not involved: large bodies are never read through
   ``request.body``.

Errors are :class:`BodyError` (``status`` 400, 411 or 413, ``field`` and a sentence);
:func:`error_response` renders one in the shape of the door that asked.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadedfile import UploadedFile
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse

from sredesk.api.errors import error_body

__all__ = [
    "DEFAULT_LIMIT_SETTING",
    "BodyError",
    "BodyLimitMiddleware",
    "Upload",
    "body_limit",
    "error_response",
    "read_bytes",
    "read_upload",
    "spool_body",
]

DEFAULT_LIMIT_SETTING = "DATA_UPLOAD_MAX_MEMORY_SIZE"
"""The limit of a view that names none: Django's, which its form parsing applies anyway."""

CHUNK_BYTES = 64 * 1024
_SPOOLED = "_sredesk_body_spooled"  # request attribute: the chunked body was read into a spool already


class BodyError(SuspiciousOperation):
    """A request body sredesk will not read: ``status`` (400, 411, 413), ``field`` and a sentence.

    A ``SuspiciousOperation``, so code that does not catch it still answers
    400, never 500; catch it (or let :class:`BodyLimitMiddleware` do so) and
    answer with :func:`error_response` to give the right status.
    """

    def __init__(self, message: str, *, status: int, field: str = "body", limit: int | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.field, self.limit = message, status, field, limit

    @classmethod
    def too_large(cls, limit: int, setting: str, size: int | None = None) -> BodyError:
        """413 for a body over ``limit`` bytes (``size`` when declared), naming the limit and its setting."""
        got = f"is {_size_text(size)}, over" if size is not None else "is over"
        return cls(
            f"The request body {got} this endpoint's limit of {_size_text(limit)} ({limit:,} bytes, "
            f"{setting}); nothing past the limit was read.",
            status=413,
            limit=limit,
        )


def _size_text(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MiB"


def limit_of(setting: str) -> int:
    """The byte limit a setting holds (``SREDESK_JUNIT_MAX_BYTES`` ...)."""
    return int(getattr(settings, setting))


def declared_length(request: HttpRequest) -> int | None:
    """``Content-Length`` as an int, None when absent or empty; 400 (``BodyError``) unless ASCII digits."""
    raw = request.META.get("CONTENT_LENGTH") or ""
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise BodyError("Content-Length must be a whole number of bytes.", status=400, field="Content-Length")
    return int(raw)


def _chunked(request: HttpRequest) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def _spool() -> tempfile.SpooledTemporaryFile:
    return tempfile.SpooledTemporaryFile(
        max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, dir=settings.FILE_UPLOAD_TEMP_DIR
    )


def _copy(source: BinaryIO, target: BinaryIO, *, limit: int, setting: str) -> int:
    """Copy at most ``limit`` bytes in chunks; 413 as soon as one byte more arrives. Returns the size."""
    size = 0
    while True:
        chunk = source.read(min(CHUNK_BYTES, limit + 1 - size))
        if not chunk:
            return size
        size += len(chunk)
        if size > limit:
            raise BodyError.too_large(limit, setting)
        target.write(chunk)


def prepare(request: HttpRequest, *, setting: str) -> None:
    """Make the body readable within the limit ``setting`` holds, or raise ``BodyError``. Idempotent.

    A declared length over the limit is refused unread; a chunked body is
    spooled (see the module docstring) and the request rewritten to carry it
    with its length, so any reader afterwards sees an ordinary body.
    """
    limit = limit_of(setting)
    if not _chunked(request) or getattr(request, _SPOOLED, False):
        declared = declared_length(request)
        if declared is not None and declared > limit:
            raise BodyError.too_large(limit, setting, declared)
        return
    if not request.META.get("wsgi.input_terminated"):
        raise BodyError(
            "This server cannot read a chunked request body (Transfer-Encoding: chunked); "
            "send it with a Content-Length.",
            status=411,
            field="Transfer-Encoding",
        )
    spool = _spool()
    try:
        size = _copy(request.META["wsgi.input"], spool, limit=limit, setting=setting)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    request.META["CONTENT_LENGTH"] = str(size)
    request._stream = LimitedStream(spool, size)  # Django's own reader, now over a body of known length
    request._read_started = False
    request._sredesk_spool = spool  # kept alive (and closed) with the request
    setattr(request, _SPOOLED, True)


def read_bytes(request: HttpRequest, *, setting: str) -> bytes:
    """The whole body as bytes, raw, chunked or not, at most the limit ``setting`` holds.

    For small bodies that are needed as sent (webhook signatures and receipts).
    Raises ``BodyError`` (413 past the limit, 400/411 for a length that cannot be read).
    """
    prepare(request, setting=setting)
    return request.read(limit_of(setting) + 1)


def spool_body(request: HttpRequest, *, setting: str) -> BinaryIO:
    """The raw body as a file (at position 0) kept on disk past ``FILE_UPLOAD_MAX_MEMORY_SIZE``.

    Raises ``BodyError`` as :func:`prepare`. The file is the request's: it is
    closed when the request is garbage-collected.
    """
    prepare(request, setting=setting)
    spool = getattr(request, "_sredesk_spool", None)
    if spool is not None and not request._read_started:
        spool.seek(0)
        return spool
    spool = _spool()
    _copy(request, spool, limit=limit_of(setting), setting=setting)
    spool.seek(0)
    request._sredesk_spool = spool
    return spool


@dataclass(frozen=True)
class Upload:
    """What a file-taking door received: ``files`` as ``(name, file)`` pairs, each at position 0.

    ``raw`` is true when the body itself was the one file (any content type but
    ``multipart/form-data``; its name is then ``""``).
    """

    files: list[tuple[str, BinaryIO]]
    raw: bool


def read_upload(request: HttpRequest, *, setting: str, field: str = "file") -> Upload:
    """The files of an upload: the multipart files named ``field``, or the raw body as one file.

    Multipart is parsed by Django's parser (files on disk past
    ``FILE_UPLOAD_MAX_MEMORY_SIZE``), raw bodies spooled (:func:`spool_body`);
    both within the limit ``setting`` holds, chunked or not. An empty raw body
    gives no files. Raises ``BodyError``; a malformed multipart body raises
    Django's ``MultiPartParserError`` (a 400).
    """
    prepare(request, setting=setting)
    if request.content_type == "multipart/form-data":
        files: list[UploadedFile] = request.FILES.getlist(field)
        for upload in files:
            upload.seek(0)
        return Upload(files=[(upload.name or "", upload) for upload in files], raw=False)
    body = spool_body(request, setting=setting)
    empty = not body.read(1)
    body.seek(0)
    return Upload(files=[] if empty else [("", body)], raw=True)


def body_limit(setting: str) -> Callable:
    """Name the setting that holds this view's body limit (a view function, or a DRF action method).

    :class:`BodyLimitMiddleware` then holds the body to that limit instead of
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
    """

    def mark(view: Callable) -> Callable:
        view.body_limit_setting = setting
        return view

    return mark


def _view_setting(request: HttpRequest, view_func: Callable) -> str:
    setting = getattr(view_func, "body_limit_setting", None)
    if setting is None and hasattr(view_func, "cls"):  # a DRF view: the class, or the routed action's method
        action = (getattr(view_func, "actions", None) or {}).get(request.method.lower(), "")
        handler = getattr(view_func.cls, action, None) or getattr(view_func.cls, request.method.lower(), None)
        setting = getattr(handler, "body_limit_setting", None) or getattr(view_func.cls, "body_limit_setting", None)
    return setting or DEFAULT_LIMIT_SETTING


def error_response(request: HttpRequest, exc: BodyError) -> HttpResponse:
    """``exc`` in the error shape of the door: the API's under ``/api/``, ``{"error", "field"}`` for machine
    doors (``/ci/``, ``/hooks/``), plain text for pages."""
    headers = {"Connection": "close"} if exc.status == 413 else {}  # the unread rest of the body is not wanted
    if request.path_info.startswith("/api/"):
        code = "too_large" if exc.status == 413 else "bad_request"
        body = error_body(code, exc.message, {exc.field: [exc.message]})
        return JsonResponse(body, status=exc.status, headers=headers)
    if request.path_info.startswith(("/ci/", "/hooks/", "/slack/")):
        return JsonResponse({"error": exc.message, "field": exc.field}, status=exc.status, headers=headers)
    return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8", headers=headers)


class BodyLimitMiddleware:
    """Hold every view's request body to its limit (:func:`body_limit`, else ``DATA_UPLOAD_MAX_MEMORY_SIZE``).

    Runs before the view and before CSRF's check reads a form: an oversize
    body is answered 413 unread, a chunked one is spooled (see the module
    docstring). Goes above ``CsrfViewMiddleware`` in ``MIDDLEWARE``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args, view_kwargs) -> HttpResponse | None:
        if request.META.get("CONTENT_LENGTH") in (None, "", "0") and not _chunked(request):
            return None  # no body: nothing to hold
        try:
            prepare(request, setting=_view_setting(request, view_func))
        except BodyError as exc:
            return error_response(request, exc)
        return None
