"""sredesk's own knobs: the port and public URL links use, the demo login, reminder escalation and cadence,
notification delivery and channels (outbox, Slack, email), post-mortem severities and due dates, alert webhooks
(size, retention, asynchronous commit of repeats), the key that encrypts signing secrets, whether tests may skip
missing services, CI upload size.
"""

import base64
import hashlib
from datetime import timedelta

from celery.schedules import schedule

from .base import _base_url, _port, _setting_problem, env, renamed
from .celery_conf import CELERY_BEAT_SCHEDULE
from .core import _IS_EMBEDDED_DATABASE, DEBUG, SECRET_KEY

# The port `make run` serves on (the Procfile's web process binds it), and the public URL printed links use:
# by default the same server, so the webhook URL create_integration prints, the curl line repository_token
# prints and every reminder's link reach the server that runs. Set them in .env to have every command agree.
SREDESK_PORT = _port("SREDESK_PORT", 8000)
SREDESK_BASE_URL = _base_url("SREDESK_BASE_URL", f"http://127.0.0.1:{SREDESK_PORT}")
# The demo login (demo/demo) exists only in the embedded default or with debug
# on; never on a production database with debug off, whatever this says.
SREDESK_DEMO_LOGIN = (_IS_EMBEDDED_DATABASE or DEBUG) and env.bool("SREDESK_DEMO_LOGIN", default=True)

# Escalation: from this step (0-based) the owning team's lead is reminded too,
# from this one the team's Slack channel; after this many steps personal
# reminders stop and the post-mortem goes into the team's weekly digest.
SREDESK_REMINDER_LEAD_FROM_STEP = env.int("SREDESK_REMINDER_LEAD_FROM_STEP", default=2)
SREDESK_REMINDER_TEAM_CHANNEL_FROM_STEP = env.int("SREDESK_REMINDER_TEAM_CHANNEL_FROM_STEP", default=4)
SREDESK_REMINDER_MAX_PER_PERSON = env.int("SREDESK_REMINDER_MAX_PER_PERSON", default=8)
# A snooze may end at most this many days after the post-mortem's due date.
SREDESK_REMINDER_SNOOZE_MAX_DAYS_PAST_DUE = env.int("SREDESK_REMINDER_SNOOZE_MAX_DAYS_PAST_DUE", default=14)
# Outbox messages and finished deliveries are deleted after this many days.
SREDESK_NOTIFICATION_RETENTION_DAYS = env.int("SREDESK_NOTIFICATION_RETENTION_DAYS", default=90)

# Reminder cadence, counted from the moment a post-mortem starts owing a
# regression test (published, or its draft passed its due date): the first
# reminder at once, then after 1, 3, 7 and 14 days, then every 7 days.
SREDESK_REMINDER_CADENCE_SECONDS = [
    float(s)
    for s in env.list("SREDESK_REMINDER_CADENCE_SECONDS", default=["0", "86400", "259200", "604800", "1209600"])
]
SREDESK_REMINDER_REPEAT_SECONDS = env.float("SREDESK_REMINDER_REPEAT_SECONDS", default=7 * 86400.0)
# The sweep reads and plans due reminders by windows of this many post-mortem (then action item) ids,
# each in its own transaction: memory, statement size and per-item time stay bounded whatever the backlog.
SREDESK_REMINDER_PLAN_CHUNK = max(1, env.int("SREDESK_REMINDER_PLAN_CHUNK", default=5000))
# A delivery claimed (status "sending") longer ago than this is taken to have
# lost its worker and is put back in the queue; a "pending" one older than
# this is re-enqueued (its message may have been lost with the broker).
SREDESK_NOTIFY_REDELIVER_AFTER_SECONDS = env.float("SREDESK_NOTIFY_REDELIVER_AFTER_SECONDS", default=600.0)
SREDESK_NOTIFY_MAX_ATTEMPTS = env.int("SREDESK_NOTIFY_MAX_ATTEMPTS", default=8)
# A retry due later than this is not left to a broker ETA (Redis redelivers unacked messages after its
# visibility timeout, FIELD-CASES BR-17): the row keeps its time and the sweep releases it.
SREDESK_NOTIFY_MAX_ETA_SECONDS = env.float("SREDESK_NOTIFY_MAX_ETA_SECONDS", default=300.0)

# Severities whose resolution creates a post-mortem draft (SEV1 and SEV2 by default).
SREDESK_POSTMORTEM_SEVERITIES = [int(s) for s in env.list("SREDESK_POSTMORTEM_SEVERITIES", default=["1", "2"])]
# Post-mortem due dates by severity, in days after the incident is resolved ("1:5,2:10,3:20,4:30").
SREDESK_POSTMORTEM_DUE_DAYS = {
    int(k): int(v)
    for k, v in (
        pair.split(":") for pair in env.list("SREDESK_POSTMORTEM_DUE_DAYS", default=["1:5", "2:10", "3:20", "4:30"])
    )
}

# Prometheus-pulled SLIs (slos.prometheus): the server's base URL (http://prometheus:9090), the timeout of one
# query, and how long after a bucket ends it is pulled (its last scrape must have landed).
SREDESK_PROMETHEUS_URL = env.str("SREDESK_PROMETHEUS_URL", default="")
SREDESK_PROMETHEUS_TIMEOUT_SECONDS = env.float("SREDESK_PROMETHEUS_TIMEOUT_SECONDS", default=10.0)
SREDESK_PROMETHEUS_DELAY_SECONDS = env.float("SREDESK_PROMETHEUS_DELAY_SECONDS", default=60.0)

# Notification channels. The outbox (a database table) always receives every
# message; Slack is used when a bot token is configured.
SLACK_BOT_TOKEN = env.str("SLACK_BOT_TOKEN", default="")
SREDESK_SLACK_API_URL = env.str(renamed("SREDESK_SLACK_API_URL"), default="https://slack.com/api/")
SREDESK_SLACK_TIMEOUT_SECONDS = env.int(renamed("SREDESK_SLACK_TIMEOUT_SECONDS"), default=10)
# The inbound Slack app (slackapp: /slack/commands, /slack/interactivity, /slack/events). Unset signing secret: the
# doors answer 404 with a sentence (`make run` needs no Slack). During a rotation the previous secret is accepted too.
SLACK_SIGNING_SECRET = env.str("SLACK_SIGNING_SECRET", default="")
SREDESK_SLACK_SIGNING_SECRET_PREVIOUS = env.str("SREDESK_SLACK_SIGNING_SECRET_PREVIOUS", default="")
# A request whose X-Slack-Request-Timestamp is further than this from now (either way) is refused (replays).
SREDESK_SLACK_REQUEST_MAX_AGE_SECONDS = env.int("SREDESK_SLACK_REQUEST_MAX_AGE_SECONDS", default=300)
# The largest inbound Slack body read (bytes); a modal's submission is the biggest Slack sends.
SREDESK_SLACK_MAX_BODY_BYTES = env.int("SREDESK_SLACK_MAX_BODY_BYTES", default=256 * 1024)
# Replies go back to a request's response_url only when it starts with one of these (comma-separated).
SREDESK_SLACK_RESPONSE_URL_PREFIXES = env.list(
    "SREDESK_SLACK_RESPONSE_URL_PREFIXES", default=["https://hooks.slack.com/"]
)
# The slash command as configured in Slack's app settings (its name appears in help and error sentences).
SREDESK_SLACK_COMMAND = env.str("SREDESK_SLACK_COMMAND", default="/sredesk")
# The same person declaring the same title again within this many seconds gets the first incident (BR-10).
SREDESK_SLACK_DECLARE_REPEAT_SECONDS = env.int("SREDESK_SLACK_DECLARE_REPEAT_SECONDS", default=60)
# A second click of the same button on the same Slack message within this many seconds (a double click) does
# nothing and is told who clicked first (slackapp.clicks; an incident card's Acknowledge and Resolve).
SREDESK_SLACK_CLICK_WINDOW_SECONDS = env.int("SREDESK_SLACK_CLICK_WINDOW_SECONDS", default=10)
# How long the one-time "link your Slack account" link stays valid.
SREDESK_SLACK_LINK_MAX_AGE_SECONDS = env.int("SREDESK_SLACK_LINK_MAX_AGE_SECONDS", default=3600)
# A recorded Slack request still queued this long after it arrived (its task was lost) is queued again; one still
# queued after SREDESK_SLACK_GIVE_UP_SECONDS is marked failed (its response_url has expired: Slack keeps it 30 min).
SREDESK_SLACK_REQUEUE_AFTER_SECONDS = env.int("SREDESK_SLACK_REQUEUE_AFTER_SECONDS", default=60)
SREDESK_SLACK_GIVE_UP_SECONDS = env.int("SREDESK_SLACK_GIVE_UP_SECONDS", default=1800)
# Days the inbound ledger (slackapp.InboundRequest) keeps a request; Slack retries within minutes.
SREDESK_SLACK_INBOUND_RETENTION_DAYS = env.int("SREDESK_SLACK_INBOUND_RETENTION_DAYS", default=30)
# The timeout of the views.open a door makes before answering (it must leave room within Slack's 3 s).
SREDESK_SLACK_VIEWS_OPEN_TIMEOUT_SECONDS = env.float("SREDESK_SLACK_VIEWS_OPEN_TIMEOUT_SECONDS", default=2.0)
# How long a door waits for the broker to connect, and for each reply (its LPUSH), before recording the request in
# the database instead: a Redis that takes the connection and never answers must not hold the door past Slack's 3 s.
SREDESK_SLACK_BROKER_TIMEOUT_SECONDS = env.float("SREDESK_SLACK_BROKER_TIMEOUT_SECONDS", default=0.5)
SREDESK_NOTIFY_BACKENDS = {
    "outbox": "notifications.outbox.OutboxBackend",
    "slack": "notifications.slack.SlackBackend",
    "email": "notifications.email.EmailBackend",
    "webhook": "notifications.webhook.WebhookBackend",
}
# Page webhooks (notifications.webhook): how long one POST may take in all (its host name look-up included), and
# the look-up of a URL's host where it is entered (API, profile, admin: a later answer is refused); the largest
# body sent (a longer page text is cut), how long a rotated-out secret keeps signing beside the new one, and
# whether a URL may point at this machine (http://127.0.0.1:...: the embedded default and tests; off in
# production, where a page must not become a request into sredesk's own host).
SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS = env.float("SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
SREDESK_PAGE_WEBHOOK_MAX_BYTES = max(4096, env.int("SREDESK_PAGE_WEBHOOK_MAX_BYTES", default=16 * 1024))
SREDESK_PAGE_WEBHOOK_ROTATION_GRACE_SECONDS = env.float(
    "SREDESK_PAGE_WEBHOOK_ROTATION_GRACE_SECONDS", default=24 * 3600.0
)
SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK = env.bool(
    "SREDESK_PAGE_WEBHOOK_ALLOW_LOOPBACK", default=_IS_EMBEDDED_DATABASE or DEBUG
)

# Email through Django's email framework: EMAIL_URL such as smtp://user:pass@host:587
# (smtp+tls://, smtp+ssl://). Unset: no email channel.
_email_url = env.str("EMAIL_URL", default="")
if _email_url:
    globals().update(env.email_url("EMAIL_URL"))  # EMAIL_HOST, EMAIL_PORT, EMAIL_USE_TLS, ...
SREDESK_EMAIL_ENABLED = bool(_email_url)
DEFAULT_FROM_EMAIL = env.str(renamed("DJANGO_DEFAULT_FROM_EMAIL"), default="sredesk <sredesk@localhost>")
EMAIL_TIMEOUT = env.int(renamed("DJANGO_EMAIL_TIMEOUT"), default=10)
# Announcements (pages: an incident declared, escalated, re-opened) claimed longer ago than this are taken to
# have lost their worker and are sent again: far sooner than a reminder (SREDESK_NOTIFY_REDELIVER_AFTER_SECONDS),
# since a page that waits 10 minutes is a page missed. It must outlast one channel call (Slack and SMTP timeouts),
# else a slow send still in flight would be sent twice. The beat looks every quarter of it (at most every 60 s).
SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS = env.float("SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS", default=60.0)
_slowest_send = max(SREDESK_SLACK_TIMEOUT_SECONDS, EMAIL_TIMEOUT, SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS)
if _slowest_send >= SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS:
    raise _setting_problem(
        "SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS",
        str(SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS),
        f"must exceed SREDESK_SLACK_TIMEOUT_SECONDS, DJANGO_EMAIL_TIMEOUT and SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS"
        f" ({_slowest_send} s),"
        " or a send still in flight would be sent twice",
    )
CELERY_BEAT_SCHEDULE["notifications-requeue-stuck"]["schedule"] = schedule(
    timedelta(seconds=min(60.0, max(5.0, SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS / 4)))
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

# CI uploads: the largest JUnit XML file accepted (bytes).
SREDESK_JUNIT_MAX_BYTES = env.int("SREDESK_JUNIT_MAX_BYTES", default=50 * 1024 * 1024)
