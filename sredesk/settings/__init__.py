"""sredesk settings: every knob comes from the environment (django-environ).

With no variables set, sredesk runs in its *embedded default*: a SQLite file
under ``var/``, a Celery broker on the local filesystem, and notifications into
the database outbox plus the log. Production sets ``DATABASE_URL``
(PostgreSQL), ``CELERY_BROKER_URL`` (Redis), ``DJANGO_SECRET_KEY``,
``DJANGO_ALLOWED_HOSTS`` and ``SLACK_BOT_TOKEN``. Every variable is listed in
the README's configuration table and in ``.env.example``.

``DJANGO_SETTINGS_MODULE=sredesk.settings`` is this package; its modules are read in this order, each one
able to use what the ones before it set:

- ``base``: where sredesk lives (``BASE_DIR``, ``VAR_DIR``), the ``env`` reader (and ``.env``), helpers that
  turn a bad value into a sentence naming the variable.
- ``core``: Django itself: apps, middleware, templates, the database and its timeouts, static files, time,
  logging, and the refusal to run production with the embedded secret key.
- ``security``: security headers and cookies, Content-Security-Policy, login throttling (django-axes).
- ``celery_conf``: the Celery broker, workers' behaviour, the beat scheduler and its schedule.
- ``product``: sredesk's own knobs: links, demo login, reminders, notifications (Slack, email), post-mortems,
  alert webhooks, encryption of signing secrets, CI uploads.
- ``api``: the REST API (Django REST framework) and its OpenAPI schema (drf-spectacular).
"""

# Read in this order (each module imports what it uses from the ones before it).
from .base import *  # noqa: F403, I001
from .core import *  # noqa: F403
from .security import *  # noqa: F403
from .celery_conf import *  # noqa: F403
from .product import *  # noqa: F403
from .api import *  # noqa: F403
