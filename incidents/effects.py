"""The one after-commit path: optional side effects of incident and post-mortem changes (issue 14 item 2, BR-42).

A change records what it owes in the rows it writes, in its own transaction,
so nothing owed is lost when a process dies:

- ``announce``: a timeline entry with an ``announcement`` and no
  ``announced_at`` (an incident declared, escalated, resolved or re-opened, a
  post-mortem published, a regression test failing or missing);
- ``postmortem_draft``: a pending ``SideEffect`` row, owed when an incident
  whose severity needs a post-mortem is resolved;
- ``incident_channel``: a pending ``SideEffect`` row, owed when an incident of
  a team that wants Slack incident channels is declared, and again when its
  commander, responders or post-mortem change (``slackchannels``);
- ``slack_cards``: an incident's Slack message per conversation
  (``IncidentCard``), owed a post when first announced there and an edit
  whenever the incident changes (its ``version`` moves past the card's).

After commit ``queue_after_commit`` hands each to the worker task
``incidents.side_effect`` (``side_effect_run``); beat's
``incidents.side_effects_recover`` sweep queues again whatever is still owed
(a lost message, a broker outage at commit, a failed attempt whose back-off
has passed). Every effect is idempotent under its row lock, so a redelivered
task or a sweep racing a worker does it once. A failing effect never undoes
the change that owed it: the error is recorded on its row and shown on the
incident page, in the admin and in ``/metrics`` until an attempt succeeds.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from notifications.services import notify
from oncall import paging as oncall_paging
from oncall.escalation import incident_page_now
from ownership.models import User

from . import alert_labels, cards
from .cards import incident_url
from .models import Incident, SideEffect, TimelineEvent

logger = logging.getLogger(__name__)

ANNOUNCE = "announce"
CARDS = "slack_cards"
POSTMORTEM_DRAFT = SideEffect.Kind.POSTMORTEM_DRAFT.value

# Back-off of a failed effect before the sweep queues it again: 1, 2, 4 ... minutes, at most an hour.
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=1)


def retry_delay(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failure an effect waits before the sweep queues it again."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_MAX)


def queue_after_commit(kind: str, target_ids: list[int]) -> None:
    """After the current transaction commits, hand each effect to the worker (``incidents.side_effect``)."""
    transaction.on_commit(lambda: _enqueue(kind, target_ids))


def _enqueue(kind: str, target_ids: list[int]) -> None:
    """A broker outage loses nothing: the effect is still owed in the database and the sweep queues it."""
    from kombu.exceptions import OperationalError

    from .tasks import side_effect_task

    for target_id in target_ids:
        try:
            side_effect_task.delay(kind, target_id)
        except OperationalError:
            logger.warning("Side effect not queued (broker down)", extra={"kind": kind, "id": target_id})


# --- announce ----------------------------------------------------------------------------------------


def _postmortem_url(postmortem_id: int) -> str:
    return settings.SREDESK_BASE_URL + reverse("postmortems:detail", args=[postmortem_id])


def paged_person(incident: Incident) -> User | None:
    """Who is paged: the primary service's `paged` responsibility (a schedule's on-call now, by its final
    schedule: ``oncall.paging``), else the commander."""
    if incident.primary_service_id:
        person = oncall_paging.paged_person(incident.primary_service_id, timezone.now())
        if person is not None:
            return person
    return incident.commander


def _announce(event: TimelineEvent) -> None:
    """Plan the announcement ``event`` asks for (``notify``, keyed on the entry, so it is planned once).

    Who hears it depends on what it is about: a regression test's state goes
    to the post-mortem's owner and the owning team; a post-mortem's
    publication to the owning team; an incident's move to the owning team
    and the paged person, naming an alert-made incident's firing alerts by the
    labels that tell them apart (``alert_labels.firing_alerts_line``).
    """
    from postmortems.models import RegressionTest, TestRun  # post-mortems build on incidents

    incident = event.incident
    team = incident.owning_team
    channels, names = [team.slack_channel if team else ""], [f"team:{team.slug}"] if team else []
    if "regression_test_id" in event.data:
        test = RegressionTest.objects.select_related("postmortem__owner", "repository").get(
            pk=event.data["regression_test_id"]
        )
        run = TestRun.objects.filter(pk=event.data.get("test_run_id")).first()
        owner = test.postmortem.owner
        verb = "is failing" if event.data.get("state") == RegressionTest.State.FAILING else "is missing from CI"
        text = f"{incident.public_id} regression test {test.test_id} {verb} in {run or test.repository}"
        url = _postmortem_url(test.postmortem_id)
        channels.insert(0, owner.slack_user_id if owner else "")
        names[:0] = [f"user:{owner.username}"] if owner else []
    elif "postmortem_id" in event.data:
        text = f"{incident.public_id} {event.announcement}: {incident.title}"
        url = _postmortem_url(event.data["postmortem_id"])
    else:
        person = paged_person(incident)
        text = f"{incident.public_id} ({incident.get_severity_display()}) {event.announcement}: {incident.title}"
        alerts = alert_labels.firing_alerts_line(incident.pk) if incident.integration_id else ""
        if alerts:  # which instances: the labels that tell the incident's alerts apart
            text = f"{text} ({alerts})"
        url = incident_url(incident)
        names += [f"user:{person.username}"] if person else []
        if cards.cards_owe(incident, [*channels, person.slack_user_id if person else ""]):
            queue_after_commit(CARDS, [incident.pk])
        channels = []
    notify(
        key=f"timeline-event:{event.pk}",
        topic=incident.public_id,
        subject=text,
        text=text,
        url=url,
        slack=channels,
        outbox=names,
    )


def _run_announce(event_id: int) -> bool:
    """Announce one timeline entry, once; True if this call did. The entry is locked and stamped ``announced_at``
    in the transaction that plans its notifications, so a redelivered task or the sweep sends nothing twice."""
    with transaction.atomic():
        event = (
            TimelineEvent.objects.select_for_update(of=("self",))
            .select_related("incident__owning_team", "incident__commander")
            .filter(pk=event_id, announced_at__isnull=True)
            .exclude(announcement="")
            .first()
        )
        if event is None:
            return False
        _announce(event)
        TimelineEvent.objects.filter(pk=event_id).update(announced_at=timezone.now())
        about_incident = not {"regression_test_id", "postmortem_id"} & set(event.data)
    if about_incident:
        _page_now(event.incident_id)
    return True


def _page_now(incident_id: int) -> None:
    """Page the escalation steps now due of an incident just declared or re-opened, at once rather than at the
    planner's next tick (up to ``SREDESK_ESCALATION_PLAN_SECONDS`` later), sending its immediate channels here
    (``oncall.escalation.incident_page_now``). Not part of the announcement: an error
    is logged and the beat's planner pages instead; each page's unique key makes the two write it once."""
    try:
        incident_page_now(incident_id, now=timezone.now())
    except Exception:  # the planner's next tick retries; the announcement stays done
        logger.exception("Paging at declaration failed; the escalation planner pages", extra={"incident": incident_id})


def _pending_announcements(now: datetime, limit: int) -> list[int]:
    return list(
        TimelineEvent.objects.filter(announced_at__isnull=True)
        .exclude(announcement="")
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


# --- post-mortem draft -------------------------------------------------------------------------------


def postmortem_draft_owe(incident: Incident) -> None:
    """Record, in the resolving transaction, that ``incident`` owes its post-mortem draft, and queue it after commit.

    Owed when the severity needs a post-mortem
    (``SREDESK_POSTMORTEM_SEVERITIES``) and none exists yet; the draft
    step itself decides the rest (``postmortem_create_for_incident``). A
    resolve after a re-open owes it again only if no draft came of the first.
    """
    from postmortems.models import PostMortem

    if incident.severity not in settings.SREDESK_POSTMORTEM_SEVERITIES:
        return
    if PostMortem.objects.filter(incident_id=incident.pk).exists():
        return
    now = timezone.now()
    owed = {"created_at": now, "next_attempt_at": now + RETRY_BASE, "done_at": None, "attempts": 0, "last_error": ""}
    SideEffect.objects.update_or_create(incident_id=incident.pk, kind=POSTMORTEM_DRAFT, defaults=owed)
    queue_after_commit(POSTMORTEM_DRAFT, [incident.pk])


def _run_postmortem_draft(incident_id: int) -> bool:
    """Create the owed draft (``postmortem_create_for_incident``, one per incident) and mark the effect done;
    True if this call created it. A no-op when nothing is owed any more."""
    from postmortems.services import postmortem_create_for_incident

    with transaction.atomic():
        effect = (
            SideEffect.objects.select_for_update()
            .filter(incident_id=incident_id, kind=POSTMORTEM_DRAFT, done_at__isnull=True)
            .first()
        )
        if effect is None:
            return False
        incident = Incident.objects.select_related("owning_team", "commander").get(pk=incident_id)
        _, created = postmortem_create_for_incident(incident=incident)
        SideEffect.objects.filter(pk=effect.pk).update(
            done_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
        if created:
            incident_channel_owe(incident)  # its channel gets the post-mortem's bookmark and topic
    return created


def _failed(kind: str) -> Callable[[int, str], None]:
    """Record a failed attempt of the ``kind`` effect of an incident: its error, and when the sweep tries again."""

    def failed(incident_id: int, error: str) -> None:
        effect = SideEffect.objects.filter(incident_id=incident_id, kind=kind, done_at__isnull=True).first()
        if effect is None:
            return
        attempts = effect.attempts + 1
        SideEffect.objects.filter(pk=effect.pk, done_at__isnull=True).update(
            attempts=attempts, last_error=error, next_attempt_at=timezone.now() + retry_delay(attempts)
        )

    return failed


def _pending(kind: str) -> Callable[[datetime, int], list[int]]:
    """The incidents whose ``kind`` effect is owed and due for another attempt, oldest first."""

    def pending(now: datetime, limit: int) -> list[int]:
        return list(
            SideEffect.objects.filter(kind=kind, done_at__isnull=True, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("incident_id", flat=True)[:limit]
        )

    return pending


# --- Slack incident channel --------------------------------------------------------------------------

INCIDENT_CHANNEL = SideEffect.Kind.INCIDENT_CHANNEL.value


def incident_channel_owe(incident: Incident) -> None:
    """Record, in the current transaction, that ``incident``'s Slack channel must be created or brought up to date
    (invites, topic, bookmarks), and queue that after commit.

    Owed on declare (every door), and again when the commander, the
    responders or the post-mortem change; only when the owning team wants
    incident channels and Slack is on (``slackchannels.services.channel_wanted``),
    or when the incident has a channel already. Slack being down never fails the
    change that owes it: a worker does it, and the sweep retries with back-off.
    """
    from slackchannels.services import channel_owed  # Slack builds on incidents

    if not channel_owed(incident):
        return
    now = timezone.now()
    owed = {"created_at": now, "next_attempt_at": now + RETRY_BASE, "done_at": None, "attempts": 0, "last_error": ""}
    SideEffect.objects.update_or_create(incident_id=incident.pk, kind=INCIDENT_CHANNEL, defaults=owed)
    queue_after_commit(INCIDENT_CHANNEL, [incident.pk])


def _run_incident_channel(incident_id: int) -> bool:
    """Set up the incident's channel (``slackchannels.services.incident_channel_sync``, idempotent step by step)
    and mark the effect done, unless it was owed again meanwhile; True if this call did it.

    No row lock is held across Slack calls here: the channel row itself is the guard (one per incident).
    """
    from slackchannels.services import incident_channel_sync

    effect = SideEffect.objects.filter(incident_id=incident_id, kind=INCIDENT_CHANNEL, done_at__isnull=True).first()
    if effect is None:
        return False
    incident_channel_sync(incident_id)
    done = SideEffect.objects.filter(pk=effect.pk, created_at=effect.created_at, done_at__isnull=True).update(
        done_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
    )
    return bool(done)


# --- the path ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    run: Callable[[int], bool]  # do it (idempotent); True if this call did it
    failed: Callable[[int, str], None]  # record a failed attempt and its error
    pending: Callable[[datetime, int], list[int]]  # target ids still owed and due for another attempt


EFFECTS = {
    ANNOUNCE: Effect(run=_run_announce, failed=lambda target_id, error: None, pending=_pending_announcements),
    # Each card records its own failure (``cards.cards_sync``).
    CARDS: Effect(run=cards.cards_sync, failed=lambda target_id, error: None, pending=cards.cards_pending),
    POSTMORTEM_DRAFT: Effect(
        run=_run_postmortem_draft, failed=_failed(POSTMORTEM_DRAFT), pending=_pending(POSTMORTEM_DRAFT)
    ),
    INCIDENT_CHANNEL: Effect(
        run=_run_incident_channel, failed=_failed(INCIDENT_CHANNEL), pending=_pending(INCIDENT_CHANNEL)
    ),
}


def side_effect_run(kind: str, target_id: int) -> bool:
    """Do one owed effect (``kind`` in EFFECTS; ``target_id`` an entry id for ``announce``, an incident id
    otherwise); True if this call did it, False if it was done already, not owed, or failed.

    Any error of the effect is caught, logged and recorded on its row (the
    sweep retries after ``retry_delay``): an optional step never fails the
    change that owed it nor the worker, and a bug shows as a growing pending
    count, not an endless retry loop of the task.
    """
    effect = EFFECTS[kind]
    try:
        return effect.run(target_id)
    except Exception as exc:  # an optional effect's failure of any kind is recorded, then retried by the sweep
        logger.exception("Side effect failed; the sweep retries it", extra={"kind": kind, "id": target_id})
        effect.failed(target_id, f"{type(exc).__name__}: {exc}"[:2000])
        return False


def side_effects_pending_counts() -> dict[str, int]:
    """How many effects of each kind are owed and not done (failing ones included), for ``/metrics``."""
    return {
        ANNOUNCE: TimelineEvent.objects.filter(announced_at__isnull=True).exclude(announcement="").count(),
        POSTMORTEM_DRAFT: SideEffect.objects.filter(kind=POSTMORTEM_DRAFT, done_at__isnull=True).count(),
        INCIDENT_CHANNEL: SideEffect.objects.filter(kind=INCIDENT_CHANNEL, done_at__isnull=True).count(),
        CARDS: cards.cards_pending_count(),
    }


def side_effects_recover(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue again every effect still owed and due (lost task, broker outage, back-off over); returns how many.

    Beat runs it every minute. An effect queued twice is done once (``side_effect_run``).
    """
    now = now or timezone.now()
    queued = 0
    for kind, effect in EFFECTS.items():
        target_ids = effect.pending(now, limit)
        _enqueue(kind, target_ids)
        queued += len(target_ids)
    if queued:
        logger.info("Owed side effects queued again", extra={"count": queued})
    return queued
