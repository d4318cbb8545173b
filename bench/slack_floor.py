"""The FLOOR of ``bench/slack.py``: a bare Django view that only verifies Slack's signature, behind gunicorn.

Settings, URL, the one view and the WSGI callable in one module
(``DJANGO_SETTINGS_MODULE=bench.slack_floor``, served as
``gunicorn bench.slack_floor:application``). The view reads the raw body,
checks it with slack_sdk's ``SignatureVerifier`` (``SLACK_SIGNING_SECRET``)
and answers the same ephemeral ack sredesk answers: no database, no broker,
no middleware (the settings ``bench/floors.py`` gives every floor).

With ``SLACK_FLOOR_RECORDS=1`` (``bench/slack.py --floor-records``) the floor
also does the least a correct door must do before it answers: one durable
``INSERT ... ON CONFLICT DO NOTHING`` of the command's natural key
(``user_id:trigger_id``) into ``bench_slack_floor`` (autocommit, raw cursor,
no JSON, no broker). It tells how much of the gap is that write itself.
"""

from urllib.parse import parse_qs

from django.http import HttpResponse, JsonResponse
from django.urls import path
from slack_sdk.signature import SignatureVerifier

from bench import floors
from bench.floors import ALLOWED_HOSTS, DEBUG, INSTALLED_APPS, LOGGING, MIDDLEWARE, SECRET_KEY, TIME_ZONE, USE_TZ  # noqa: F401

ROOT_URLCONF = __name__
RECORDS = floors.env.bool("SLACK_FLOOR_RECORDS", default=False)
DATABASES: dict = floors.database("postgres:///sredesk_bench_slack") if RECORDS else {}
TABLE = "bench_slack_floor"
CREATE_TABLE = f"CREATE TABLE IF NOT EXISTS {TABLE} (key varchar(255) PRIMARY KEY)"
INSERT = f"INSERT INTO {TABLE} (key) VALUES (%s) ON CONFLICT DO NOTHING"

_verifier = SignatureVerifier(floors.env.str("SLACK_SIGNING_SECRET", default="floor"))


def commands(request):
    if request.method != "POST":
        return HttpResponse("floor")
    if not _verifier.is_valid_request(request.body, request.headers):
        return JsonResponse({"error": "bad signature"}, status=401)
    if RECORDS:
        from django.db import connection

        form = parse_qs(request.body.decode("ascii"))
        with connection.cursor() as cursor:
            cursor.execute(INSERT, [f"{form['user_id'][0]}:{form['trigger_id'][0]}"])
    return JsonResponse({"response_type": "ephemeral", "text": "Working on it…"})


urlpatterns = [path("slack/commands", commands), path("", commands)]

application = floors.wsgi_application(__name__)
