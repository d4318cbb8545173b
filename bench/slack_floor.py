"""The FLOOR of ``bench/slack.py``: a bare Django view that only verifies Slack's signature, behind gunicorn.

Settings, URL, the one view and the WSGI callable in one module
(``DJANGO_SETTINGS_MODULE=bench.slack_floor``, served as
``gunicorn bench.slack_floor:application``). The view reads the raw body,
checks it with slack_sdk's ``SignatureVerifier`` (``SLACK_SIGNING_SECRET``)
and answers the same ephemeral ack sredesk answers: no database, no broker,
no middleware (the settings ``bench/floors.py`` gives every floor).
"""

from django.http import HttpResponse, JsonResponse
from django.urls import path
from slack_sdk.signature import SignatureVerifier

from bench import floors
from bench.floors import ALLOWED_HOSTS, DEBUG, INSTALLED_APPS, LOGGING, MIDDLEWARE, SECRET_KEY, TIME_ZONE, USE_TZ  # noqa: F401

ROOT_URLCONF = __name__
DATABASES: dict = {}

_verifier = SignatureVerifier(floors.env.str("SLACK_SIGNING_SECRET", default="floor"))


def commands(request):
    if request.method != "POST":
        return HttpResponse("floor")
    if not _verifier.is_valid_request(request.body, request.headers):
        return JsonResponse({"error": "bad signature"}, status=401)
    return JsonResponse({"response_type": "ephemeral", "text": "Working on it…"})


urlpatterns = [path("slack/commands", commands), path("", commands)]

application = floors.wsgi_application(__name__)
