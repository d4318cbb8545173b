"""Celery, read by ``sredesk/celery.py`` with the ``CELERY_`` namespace: the broker (Redis, or the embedded
default's folder on disk), how workers take and acknowledge tasks, the beat scheduler (RedBeat on Redis) and the
beat schedule with the periods of its sredesk-owned entries (reminder sweep, SLO evaluation).
"""

from datetime import timedelta

from celery.schedules import schedule

from .base import SREDESK_VAR_DIR, env, renamed

# --- Celery (read by sredesk/celery.py with the CELERY_ namespace) -----------------

# "filesystem://localhost//" rather than "filesystem://": kombu warns at every start about a URL without a host.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default="filesystem://localhost//"))
# Redis (and every broker but the embedded default's folder) redelivers an unacked (acks_late) message after this
# many seconds; the reminder sweep re-queues stuck deliveries far sooner.
SREDESK_BROKER_VISIBILITY_TIMEOUT_SECONDS = env.int(renamed("SREDESK_BROKER_VISIBILITY_TIMEOUT_SECONDS"), default=3600)
_BROKER_DIR = SREDESK_VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: messages are files in one folder, so web,
    # worker and beat on one host share a queue without any server running.
    (_BROKER_DIR / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR),
        "data_folder_out": str(_BROKER_DIR),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": SREDESK_BROKER_VISIBILITY_TIMEOUT_SECONDS}
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
CELERY_BEAT_SCHEDULE_FILENAME = str(SREDESK_VAR_DIR / "celerybeat-schedule")
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

SREDESK_REMINDER_SWEEP_SECONDS = env.float("SREDESK_REMINDER_SWEEP_SECONDS", default=60.0)
SREDESK_SLO_EVALUATE_SECONDS = env.float("SREDESK_SLO_EVALUATE_SECONDS", default=60.0)
SREDESK_ESCALATION_PLAN_SECONDS = env.float("SREDESK_ESCALATION_PLAN_SECONDS", default=15.0)
# How long one minute of an escalation step's wait lasts, in seconds: 60. Only end-to-end tests and benchmarks
# shorten it, so that "step 2 after 1 minute" happens within a test's few seconds.
SREDESK_ESCALATION_MINUTE_SECONDS = env.float("SREDESK_ESCALATION_MINUTE_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE = {
    # Pages the escalation steps now due for unacknowledged incidents (oncall.escalation), each page once.
    "oncall-escalations-plan": {
        "task": "oncall.escalations_plan",
        "schedule": schedule(timedelta(seconds=SREDESK_ESCALATION_PLAN_SECONDS)),
        "options": {"expires": SREDESK_ESCALATION_PLAN_SECONDS},
    },
    # Tells each team about its schedules' gaps in the next 14 days, once per (schedule, gap start), and expires
    # swaps whose window began untaken (oncall.tasks.schedules_sweep_task).
    "oncall-schedules-sweep": {
        "task": "oncall.schedules_sweep",
        "schedule": schedule(timedelta(minutes=5)),
        "options": {"expires": 300},
    },
    # Plans due post-mortem reminders and re-queues stuck deliveries.
    "reminders-sweep": {
        "task": "postmortems.reminders_sweep",
        "schedule": schedule(timedelta(seconds=SREDESK_REMINDER_SWEEP_SECONDS)),
        # A tick not started within one period is stale: the next tick does the same work.
        "options": {"expires": SREDESK_REMINDER_SWEEP_SECONDS},
    },
    # Deletes outbox messages and finished deliveries past their retention.
    "notifications-purge": {
        "task": "notifications.purge_old",
        "schedule": schedule(timedelta(hours=6)),
        "options": {"expires": 3600},
    },
    # Re-queues one-off notifications whose worker died or whose message was lost (period: see
    # SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS in sredesk/settings/product.py).
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
        "schedule": schedule(timedelta(seconds=SREDESK_SLO_EVALUATE_SECONDS)),
        "options": {"expires": SREDESK_SLO_EVALUATE_SECONDS},
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
    # Archives Slack incident channels whose post-mortem completed their team's days ago (slackchannels); hourly.
    "slack-channels-archive": {
        "task": "slackchannels.archive_due",
        "schedule": schedule(timedelta(hours=1)),
        "options": {"expires": 3600},
    },
    # Queues again the Slack requests whose task was lost (broker down at the door), fails those too old to act on,
    # deletes the ledger's rows past SREDESK_SLACK_INBOUND_RETENTION_DAYS (slackapp.ledger.inbound_sweep).
    "slack-inbound-sweep": {
        "task": "slack.inbound_sweep",
        "schedule": schedule(timedelta(seconds=60)),
        "options": {"expires": 60},
    },
    # Deletes raw webhook receipts older than SREDESK_WEBHOOK_RETENTION_DAYS; hourly.
    "webhook-deliveries-purge": {
        "task": "incidents.webhook_deliveries_purge",
        "schedule": schedule(timedelta(hours=1)),
        "options": {"expires": 3600},
    },
}
