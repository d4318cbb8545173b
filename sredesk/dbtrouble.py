"""The web tier under database trouble: bounded waits on PostgreSQL, a 503 that says when to retry, /healthz first.

Issue 12 item 8: with no timeouts, a request waited out any table lock; with
both gunicorn workers blocked, /healthz stopped answering, and a 35 s lock
ended in gunicorn's HTML 500 page. Now:

* every PostgreSQL connection of a web process (``sredesk.wsgi``) runs with
  ``lock_timeout`` and ``statement_timeout`` (``SREDESK_DB_LOCK_TIMEOUT_SECONDS``,
  ``SREDESK_DB_STATEMENT_TIMEOUT_SECONDS``), a Celery worker's with longer ones
  (``SREDESK_WORKER_DB_*``); management commands (migrate) keep none. Set once
  per connection (``connection_created``), not per request;
* a statement that hits one, or a database that is down, answers 503 with
  ``Retry-After`` (``SREDESK_DB_RETRY_AFTER_SECONDS``): JSON in the API's shape
  under ``/api/``, the webhook's shape under ``/hooks/`` and ``/ci/`` (senders
  retry a 5xx, never a 4xx), a page of its own that needs no database elsewhere;
* ``/healthz`` is answered by the first middleware, before sessions, users or
  the database (``HealthzMiddleware``).

PostgreSQL's settings: https://www.postgresql.org/docs/current/runtime-config-client.html
(``lock_timeout`` SQLSTATE 55P03 and ``statement_timeout`` 57014 both reach
Django as ``OperationalError``).
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static

logger = logging.getLogger(__name__)

_process_timeouts: tuple[float, float] | None = None  # (lock, statement) in seconds for this process, or None


def use_timeouts(role: str | None) -> None:
    """Give every PostgreSQL connection this process opens from now on the timeouts of ``role``.

    ``role`` is ``"web"`` (``sredesk.wsgi``: ``SREDESK_DB_LOCK_TIMEOUT_SECONDS`` and
    ``SREDESK_DB_STATEMENT_TIMEOUT_SECONDS``) or ``"worker"`` (``sredesk.celery``'s worker start:
    ``SREDESK_WORKER_DB_LOCK_TIMEOUT_SECONDS`` and ``SREDESK_WORKER_DB_STATEMENT_TIMEOUT_SECONDS``), in seconds, 0
    meaning none. None: no timeouts (PostgreSQL's defaults). Connections already open are closed, so the next
    query opens one with the timeouts.
    """
    from django.db import connections

    global _process_timeouts
    _process_timeouts = _role_timeouts(role) if role else None
    connection_created.connect(_set_timeouts, dispatch_uid="sredesk.dbtrouble.timeouts")
    connections.close_all()


def _role_timeouts(role: str) -> tuple[float, float]:
    """(lock_timeout, statement_timeout) in seconds of a ``"web"`` or ``"worker"`` process, from the settings."""
    if role == "web":
        return settings.SREDESK_DB_LOCK_TIMEOUT_SECONDS, settings.SREDESK_DB_STATEMENT_TIMEOUT_SECONDS
    if role == "worker":
        return settings.SREDESK_WORKER_DB_LOCK_TIMEOUT_SECONDS, settings.SREDESK_WORKER_DB_STATEMENT_TIMEOUT_SECONDS
    raise ValueError(f"no database timeouts for a process of role {role!r}")


def _set_timeouts(sender, connection, **kwargs) -> None:
    if connection.vendor != "postgresql" or _process_timeouts is None:
        return
    lock, statement = (max(int(seconds * 1000), 0) for seconds in _process_timeouts)
    with connection.cursor() as cursor:  # literal integers: SET takes no bind parameters
        cursor.execute(f"SET lock_timeout = {lock}")
        cursor.execute(f"SET statement_timeout = {statement}")


def is_database_trouble(exc: BaseException | None) -> bool:
    """The database did not answer in time or at all: a lock or statement timeout, a lost or refused connection.

    (Deadlocks and serialization failures are ``OperationalError`` too: a retry is the right answer to them.)
    """
    return isinstance(exc, (OperationalError, InterfaceError))


def unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The 503 for ``request`` when the database failed it, with ``Retry-After`` in seconds."""
    from sredesk.api.errors import error_body

    wait = settings.SREDESK_DB_RETRY_AFTER_SECONDS
    headers = {"Retry-After": str(wait)}
    cause = exc.__cause__ or exc
    logger.warning(
        "Database unavailable for %s %s: %s", request.method, request.path, f"{type(cause).__name__}: {cause}"
    )
    message = f"The database is busy or unreachable; nothing was changed. Retry in {wait} s."
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("unavailable", message), status=503, headers=headers)
    if request.path.startswith(("/hooks/", "/ci/")):
        return JsonResponse({"error": message, "field": None}, status=503, headers=headers)
    page = UNAVAILABLE_PAGE.format(wait=wait, css=static("sredesk/app.css"))
    return HttpResponse(page, status=503, headers=headers, content_type="text/html; charset=utf-8")


# No template: rendering base.html would ask the database who is signed in.
UNAVAILABLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Busy · sredesk</title><link rel="stylesheet" href="{css}"></head>
<body><main><div class="card narrow"><h1>sredesk is busy</h1>
<p>The database did not answer in time, so nothing was changed. Try again in {wait} seconds;
if this goes on, the operators can see why on <code>/readyz</code>.</p></div></main></body></html>
"""


class DatabaseTroubleMiddleware:
    """Answers a view that failed on the database with ``unavailable_response`` (503, Retry-After).

    ``sredesk.api.errors.handler500`` does the same for failures outside views (another middleware's query).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return unavailable_response(request, exception) if is_database_trouble(exception) else None


class HealthzMiddleware:
    """``GET /healthz`` answered at once, before host checks, sessions, users and the database. Must be first.

    A load balancer's or Kubernetes' probe asks by IP address (a Host that ``ALLOWED_HOSTS`` would refuse) and
    must see the process alive even while the database is locked or down; ``/readyz`` is the deeper check.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/healthz" and request.method in ("GET", "HEAD"):
            return JsonResponse({"status": "ok"})
        return self.get_response(request)
