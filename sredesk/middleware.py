"""Middleware: alert webhooks and Slack's doors take a short path; web pages show times in the viewer's zone."""

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import get_resolver
from django.utils import timezone
from django.utils.module_loading import import_string

from sredesk import dbtrouble

WEBHOOK_PREFIX = "/hooks/"
WEBHOOK_URLCONF = "incidents.webhooks"
# Slack's signed doors (slackapp.views): machine clients as well, answered within Slack's 3 s.
SLACK_DOORS = {
    "/slack/commands": "slackapp.views.commands",
    "/slack/interactivity": "slackapp.views.interactivity",
    "/slack/events": "slackapp.views.events",
}


class WebhookShortPathMiddleware:
    """Alert webhooks (``/hooks/...``) and Slack's doors (``SLACK_DOORS``) go straight to their view, past the
    browser middleware below this one.

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
        self.slack = {path: import_string(view) for path, view in SLACK_DOORS.items()}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        slack_door = self.slack.get(request.path_info)
        if slack_door is None and not request.path_info.startswith(WEBHOOK_PREFIX):
            return self.get_response(request)
        request.get_host()  # raises DisallowedHost, answered 400 by Django's exception handling
        try:
            if slack_door is not None:
                return slack_door(request)
            match = self.hooks.resolve(request.path_info[len(WEBHOOK_PREFIX) - 1 :])  # Resolver404 is answered 404
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
