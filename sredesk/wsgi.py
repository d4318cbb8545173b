"""WSGI entry point (gunicorn sredesk.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sredesk.settings")
application = get_wsgi_application()
