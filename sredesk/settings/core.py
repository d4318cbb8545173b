"""Django's own settings: secret key and hosts, installed apps, middleware, templates, the database (engine,
connection reuse, prepared statements, lock and statement timeouts per kind of process), static files, time
zone, logging; last, the refusal to run a production database with the embedded secret key.
"""

from .base import BASE_DIR, SREDESK_VAR_DIR, env, renamed

# --- Django core -------------------------------------------------------------

DEBUG = env.bool("DJANGO_DEBUG", default=False)
_EMBEDDED_SECRET_KEY = "sredesk-embedded-default-insecure-key-do-not-use-in-production"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_EMBEDDED_SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "django_htmx",
    "simple_history",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our static files: /api/docs/ works offline
    "csp",  # Content-Security-Policy header and nonces
    "sredesk.apps.SignInLockoutsConfig",  # django-axes, login throttling: see "Login throttling" below
    "ownership",
    "incidents",
    "postmortems",
    "slos",
    "reports",
    "oncall",
    "notifications",
    "slackapp",
    "slackchannels",
    "demo",
]

MIDDLEWARE = [
    # /healthz answers before anything else, the database included (sredesk/dbtrouble.py).
    "sredesk.dbtrouble.HealthzMiddleware",
    # Alert webhooks skip everything below (machine clients: no sessions, CSRF, UI).
    "sredesk.middleware.WebhookShortPathMiddleware",
    # Every other view's request body within its limit, chunked ones included; before CSRF reads a form.
    "sredesk.bodies.BodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy: see "Security headers" below
    # A view the database failed (lock or statement timeout, connection lost) answers 503 with Retry-After.
    "sredesk.dbtrouble.DatabaseTroubleMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Web UI: request.htmx, times in the signed-in person's zone, who made each admin-visible change.
    "django_htmx.middleware.HtmxMiddleware",
    "sredesk.middleware.UserTimezoneMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Turns a login refused by the throttle into the "too many attempts" page (429); last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sredesk.urls"
WSGI_APPLICATION = "sredesk.wsgi.application"
AUTH_USER_MODEL = "ownership.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "sredesk" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # Tag libraries of the whole project (sredesk is not an app, so they are named here).
            "libraries": {"sredesk_ui": "sredesk.templatetags.sredesk_ui"},
        },
    },
]

# --- Database ------------------------------------------------------------------

# PostgreSQL only: server-side parameter binding, and statements run 5 times on a connection are prepared
# (psycopg's prepare_threshold): PostgreSQL then skips parsing and planning, which was a third of its time per
# alert webhook (bench/ingest). Turn off behind a pooler that cannot keep prepared statements (PgBouncer in
# transaction mode before 1.21).
SREDESK_DB_PREPARED_STATEMENTS = env.bool(renamed("SREDESK_DB_PREPARED_STATEMENTS"), default=True)
# PostgreSQL only: a database host that does not answer fails the connection after this many seconds instead of
# hanging.
SREDESK_DB_CONNECT_TIMEOUT_SECONDS = env.int("SREDESK_DB_CONNECT_TIMEOUT_SECONDS", default=5)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{SREDESK_VAR_DIR / 'sredesk.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file: WAL lets readers run beside the
    # writer, and IMMEDIATE transactions take the write lock at BEGIN, so a
    # transaction never fails half-way with "database is locked" on upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
else:
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's own, with bulk statements kept under PostgreSQL's 65,535 parameters (see its docstring).
        DATABASES["default"]["ENGINE"] = "sredesk.postgresql"
    # Keep connections open across requests and tasks (measured: about 4x less
    # per-task overhead than reconnecting on PostgreSQL).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int(renamed("DJANGO_CONN_MAX_AGE"), default=60)
    # PostgreSQL's JIT compiles large plans for ~0.5 s each; sredesk's queries are short OLTP work.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if SREDESK_DB_PREPARED_STATEMENTS:
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
    DATABASES["default"]["OPTIONS"]["connect_timeout"] = SREDESK_DB_CONNECT_TIMEOUT_SECONDS
_IS_EMBEDDED_DATABASE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
# PostgreSQL lock_timeout and statement_timeout, in seconds (0: none), per kind of process (sredesk/dbtrouble.py):
# a web request gives up on a lock after 2 s and on a statement after 10 s and answers 503 with Retry-After, well
# before gunicorn's or a sender's timeout (the API and webhook senders retry a 503); a Celery task may wait longer,
# and a statement ends before CELERY_TASK_TIME_LIMIT (300 s). Management commands (migrate) get none.
SREDESK_DB_LOCK_TIMEOUT_SECONDS = env.float("SREDESK_DB_LOCK_TIMEOUT_SECONDS", default=2.0)
SREDESK_DB_STATEMENT_TIMEOUT_SECONDS = env.float("SREDESK_DB_STATEMENT_TIMEOUT_SECONDS", default=10.0)
SREDESK_WORKER_DB_LOCK_TIMEOUT_SECONDS = env.float("SREDESK_WORKER_DB_LOCK_TIMEOUT_SECONDS", default=30.0)
SREDESK_WORKER_DB_STATEMENT_TIMEOUT_SECONDS = env.float("SREDESK_WORKER_DB_STATEMENT_TIMEOUT_SECONDS", default=240.0)
# The Retry-After (seconds) of the 503 a request gets when the database failed it.
SREDESK_DB_RETRY_AFTER_SECONDS = env.int("SREDESK_DB_RETRY_AFTER_SECONDS", default=5)
# /readyz shows what failed (database, broker) to anyone, the error itself only to a request with
# "Authorization: Bearer <this>": the driver's message names hosts, ports and users. Unset: to nobody.
SREDESK_READYZ_TOKEN = env.str("SREDESK_READYZ_TOKEN", default="")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Static files, i18n, time ----------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = SREDESK_VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "sredesk" / "static"]  # the web UI's CSS and the vendored htmx
# Admin change history (django-simple-history) is an audit trail: no "revert" button, whose writes would
# skip the services and the incident timeline.
SIMPLE_HISTORY_REVERT_DISABLED = True
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
LANGUAGE_CODE = "en-us"
FORMAT_MODULE_PATH = ["sredesk.formats"]  # the admin's times with their zone (sredesk/formats/en/formats.py)
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True


# --- Logging -----------------------------------------------------------------------

SREDESK_LOG_LEVEL = env.str("SREDESK_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": SREDESK_LOG_LEVEL},
    "loggers": {"celery": {"level": SREDESK_LOG_LEVEL}},
}


if not _IS_EMBEDDED_DATABASE and not DEBUG and SECRET_KEY == _EMBEDDED_SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set when sredesk runs on a production database with DJANGO_DEBUG off."
    )
