"""WSGI entry point (gunicorn sredesk.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sredesk.settings")
application = get_wsgi_application()

from sredesk import dbtrouble  # noqa: E402 - needs the settings loaded above

dbtrouble.use_timeouts("web")  # lock and statement timeouts on this process's PostgreSQL connections
