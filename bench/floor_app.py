"""The FLOOR of ``bench/ingest.py``: the least a Django app behind gunicorn can do with an alert webhook.

Settings, URLs, the one view and the WSGI callable in one module
(``DJANGO_SETTINGS_MODULE=bench.floor_app``, served as
``gunicorn bench.floor_app:application``). The view parses the same JSON body
sredesk receives and, in one transaction, runs one ``INSERT ... ON CONFLICT DO
NOTHING`` per alert into ``bench_floor_alert`` through Django's connection
cursor: no authentication, no receipt, no dedup logic, no grouping, no
timeline, no middleware (``bench/floors.py``). Same database, same ``CONN_MAX_AGE`` and prepared statements as sredesk.
"""

import json

from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import path

from bench import floors
from bench.floors import ALLOWED_HOSTS, DEBUG, INSTALLED_APPS, LOGGING, MIDDLEWARE, SECRET_KEY, TIME_ZONE, USE_TZ  # noqa: F401

TABLE = "bench_floor_alert"
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    fingerprint varchar(64) NOT NULL,
    starts_at timestamptz NOT NULL,
    status varchar(16) NOT NULL,
    labels jsonb NOT NULL,
    PRIMARY KEY (fingerprint, starts_at)
)
"""
INSERT = f"INSERT INTO {TABLE} (fingerprint, starts_at, status, labels) VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"

# --- settings (bench/floors.py) ---------------------------------------------------------------

ROOT_URLCONF = __name__
DATABASES = floors.database("postgres:///sredesk_bench_ingest")

# --- the view -------------------------------------------------------------------------


def hook(request, integration_id):
    alerts = json.loads(request.body)["alerts"]
    with transaction.atomic(), connection.cursor() as cursor:
        for alert in alerts:
            cursor.execute(
                INSERT, [alert["fingerprint"], alert["startsAt"], alert["status"], json.dumps(alert["labels"])]
            )
    return JsonResponse({"alerts": len(alerts)})


urlpatterns = [path("hooks/<uuid:integration_id>/", hook)]


application = floors.wsgi_application(__name__)
