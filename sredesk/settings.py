"""sredesk settings: every knob comes from the environment (django-environ).

With no variables set, sredesk runs in its *embedded default*: a SQLite file
under ``var/``, a Celery broker on the local filesystem, and notifications into
the database outbox plus the log. Production sets ``DATABASE_URL``
(PostgreSQL), ``CELERY_BROKER_URL`` (Redis), ``DJANGO_SECRET_KEY``,
``DJANGO_ALLOWED_HOSTS`` and ``SLACK_BOT_TOKEN``. Every variable is listed in
the README's configuration table and in ``.env.example``.
"""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import schedule
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("SREDESK_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")  # real environment variables still win

# --- Django core -------------------------------------------------------------

DEBUG = env.bool("DJANGO_DEBUG", default=False)
EMBEDDED_SECRET_KEY = "sredesk-embedded-default-insecure-key-do-not-use-in-production"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=EMBEDDED_SECRET_KEY)
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
    "axes",  # login throttling: see "Login throttling" below
    "ownership",
    "incidents",
    "postmortems",
    "slos",
    "reports",
    "oncall",
    "notifications",
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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'sredesk.sqlite3'}"),
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
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # PostgreSQL's JIT compiles large plans for ~0.5 s each; sredesk's queries are short OLTP work.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side parameter binding, and statements run 5 times on a connection are prepared
    # (psycopg's prepare_threshold): PostgreSQL then skips parsing and planning, which was a third
    # of its time per alert webhook (bench/ingest). Turn off behind a pooler that cannot keep
    # prepared statements (PgBouncer in transaction mode before 1.21).
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
    # A database host that does not answer fails the connection after this many seconds instead of hanging.
    DATABASES["default"]["OPTIONS"]["connect_timeout"] = env.int("SREDESK_DB_CONNECT_TIMEOUT_SECONDS", default=5)
IS_EMBEDDED_DATABASE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
# PostgreSQL lock_timeout and statement_timeout, in seconds (0: none), per kind of process (sredesk/dbtrouble.py):
# a web request gives up on a lock after 2 s and on a statement after 10 s and answers 503 with Retry-After, well
# before gunicorn's or a sender's timeout (the API and webhook senders retry a 503); a Celery task may wait longer,
# and a statement ends before CELERY_TASK_TIME_LIMIT (300 s). Management commands (migrate) get none.
DB_TIMEOUTS = {
    "web": (
        env.float("SREDESK_DB_LOCK_TIMEOUT_SECONDS", default=2.0),
        env.float("SREDESK_DB_STATEMENT_TIMEOUT_SECONDS", default=10.0),
    ),
    "worker": (
        env.float("SREDESK_WORKER_DB_LOCK_TIMEOUT_SECONDS", default=30.0),
        env.float("SREDESK_WORKER_DB_STATEMENT_TIMEOUT_SECONDS", default=240.0),
    ),
}
# The Retry-After (seconds) of the 503 a request gets when the database failed it.
SREDESK_DB_RETRY_AFTER_SECONDS = env.int("SREDESK_DB_RETRY_AFTER_SECONDS", default=5)
# /readyz shows what failed (database, broker) to anyone, the error itself only to a request with
# "Authorization: Bearer <this>": the driver's message names hosts, ports and users. Unset: to nobody.
SREDESK_READYZ_TOKEN = env.str("SREDESK_READYZ_TOKEN", default="")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Static files, i18n, time ----------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
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

# --- Security headers and cookies (https://docs.djangoproject.com/en/5.2/ref/middleware/#module-django.middleware.security)

SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True  # no script reads the session cookie
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"  # not sent on other sites' POSTs
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False) else None
)
# HTTPS only: redirect http:// to https:// (not the probes, which load balancers send over plain http inside), and
# tell browsers to use https for DJANGO_HSTS_SECONDS (off by default: the embedded default serves plain http).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True  # X-Content-Type-Options: nosniff
SECURE_REFERRER_POLICY = "same-origin"  # incident links never leak to the sites they point at
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp, https://django-csp.readthedocs.io/): scripts, styles, fonts and images only
# from sredesk's own static files, no inline script or style anywhere; the one exception is the <style> inside the
# server-drawn SVG charts (pygal), which carries the response's nonce (sredesk_ui's ``nonced`` filter).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Login throttling (django-axes, https://django-axes.readthedocs.io/en/latest/4_configuration.html) -------
# Every password login (the web's /accounts/login/ and the admin's) passes the throttle first: after
# SREDESK_LOGIN_FAILURE_LIMIT failures from one client address, logins from it are refused with 429 *before* the
# password is hashed (about 1 s of CPU each), until SREDESK_LOGIN_COOLOFF_SECONDS pass without a new failure or an
# operator deletes the row in the admin (Axes → Access attempts). API tokens, webhook tokens and signatures and CI
# tokens never go through it. The address is REMOTE_ADDR, or behind the TLS proxy the address the proxy appended
# to X-Forwarded-For (the right-most: a client can forge every other entry), so one attacker cannot lock out
# everyone behind the same proxy.
AUTHENTICATION_BACKENDS = ["sredesk.auth.LoginThrottleBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("SREDESK_LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(seconds=env.int("SREDESK_LOGIN_COOLOFF_SECONDS", default=900))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]  # random user names from one address must be stopped too
AXES_RESET_ON_SUCCESS = True  # a successful login forgets the address's earlier typos
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_DISABLE_ACCESS_LOG = True  # no row per successful login: the table would grow without bound
AXES_VERBOSE = False
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_ORDER = "right-most"  # django-ipware: the last entry, the one our proxy wrote
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

# --- Logging -----------------------------------------------------------------------

LOG_LEVEL = env.str("SREDESK_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"celery": {"level": LOG_LEVEL}},
}

# --- Celery (read by sredesk/celery.py with the CELERY_ namespace) -----------------

# "filesystem://localhost//" rather than "filesystem://": kombu warns at every start about a URL without a host.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default="filesystem://localhost//"))
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: messages are files in one folder, so web,
    # worker and beat on one host share a queue without any server running.
    (BROKER_DIR / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis redelivers an unacked (acks_late) message after this many
        # seconds; the reminder sweep re-queues stuck deliveries far sooner.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_DEFAULT_QUEUE = "default"
# Chat and mail deliveries get their own queue, so a Slack backlog cannot
# delay the sweep that plans them.
CELERY_TASK_ROUTES = {"notify.*": {"queue": "notify"}}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Production: RedBeat keeps the schedule in Redis behind a lock, so however
    # many beat processes are started (a deploy overlap, an autoscaled host)
    # only the lock holder ticks; a standby takes over within the lock timeout.
    # The embedded default runs one beat on one host with Celery's file scheduler.
    CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
    CELERY_REDBEAT_REDIS_URL = env.str("CELERY_REDBEAT_REDIS_URL", default=CELERY_BROKER_URL)
    CELERY_REDBEAT_KEY_PREFIX = env.str("CELERY_REDBEAT_KEY_PREFIX", default="sredesk:redbeat:")
    CELERY_REDBEAT_LOCK_TIMEOUT = env.int("CELERY_REDBEAT_LOCK_TIMEOUT", default=300)
# Keep the worker's database connection for this many tasks (Celery's Django
# fixup otherwise closes it after every task).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=100)

REMINDER_SWEEP_SECONDS = env.float("SREDESK_REMINDER_SWEEP_SECONDS", default=60.0)
SLO_EVALUATE_SECONDS = env.float("SREDESK_SLO_EVALUATE_SECONDS", default=60.0)
ESCALATION_PLAN_SECONDS = env.float("SREDESK_ESCALATION_PLAN_SECONDS", default=15.0)
# Prometheus-pulled SLIs (slos.prometheus): the server's base URL (http://prometheus:9090), the timeout of one
# query, and how long after a bucket ends it is pulled (its last scrape must have landed).
PROMETHEUS_URL = env.str("PROMETHEUS_URL", default="")
PROMETHEUS_TIMEOUT_SECONDS = env.float("PROMETHEUS_TIMEOUT_SECONDS", default=10.0)
PROMETHEUS_DELAY_SECONDS = env.float("SREDESK_PROMETHEUS_DELAY_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE = {
    # Pages the escalation steps now due for unacknowledged incidents (oncall.escalation), each page once.
    "oncall-escalations-plan": {
        "task": "oncall.escalations_plan",
        "schedule": schedule(timedelta(seconds=ESCALATION_PLAN_SECONDS)),
        "options": {"expires": ESCALATION_PLAN_SECONDS},
    },
    # Plans due post-mortem reminders and re-queues stuck deliveries.
    "reminders-sweep": {
        "task": "postmortems.reminders_sweep",
        "schedule": schedule(timedelta(seconds=REMINDER_SWEEP_SECONDS)),
        # A tick not started within one period is stale: the next tick does the same work.
        "options": {"expires": REMINDER_SWEEP_SECONDS},
    },
    # Deletes outbox messages and finished deliveries past their retention.
    "notifications-purge": {
        "task": "notifications.purge_old",
        "schedule": schedule(timedelta(hours=6)),
        "options": {"expires": 3600},
    },
    # Re-queues one-off notifications whose worker died or whose message was lost (period: see
    # NOTIFY_PAGE_REDELIVER_AFTER_SECONDS below).
    "notifications-requeue-stuck": {
        "task": "notifications.requeue_stuck",
        "schedule": schedule(timedelta(seconds=60)),
        "options": {"expires": 60},
    },
    # Queues again the side effects still owed: announcements and post-mortem drafts whose task was lost or
    # failed (after its back-off).
    "incidents-side-effects-recover": {
        "task": "incidents.side_effects_recover",
        "schedule": schedule(timedelta(seconds=60)),
        "options": {"expires": 60},
    },
    # Recomputes every SLO's state and sends its burn alerts' changes (slos.evaluate).
    "slos-evaluate": {
        "task": "slos.evaluate",
        "schedule": schedule(timedelta(seconds=SLO_EVALUATE_SECONDS)),
        "options": {"expires": SLO_EVALUATE_SECONDS},
    },
    # Counts new response and loop-closure durations into /metrics' histograms, each once (reports.histograms).
    "reports-histograms-observe": {
        "task": "reports.histograms_observe",
        "schedule": schedule(timedelta(seconds=60)),
        "options": {"expires": 60},
    },
    # Last ISO week's report to each team's channel, once per team and week (reports.weekly); hourly, so the
    # first tick of a week sends and the rest find it sent.
    "reports-weekly-summaries": {
        "task": "reports.weekly_summaries",
        "schedule": schedule(timedelta(hours=1)),
        "options": {"expires": 3600},
    },
    # Deletes raw webhook receipts older than SREDESK_WEBHOOK_RETENTION_DAYS; hourly.
    "webhook-deliveries-purge": {
        "task": "incidents.webhook_deliveries_purge",
        "schedule": schedule(timedelta(hours=1)),
        "options": {"expires": 3600},
    },
}

# --- sredesk --------------------------------------------------------------------------


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


# The port `make run` serves on (the Procfile's web process binds it), and the public URL printed links use:
# by default the same server, so the webhook URL create_integration prints, the curl line repository_token
# prints and every reminder's link reach the server that runs. Set them in .env to have every command agree.
SREDESK_PORT = _port("SREDESK_PORT", 8000)
SREDESK_BASE_URL = _base_url("SREDESK_BASE_URL", f"http://127.0.0.1:{SREDESK_PORT}")
# The demo login (demo/demo) exists only in the embedded default or with debug
# on; never on a production database with debug off, whatever this says.
SREDESK_DEMO_LOGIN = (IS_EMBEDDED_DATABASE or DEBUG) and env.bool("SREDESK_DEMO_LOGIN", default=True)

# Escalation: from this step (0-based) the owning team's lead is reminded too,
# from this one the team's Slack channel; after this many steps personal
# reminders stop and the post-mortem goes into the team's weekly digest.
REMINDER_LEAD_FROM_STEP = env.int("SREDESK_REMINDER_LEAD_FROM_STEP", default=2)
REMINDER_TEAM_CHANNEL_FROM_STEP = env.int("SREDESK_REMINDER_TEAM_CHANNEL_FROM_STEP", default=4)
REMINDER_MAX_PER_PERSON = env.int("SREDESK_REMINDER_MAX_PER_PERSON", default=8)
# A snooze may end at most this many days after the post-mortem's due date.
REMINDER_SNOOZE_MAX_DAYS_PAST_DUE = env.int("SREDESK_REMINDER_SNOOZE_MAX_DAYS_PAST_DUE", default=14)
# Outbox messages and finished deliveries are deleted after this many days.
SREDESK_NOTIFICATION_RETENTION_DAYS = env.int("SREDESK_NOTIFICATION_RETENTION_DAYS", default=90)

# Reminder cadence, counted from the moment a post-mortem starts owing a
# regression test (published, or its draft passed its due date): the first
# reminder at once, then after 1, 3, 7 and 14 days, then every 7 days.
REMINDER_CADENCE_SECONDS = [
    float(s)
    for s in env.list("SREDESK_REMINDER_CADENCE_SECONDS", default=["0", "86400", "259200", "604800", "1209600"])
]
REMINDER_REPEAT_SECONDS = env.float("SREDESK_REMINDER_REPEAT_SECONDS", default=7 * 86400.0)
# The sweep reads and plans due reminders by windows of this many post-mortem (then action item) ids,
# each in its own transaction: memory, statement size and per-item time stay bounded whatever the backlog.
REMINDER_PLAN_CHUNK = max(1, env.int("SREDESK_REMINDER_PLAN_CHUNK", default=5000))
# A delivery claimed (status "sending") longer ago than this is taken to have
# lost its worker and is put back in the queue; a "pending" one older than
# this is re-enqueued (its message may have been lost with the broker).
NOTIFY_REDELIVER_AFTER_SECONDS = env.float("SREDESK_NOTIFY_REDELIVER_AFTER_SECONDS", default=600.0)
NOTIFY_MAX_ATTEMPTS = env.int("SREDESK_NOTIFY_MAX_ATTEMPTS", default=8)
# A retry due later than this is not left to a broker ETA (Redis redelivers unacked messages after its
# visibility timeout, FIELD-CASES BR-17): the row keeps its time and the sweep releases it.
NOTIFY_MAX_ETA_SECONDS = env.float("SREDESK_NOTIFY_MAX_ETA_SECONDS", default=300.0)

# Severities whose resolution creates a post-mortem draft (SEV1 and SEV2 by default).
POSTMORTEM_REQUIRED_SEVERITIES = [int(s) for s in env.list("SREDESK_POSTMORTEM_SEVERITIES", default=["1", "2"])]
# Post-mortem due dates by severity, in days after the incident is resolved ("1:5,2:10,3:20,4:30").
POSTMORTEM_DUE_DAYS = {
    int(k): int(v)
    for k, v in (
        pair.split(":") for pair in env.list("SREDESK_POSTMORTEM_DUE_DAYS", default=["1:5", "2:10", "3:20", "4:30"])
    )
}

# Notification channels. The outbox (a database table) always receives every
# message; Slack is used when a bot token is configured.
SLACK_BOT_TOKEN = env.str("SLACK_BOT_TOKEN", default="")
SLACK_API_URL = env.str("SLACK_API_URL", default="https://slack.com/api/")
SLACK_TIMEOUT_SECONDS = env.int("SLACK_TIMEOUT_SECONDS", default=10)
SREDESK_NOTIFY_BACKENDS = {
    "outbox": "notifications.outbox.OutboxBackend",
    "slack": "notifications.slack.SlackBackend",
    "email": "notifications.email.EmailBackend",
}

# Email through Django's email framework: EMAIL_URL such as smtp://user:pass@host:587
# (smtp+tls://, smtp+ssl://). Unset: no email channel.
_email_url = env.str("EMAIL_URL", default="")
if _email_url:
    globals().update(env.email_url("EMAIL_URL"))  # EMAIL_HOST, EMAIL_PORT, EMAIL_USE_TLS, ...
SREDESK_EMAIL_ENABLED = bool(_email_url)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="sredesk <sredesk@localhost>")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT_SECONDS", default=10)
# Announcements (pages: an incident declared, escalated, re-opened) claimed longer ago than this are taken to
# have lost their worker and are sent again: far sooner than a reminder (NOTIFY_REDELIVER_AFTER_SECONDS), since
# a page that waits 10 minutes is a page missed. It must outlast one channel call (Slack and SMTP timeouts),
# else a slow send still in flight would be sent twice. The beat looks every quarter of it (at most every 60 s).
NOTIFY_PAGE_REDELIVER_AFTER_SECONDS = env.float("SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS", default=60.0)
_slowest_send = max(SLACK_TIMEOUT_SECONDS, EMAIL_TIMEOUT)
if _slowest_send >= NOTIFY_PAGE_REDELIVER_AFTER_SECONDS:
    raise _setting_problem(
        "SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS",
        str(NOTIFY_PAGE_REDELIVER_AFTER_SECONDS),
        f"must exceed SLACK_TIMEOUT_SECONDS and EMAIL_TIMEOUT_SECONDS ({_slowest_send} s),"
        " or a send still in flight would be sent twice",
    )
CELERY_BEAT_SCHEDULE["notifications-requeue-stuck"]["schedule"] = schedule(
    timedelta(seconds=min(60.0, max(5.0, NOTIFY_PAGE_REDELIVER_AFTER_SECONDS / 4)))
)

# Alert webhooks (/hooks/<integration id>/). Bodies above this size are refused
# with 413; raw receipts are kept this many days (for audit and re-parsing).
SREDESK_WEBHOOK_MAX_BYTES = env.int("SREDESK_WEBHOOK_MAX_BYTES", default=1024 * 1024)
SREDESK_WEBHOOK_RETENTION_DAYS = env.int("SREDESK_WEBHOOK_RETENTION_DAYS", default=30)
# PostgreSQL: a delivery whose every alert was already firing (it changes only last_seen_at/times_seen and
# stores its receipt) commits without waiting for the WAL flush (synchronous_commit=off for that transaction
# alone, and only when it is the outermost transaction). A server crash in the next ~0.6 s (3 x
# wal_writer_delay), or a failover to a synchronous standby it did not wait for, can lose that receipt and
# counter bump, never an alert, an incident change or a page; the next notification bumps the counters again.
SREDESK_ASYNC_COMMIT_REPEATS = env.bool("SREDESK_ASYNC_COMMIT_REPEATS", default=True)
# Fernet key(s) that encrypt integration signing secrets at rest: comma-separated,
# the first encrypts and all decrypt (rotation). Generate one with
# `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.
# Unset: derived from SECRET_KEY, so changing DJANGO_SECRET_KEY then makes stored
# secrets unreadable; set it explicitly in production.
SREDESK_ENCRYPTION_KEY = (
    env.str("SREDESK_ENCRYPTION_KEY", default="")
    or base64.urlsafe_b64encode(hashlib.sha256(b"sredesk-encryption-key:" + SECRET_KEY.encode()).digest()).decode()
)

# Tests that need PostgreSQL or Redis skip when they are not reachable, unless
# this is set (CI sets it), in which case they fail.
SREDESK_REQUIRE_SERVICES = env.bool("SREDESK_REQUIRE_SERVICES", default=False)

if not IS_EMBEDDED_DATABASE and not DEBUG and SECRET_KEY == EMBEDDED_SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set when sredesk runs on a production database with DJANGO_DEBUG off."
    )

# CI uploads: the largest JUnit XML file accepted (bytes).
SREDESK_JUNIT_MAX_BYTES = env.int("SREDESK_JUNIT_MAX_BYTES", default=50 * 1024 * 1024)

# --- REST API (/api/v1/) -------------------------------------------------------------------
# Token before session: a request that carries a token is judged by it alone, so a stale
# browser cookie never makes it need CSRF (BR-26); session-only writes still need CSRF.
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sredesk.api.auth.UserTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sredesk.api.permissions.ReadAllWriteOwners"],
    "DEFAULT_FILTER_BACKENDS": [
        "sredesk.api.filters.FilterBackend",
        "sredesk.api.ordering.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "sredesk.api.pagination.KeysetPagination",
    "PAGE_SIZE": env.int("SREDESK_API_PAGE_SIZE", default=50),
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["sredesk.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "sredesk.api.schema.SredeskAutoSchema",
    "EXCEPTION_HANDLER": "sredesk.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "sredesk API",
    "DESCRIPTION": (
        "Incidents, post-mortems, action items and the regression tests that keep each failure from coming back. "
        "Authenticate with `Authorization: Token <key>` (`manage.py api_token <username>`) or a browser session "
        "(writes then need the CSRF token). Lists page with cursors (`next`/`previous` links, `page_size`). "
        'Every 4xx answers `{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "incidents.models.Incident.Status",
        "AlertStatusEnum": "incidents.models.Alert.Status",
        "PostMortemStatusEnum": "postmortems.models.PostMortem.Status",
        "ActionItemStatusEnum": "postmortems.models.ActionItem.Status",
        "DeliveryStatusEnum": "notifications.models.DeliveryBase.Status",
        "ActionItemKindEnum": "postmortems.models.ActionItem.Kind",
        "ReminderKindEnum": "postmortems.models.Reminder.Kind",
        "IntegrationKindEnum": "incidents.models.Integration.Kind",
        "TimelineEventKindEnum": "incidents.models.TimelineEvent.Kind",
        "MembershipRoleEnum": "ownership.models.Membership.Role",
        "ResponsibilityRoleEnum": "ownership.models.Responsibility.Role",
        "OverrideKindEnum": "oncall.models.Override.Kind",
        "SeverityEnum": ["SEV1", "SEV2", "SEV3", "SEV4"],
        "PriorityEnum": ["P1", "P2", "P3", "P4"],
    },
}
