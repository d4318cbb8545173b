"""Where sredesk lives and how settings read the environment: ``BASE_DIR``, ``SREDESK_VAR_DIR``, the
django-environ reader ``env`` (which also reads a ``.env`` file at the top of the project), the environment
variables renamed and their old names, and the helpers that read a port or a base URL and stop the process with
a sentence naming the variable when it is wrong.

The naming rule of every variable (``tests/sredesk/test_settings_names.py`` holds every settings module to it):
``DJANGO_<X>`` for Django's own knobs, a third party's own documented name where it has one (``DATABASE_URL``,
``CELERY_BROKER_URL``, ``REDIS_URL``, ``CELERY_REDBEAT_*``, ``SLACK_BOT_TOKEN``, ``EMAIL_URL``, ...), and
``SREDESK_<X>`` for sredesk's own, whose Python setting has exactly the variable's name.
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")  # real environment variables still win

SREDESK_VAR_DIR = Path(env.str("SREDESK_VAR_DIR", default=str(BASE_DIR / "var")))
SREDESK_VAR_DIR.mkdir(parents=True, exist_ok=True)

# Variables renamed to follow the naming rule (old name: new name). An old name is still read, for one release,
# while the new one is unset; `manage.py check` (and so `migrate`) warns about every old name still set
# (sredesk/checks.py). Remove an entry one release after it was added.
SREDESK_RENAMED_ENV_VARS = {
    "CONN_MAX_AGE": "DJANGO_CONN_MAX_AGE",
    "DATABASE_PREPARED_STATEMENTS": "SREDESK_DB_PREPARED_STATEMENTS",
    "CELERY_VISIBILITY_TIMEOUT": "SREDESK_BROKER_VISIBILITY_TIMEOUT_SECONDS",
    "SLACK_API_URL": "SREDESK_SLACK_API_URL",
    "SLACK_TIMEOUT_SECONDS": "SREDESK_SLACK_TIMEOUT_SECONDS",
    "DEFAULT_FROM_EMAIL": "DJANGO_DEFAULT_FROM_EMAIL",
    "EMAIL_TIMEOUT_SECONDS": "DJANGO_EMAIL_TIMEOUT",
}


def renamed(name: str) -> str:
    """The variable to read for ``name``: its old name (``SREDESK_RENAMED_ENV_VARS``) when only that one is set."""
    for old, new in SREDESK_RENAMED_ENV_VARS.items():
        if new == name and old in os.environ and name not in os.environ:
            return old
    return name


def _setting_problem(name: str, raw: str, problem: str):
    from django.core.exceptions import ImproperlyConfigured

    return ImproperlyConfigured(f"{name}={raw!r}: {problem}")


def _port(name: str, default: int) -> int:
    """A TCP port from the environment: ASCII digits, 1..65535, else a sentence naming the variable."""
    from sredesk.inputs import InputError, parse_int

    raw = env.str(name, default=str(default))
    try:
        return parse_int(raw, field=name, min_value=1, max_value=65535)
    except InputError as exc:
        raise _setting_problem(name, raw, exc.message) from None


def _base_url(name: str, default: str) -> str:
    """An absolute http(s) URL from the environment, without its trailing slash."""
    from sredesk.inputs import InputError, check_url

    raw = env.str(name, default=default).strip()
    try:
        check_url(raw or "-", field=name, max_length=200)
    except InputError as exc:
        raise _setting_problem(name, raw, exc.message) from None
    return raw.rstrip("/")
