"""The FLOOR of ``bench/slack.py``: a bare Django view that only verifies Slack's signature, behind gunicorn.

Settings, URL, the one view and the WSGI callable in one module
(``DJANGO_SETTINGS_MODULE=bench.slack_floor``, served as
``gunicorn bench.slack_floor:application``). The view reads the raw body,
checks it with slack_sdk's ``SignatureVerifier`` (``SLACK_SIGNING_SECRET``)
and answers the same ephemeral ack sredesk answers: no database, no broker,
no middleware.
"""

import os

import environ
from django.http import HttpResponse, JsonResponse
from django.urls import path
from slack_sdk.signature import SignatureVerifier

env = environ.Env()
DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = __name__
USE_TZ = True
DATABASES: dict = {}

_verifier = SignatureVerifier(env.str("SLACK_SIGNING_SECRET", default="floor"))


def commands(request):
    if request.method != "POST":
        return HttpResponse("floor")
    if not _verifier.is_valid_request(request.body, request.headers):
        return JsonResponse({"error": "bad signature"}, status=401)
    return JsonResponse({"response_type": "ephemeral", "text": "Working on it…"})


urlpatterns = [path("slack/commands", commands), path("", commands)]

os.environ.setdefault("DJANGO_SETTINGS_MODULE", __name__)
from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
