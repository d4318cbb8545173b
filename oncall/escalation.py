"""Escalation: page each step of a service's policy while its incident stays unacknowledged, each page once.

``escalations_plan(now)`` (beat, every ``SREDESK_ESCALATION_PLAN_SECONDS``) looks at every ``triggered``
incident whose primary service has a policy. Pass ``r`` (0..``repeat``) of step ``i`` is due at
``detected_at + r × (sum of every step's wait) + (sum of the waits of the steps before i)``. For each due
(step, pass, target) without its ``Page`` row, one transaction writes the row (unique per incident, step,
pass and target), its notification (``notifications.notify`` keyed ``page:<id>``: to a person through the
channels and delays of their contact rules, ``notifications.contact.page_channels``; to a team by its Slack
channel, outbox and page webhook; workers claim and retry deliveries and the requeue sweep takes over a dead
worker's and releases a delayed channel when its wait ends) and a
timeline entry. So two beats, two planners at once or a planner killed half-way never page twice: the second
writer of a key waits on the unique index and finds the row; a transaction cut short leaves nothing.

Acknowledging (or mitigating, resolving) stops it: only ``triggered`` incidents are planned, so nothing
further is due, and a delivery not yet sent is skipped (``notifications.services.notification_obsolete``).
A schedule target pages whoever the schedule's final schedule names at planning time
(``oncall.selectors.on_call_at``); a gap pages the schedule team's channel instead and says so. The first
step pages right after the declaration commits: the worker that announces a declared (or re-opened) incident
plans its pages then (``incidents.effects``), not in the declaring request; the next tick is the safety net.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident, TimelineEvent
from notifications.contact import page_channels, page_routes
from notifications.models import Notification, PageWebhook
from notifications.services import notify
from ownership.models import Team, User

from .models import EscalationPolicy, EscalationStep, Page, Schedule
from .selectors import on_call_at

logger = logging.getLogger(__name__)


def due_steps(policy_steps: list[EscalationStep], repeat: int, detected_at: dt.datetime,
              now: dt.datetime) -> Iterator[tuple[int, int, EscalationStep, dt.datetime]]:  # fmt: skip
    """(pass, step position index, step, due instant) of every step due by ``now``, in order.

    A minute of a step's wait lasts ``SREDESK_ESCALATION_MINUTE_SECONDS`` (60; end-to-end tests shorten it).
    """
    minute = dt.timedelta(seconds=settings.SREDESK_ESCALATION_MINUTE_SECONDS)
    cycle = minute * sum(s.wait_minutes for s in policy_steps)
    for rep in range(repeat + 1):
        due = detected_at + rep * cycle
        for index, step in enumerate(policy_steps):
            if due > now:
                return
            yield rep, index, step, due
            due += minute * step.wait_minutes


def escalations_plan(*, now: dt.datetime, incident_ids: list[int] | None = None) -> int:
    """Write every page due by ``now`` and not yet written (of ``incident_ids`` only, when given); returns how
    many this call wrote. Idempotent: the beat's planner and a declaration's own call write each page once."""
    triggered = Incident.objects.needing_acknowledgement().filter(primary_service__escalation_policy__isnull=False)
    if incident_ids is not None:
        triggered = triggered.filter(pk__in=incident_ids)
    incidents = list(triggered.select_related("primary_service").order_by("detected_at", "id"))
    if not incidents:
        return 0
    policy_ids = {i.primary_service.escalation_policy_id for i in incidents}
    policies = EscalationPolicy.objects.in_bulk(policy_ids)
    steps: dict[int, list[EscalationStep]] = {pk: [] for pk in policy_ids}
    for step in EscalationStep.objects.filter(policy_id__in=policy_ids).prefetch_related(
        "targets__user", "targets__team", "targets__schedule__team"
    ):
        steps[step.policy_id].append(step)
    written = set(Page.objects.filter(incident__in=incidents).values_list("incident_id", "step", "repeat", "target"))
    due = []
    for incident in incidents:
        policy = policies[incident.primary_service.escalation_policy_id]
        for rep, index, step, at in due_steps(steps[policy.pk], policy.repeat, incident.detected_at, now):
            for target in step.targets.all():
                if (incident.pk, index, rep, target.key) not in written:
                    due.append((incident, policy, index, rep, target, at))
    if not due:
        return 0
    schedules = {t.schedule_id for *_, t, _ in due if t.schedule_id}
    on_call = on_call_at(schedules, now, ahead=dt.timedelta(hours=1)) if schedules else {}
    people = User.objects.in_bulk({s.user_id for s, _ in on_call.values() if s and s.user_id})
    count = 0
    for incident, policy, index, rep, target, at in due:
        person = target.user
        if target.schedule_id:
            shift = on_call.get(target.schedule_id, (None, None))[0]
            person = people.get(shift.user_id) if shift and shift.user_id else None
        count += page_write(incident, policy, index, rep, target, person, at)
    return count


def incident_page_now(incident_id: int, *, now: dt.datetime) -> int:
    """Write the incident's pages due by ``now`` and send their immediate channels in this process, at once.

    Called by the worker that announces a declared (or re-opened) incident: its first page waits neither for
    the planner's tick nor behind the ``notify`` queue's backlog (bench/page.py measured both under alert load).
    The delivery tasks ``notify`` enqueued still run and find each row claimed or sent (a no-op); a temporary
    failure here is retried by that task at the row's time. Returns how many pages it wrote.
    """
    from notifications.models import Notification
    from notifications.tasks import notification_deliver_now

    written = escalations_plan(now=now, incident_ids=[incident_id])
    if not written:
        return 0
    keys = Q()
    for page_id in Page.objects.filter(incident_id=incident_id).values_list("pk", flat=True):
        keys |= Q(dedup_key__startswith=f"page:{page_id}:")
    due = Notification.objects.filter(keys, status=Notification.Status.PENDING, not_before__lte=timezone.now())
    for pk in due.order_by("id").values_list("pk", flat=True):
        notification_deliver_now(pk)
    return written


def page_write(incident: Incident, policy: EscalationPolicy, index: int, rep: int, target, person: User | None,
               due_at: dt.datetime) -> bool:  # fmt: skip
    """Write one page with its notification and timeline entry, in one transaction; False when it exists."""
    try:
        with transaction.atomic():
            page = Page.objects.create(incident=incident, policy=policy, step=index, repeat=rep, target=target.key,
                                       person=person, due_at=due_at)  # fmt: skip
            whom, routes = _addresses(target, person)
            url = settings.SREDESK_BASE_URL + reverse("incidents:detail", args=[incident.pk])
            subject = f"Page: {incident.public_id} ({incident.get_severity_display()}) {incident.title}"
            which = f"step {index + 1}" + (f", pass {rep + 1}" if rep else "")
            text = f"{subject}\nUnacknowledged: {which} of {policy.name} pages {whom}. Acknowledge to stop paging."
            notify(key=f"page:{page.pk}", topic=incident.public_id, subject=subject, text=text, url=url,
                   slack=[], outbox=[], routes=routes)  # fmt: skip
            TimelineEvent.objects.create(
                incident=incident, kind=TimelineEvent.Kind.NOTIFICATION,
                message=f"Paged {whom}: {which} of {policy.name}.",  # one pair of brackets at most
                data={"page_id": page.pk, "step": index, "repeat": rep, "target": target.key},
            )  # fmt: skip
    except IntegrityError:
        logger.info("Page already written", extra={"incident": incident.pk, "step": index, "repeat": rep})
        return False
    return True


def _addresses(target, person: User | None) -> tuple[str, list[tuple[str, str, float]]]:
    """(whom, routes) of a page to ``target`` reaching ``person``: (channel, address, delay seconds) triples.

    A person is reached as their contact rules say (``notifications.contact.page_channels``, the one rule);
    a team's channel (a team target, or a gap in a schedule) by its Slack channel, outbox and page webhook, at once.
    """
    if person is not None:
        whom = str(person) + (f" (on call of {target.schedule})" if target.schedule_id else "")
        return whom, page_routes(page_channels(person))
    team: Team = target.team if target.team_id else target.schedule.team
    schedule: Schedule | None = target.schedule
    whom = f"{team}'s channel" + (f" (nobody on call of {schedule}: a gap)" if schedule else "")
    Channel = Notification.Channel
    routes = [(Channel.OUTBOX, f"team:{team.slug}", 0.0), (Channel.SLACK, team.slack_channel, 0.0)]
    routes += [(Channel.WEBHOOK, h.address, 0.0) for h in PageWebhook.objects.filter(team=team)]
    return whom, routes
