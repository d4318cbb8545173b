"""Middleware: alert webhooks take a short path; web pages show times in the signed-in person's zone."""

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import get_resolver
from django.utils import timezone

from sredesk import dbtrouble

WEBHOOK_PREFIX = "/hooks/"
WEBHOOK_URLCONF = "incidents.webhooks"


class WebhookShortPathMiddleware:
    """Alert webhooks (``/hooks/...``) go straight to their view, past the browser middleware below this one.

    Sessions, CSRF, authentication, messages, clickjacking headers, htmx and
    the viewer's time zone mean nothing to Alertmanager or PagerDuty, and
    running them cost about a sixth of a small delivery's CPU (bench/ingest).
    ``ALLOWED_HOSTS`` is still enforced (a bad Host header answers 400) and an
    unknown path under the prefix still answers 404. Must be first in ``MIDDLEWARE``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # The URL patterns sredesk/urls.py includes at /hooks/: resolving against them alone skips the site's.
        self.hooks = get_resolver(WEBHOOK_URLCONF)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(WEBHOOK_PREFIX):
            return self.get_response(request)
        request.get_host()  # raises DisallowedHost, answered 400 by Django's exception handling
        match = self.hooks.resolve(request.path_info[len(WEBHOOK_PREFIX) - 1 :])  # Resolver404 is answered 404
        try:
            return match.func(request, *match.args, **match.kwargs)
        except Exception as exc:
            if dbtrouble.is_database_trouble(exc):  # 503 + Retry-After: Alertmanager and PagerDuty retry it
                return dbtrouble.unavailable_response(request, exc)
            raise


class UserTimezoneMiddleware:
    """Activate ``User.timezone`` for the request, so templates and forms read and write local wall-clock times.

    Times are stored as aware UTC; only their display (and the parsing of a
    time typed into a form) follows the viewer's zone. Anonymous visitors and
    an unknown zone name get UTC.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = getattr(getattr(request, "user", None), "timezone", "") or "UTC"
        try:
            timezone.activate(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo("UTC"))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
