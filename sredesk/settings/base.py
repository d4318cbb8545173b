"""Where sredesk lives and how settings read the environment: ``BASE_DIR``, ``VAR_DIR`` (``SREDESK_VAR_DIR``),
the django-environ reader ``env`` (which also reads a ``.env`` file at the top of the project), and the helpers
that read a port or a base URL and stop the process with a sentence naming the variable when it is wrong.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("SREDESK_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")  # real environment variables still win


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
