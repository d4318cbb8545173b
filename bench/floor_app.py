"""The FLOOR of ``bench/ingest.py``: the least a Django app behind gunicorn can do with an alert webhook.

Settings, URLs, the one view and the WSGI callable in one module
(``DJANGO_SETTINGS_MODULE=bench.floor_app``, served as
``gunicorn bench.floor_app:application``). The view parses the same JSON body
sredesk receives and, in one transaction, runs one ``INSERT ... ON CONFLICT DO
NOTHING`` per alert into ``bench_floor_alert`` through Django's connection
cursor: no authentication, no receipt, no dedup logic, no grouping, no
timeline, no middleware. Same database, same ``CONN_MAX_AGE`` and prepared statements as sredesk.
"""

import json
import os

import environ
from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import path

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

# --- settings -------------------------------------------------------------------------

env = environ.Env()
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = __name__
USE_TZ = True
TIME_ZONE = "UTC"
DATABASES = {"default": env.db("DATABASE_URL", default="postgres:///sredesk_bench_ingest")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if env.bool("SREDESK_DB_PREPARED_STATEMENTS", default=True):  # as sredesk's settings
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("SREDESK_LOG_LEVEL", default="INFO")},
}

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


# --- WSGI -----------------------------------------------------------------------------

_handler = None


def application(environ_, start_response):
    """Django's WSGI handler, made on the first request (this module is also the settings module)."""
    global _handler
    if _handler is None:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", __name__)
        from django.core.wsgi import get_wsgi_application

        _handler = get_wsgi_application()
    return _handler(environ_, start_response)
