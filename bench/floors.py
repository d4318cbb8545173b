"""What the FLOORS of the HTTP benchmarks share: bare Django settings and a WSGI callable made on first use.

A floor (``bench/floor_app.py`` for ``bench/ingest.py``, ``bench/slack_floor.py``
for ``bench/slack.py``) is one module that is at once the settings module, the
URLconf and the WSGI app: no installed apps, no middleware, DEBUG from
``DJANGO_DEBUG`` (``bench/load.py``'s ``Server`` sets it off for both sides).
A floor that writes uses ``database()``: the same database, ``CONN_MAX_AGE``
and prepared statements as sredesk's settings give it.
"""

import os

import environ

env = environ.Env()
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
USE_TZ = True
TIME_ZONE = "UTC"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("SREDESK_LOG_LEVEL", default="INFO")},
}


def database(default_url: str) -> dict:
    """``DATABASES`` from ``DATABASE_URL`` (else ``default_url``): kept open, prepared statements, as sredesk's."""
    default = env.db("DATABASE_URL", default=default_url)
    default["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    default["CONN_HEALTH_CHECKS"] = True
    if env.bool("SREDESK_DB_PREPARED_STATEMENTS", default=True):  # as sredesk/settings/core.py
        default.setdefault("OPTIONS", {})["server_side_binding"] = True
        default["OPTIONS"]["prepare_threshold"] = 5
    return {"default": default}


def wsgi_application(settings_module: str):
    """A WSGI callable for the floor ``settings_module``: Django's handler, made on the first request."""
    handler = None

    def application(environ_, start_response):
        nonlocal handler
        if handler is None:
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
            from django.core.wsgi import get_wsgi_application

            handler = get_wsgi_application()
        return handler(environ_, start_response)

    return application
