"""Endpoints for the people who run sredesk: /healthz, /readyz and Prometheus /metrics.

Metrics are computed from the database at scrape time, so every web process
reports the same figures whatever process did the work, and a dead beat or
worker shows as growing ages rather than silence.
"""

from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q
from django.db.models.functions import Greatest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from kombu import Connection
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from incidents.effects import side_effects_pending_counts
from notifications.base import email_enabled, slack_enabled
from notifications.reach import reached_beyond_outbox
from oncall.gaps import gap_states
from ownership.models import Team, User
from postmortems.models import Heartbeat, ReminderDelivery
from postmortems.reminders import SWEEP_HEARTBEAT, sweep_figures
from postmortems.selectors import postmortems_by_status, postmortems_owing_regression_test
from reports.histograms import HistogramCollector
from slos.metrics import slo_metric_families
from sredesk.tokens import bearer_token, token_hash, token_matches


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 while the process can answer at all (``sredesk.dbtrouble.HealthzMiddleware`` answers it first)."""
    return JsonResponse({"status": "ok"})


def _may_see_details(request: HttpRequest) -> bool:
    """Whether ``request`` carries ``Authorization: Bearer <SREDESK_READYZ_TOKEN>`` (never, when it is unset)."""
    expected = settings.SREDESK_READYZ_TOKEN
    return bool(expected) and token_matches(bearer_token(request.headers.get("Authorization")), token_hash(expected))


@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """200 when the database and the Celery broker answer; 503 naming what failed.

    ``{"status": "unavailable", "problems": {"database": "unavailable"}}`` for anyone; the error itself (driver or
    broker message: host names, ports, user names) only with ``Authorization: Bearer <SREDESK_READYZ_TOKEN>``.
    """
    problems = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "not ready"
        problems["database"] = f"{type(exc).__name__}: {exc}"
    try:
        with Connection(
            settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS, connect_timeout=2
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:  # kombu raises many types, all meaning "not ready"
        problems["broker"] = f"{type(exc).__name__}: {exc}"
    if problems:
        if not _may_see_details(request):
            problems = dict.fromkeys(problems, "unavailable")
        return JsonResponse({"status": "unavailable", "problems": problems}, status=503)
    return JsonResponse({"status": "ok"})


def oldest_due_unsent_seconds(now: datetime) -> float:
    """Age in seconds of the oldest reminder that is due but not sent (0 when none).

    Counts deliveries still pending or sending whose working-hours hold has
    passed (read now), and due steps left unplanned, from what the last sweep
    stored (``reminders.sweep_figures``) rather than by walking every due step
    at each scrape, which at a million post-mortems would take longer than
    Prometheus waits: steps the sweep failed to plan, and the earliest step
    that was not due yet when it ran, once that time has passed with no sweep
    since (what a dead beat leaves behind). A debt that began after the last
    sweep counts from the next one; before any sweep ran only deliveries count
    (``sredesk_reminder_sweep_last_success_timestamp_seconds`` is 0 then).
    """
    waiting = ReminderDelivery.objects.filter(
        status__in=[ReminderDelivery.Status.PENDING, ReminderDelivery.Status.SENDING], not_before__lte=now
    ).aggregate(oldest=Min(Greatest("reminder__due_at", "not_before")))["oldest"]
    figures = sweep_figures()
    upcoming = figures.get("next_due_at")
    unplanned = [figures.get("oldest_failed_due_at"), upcoming if upcoming and upcoming <= now else None]
    oldest = min(filter(None, [waiting, *unplanned]), default=None)
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


def unreachable_recipients() -> tuple[int, int]:
    """(people, teams) that reminders cannot reach beyond the outbox, among those who owe something.

    A person is unreachable when Slack and/or email are configured but they
    have neither a Slack id nor an email address that a configured channel
    uses; a team when Slack is configured and it has no channel. With no
    external channel configured (the embedded default) nobody is counted.
    """
    if not (slack_enabled() or email_enabled()):
        return 0, 0
    owing = User.objects.filter(
        Q(postmortems__status__in=["draft", "in_review", "published"])
        | Q(action_items__status__in=["open", "in_progress"])
        | Q(memberships__role="lead")
    ).distinct()
    people = owing.exclude(reached_beyond_outbox()).count()
    teams = Team.objects.filter(slack_channel="").count() if slack_enabled() else 0
    return people, teams


class DatabaseCollector:
    """Collects sredesk's figures from the database for one scrape."""

    def collect(self):
        now = timezone.now()
        by_status = ReminderDelivery.objects.values("channel", "status").annotate(n=Count("id"))
        sent = CounterMetricFamily(
            "sredesk_reminders_sent", "Reminder deliveries sent, by channel.", labels=["channel"]
        )
        failed = CounterMetricFamily(
            "sredesk_reminders_failed", "Reminder deliveries that failed for good, by channel.", labels=["channel"]
        )
        counts = {(row["channel"], row["status"]): row["n"] for row in by_status}
        for channel in ReminderDelivery.Channel.values:
            sent.add_metric([channel], counts.get((channel, ReminderDelivery.Status.SENT), 0))
            failed.add_metric([channel], counts.get((channel, ReminderDelivery.Status.FAILED), 0))
        retried = CounterMetricFamily(
            "sredesk_reminder_deliveries_retried",
            "Reminder deliveries attempted more than once (each may have reached its recipient twice).",
            labels=["channel"],
        )
        for channel, n in (
            ReminderDelivery.objects.filter(attempts__gt=1).values_list("channel").annotate(n=Count("id"))
        ):
            retried.add_metric([channel], n)
        yield sent
        yield failed
        yield retried
        people, teams = unreachable_recipients()
        unreachable = GaugeMetricFamily(
            "sredesk_unreachable_recipients",
            "People and teams who owe something but whom no configured channel reaches (outbox only).",
            labels=["kind"],
        )
        unreachable.add_metric(["person"], people)
        unreachable.add_metric(["team"], teams)
        yield unreachable
        # Stored by the gap sweep: computing every final schedule here took 1.2 s at 1,000 schedules.
        gaps = GaugeMetricFamily(
            "sredesk_oncall_gap_seconds",
            "Seconds of the 14 days after the last gap sweep (oncall.schedules_sweep, every 5 minutes) in which the "
            "schedule's final schedule names nobody; as that sweep stored it, so at most one sweep period (5 "
            "minutes) stale. A schedule made since has no sample yet.",
            labels=["schedule"],
        )
        computed = GaugeMetricFamily(
            "sredesk_oncall_gap_computed_timestamp_seconds",
            "Unix time the gap sweep computed sredesk_oncall_gap_seconds of the schedule at (a dead beat shows as a "
            "growing age).",
            labels=["schedule"],
        )
        for slug, (seconds, at) in gap_states().items():
            gaps.add_metric([slug], seconds)
            computed.add_metric([slug], at.timestamp())
        yield gaps
        yield computed
        yield GaugeMetricFamily(
            "sredesk_postmortems_awaiting_regression_test",
            "Post-mortems that owe a regression test: published, complete whose test regressed or was unlinked, "
            "or a draft past due; none accepted (postmortems.querysets).",
            value=postmortems_owing_regression_test(now=now).count(),
        )
        pending = GaugeMetricFamily(
            "sredesk_side_effects_pending",
            "Side effects owed by incident and post-mortem changes that no worker has done yet (announcements, "
            "post-mortem drafts), by kind; a failing one stays here while the sweep retries it.",
            labels=["kind"],
        )
        for kind, count in side_effects_pending_counts().items():
            pending.add_metric([kind], count)
        yield pending
        by_status = GaugeMetricFamily(
            "sredesk_postmortems",
            "Post-mortems by workflow status; declined ones (not needed, with a reason) count on their own.",
            labels=["status"],
        )
        for status, n in postmortems_by_status().items():
            by_status.add_metric([status], n)
        yield by_status
        beat = Heartbeat.objects.filter(name=SWEEP_HEARTBEAT).first()
        yield GaugeMetricFamily(
            "sredesk_reminder_sweep_last_success_timestamp_seconds",
            "Unix time of the last reminder sweep that finished (0 if never).",
            value=beat.last_success_at.timestamp() if beat else 0,
        )
        yield GaugeMetricFamily(
            "sredesk_reminders_oldest_due_unsent_seconds",
            "Age of the oldest reminder that is due but not yet sent.",
            value=oldest_due_unsent_seconds(now),
        )
        yield from slo_metric_families()  # from the stored states: one query for any number of SLOs


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition of sredesk's figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    registry.register(HistogramCollector())  # stored series: one query (reports.histograms)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
