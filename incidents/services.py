"""Incident writes shared by every front door: web, admin, API, Slack, alert webhooks.

Each verb locks the incident row, is a no-op when the incident is already in
the target state (a double click, a retried request, a replayed webhook),
refuses an illegal move with InvalidTransition, and writes one timeline entry.
An entry that is announced (declared, escalated, resolved, re-opened) carries
its headline; after commit a worker sends it (``incident_announce``), and a
beat sweep re-queues any whose task was lost, so the request never waits for
the notification layer and no announcement is lost.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed

from notifications.services import notify
from ownership.models import Responsibility, Service, Team, User
from sredesk import sql
from sredesk.exceptions import StateConflict

from .models import Incident, Severity, Source, TimelineEvent

logger = logging.getLogger(__name__)


class InvalidTransition(StateConflict):
    """The incident's status does not allow this move (e.g. acknowledge a resolved incident)."""


# How far ahead of our clock a given time may be: a browser's or a script's clock that runs a little fast.
CLOCK_TOLERANCE = timedelta(minutes=1)


def _aware(field: str, value: datetime | None) -> datetime | None:
    """Refuse naive datetimes: every lifecycle time must be an absolute instant (stored in UTC)."""
    if value is not None and timezone.is_naive(value):
        raise ValidationError({field: "Give a time zone (e.g. 2024-05-01T10:05:00Z); naive times are refused."})
    return value


def _past(field: str, value: datetime | None, source: str, now: datetime) -> datetime | None:
    """A lifecycle time that has happened: aware (``_aware``) and not after ``now``.

    A person's (or an API client's) time more than ``CLOCK_TOLERANCE`` ahead
    is refused, naming the field: it would make MTTA/MTTR wrong. An alert's
    time ahead of ours is the sender's clock running fast: it is taken as
    ``now``, when we learnt of it (refusing would lose the alert).
    """
    value = _aware(field, value)
    if value is None or value <= now:
        return value
    if source == Source.ALERT:
        return now
    if value > now + CLOCK_TOLERANCE:
        raise ValidationError({field: f"must not be in the future (got {value.isoformat()}, now {now.isoformat()})."})
    return now


def _check_order(incident: Incident) -> None:
    """Raise ValidationError naming the field when the timestamps break the incident's ordering."""
    if incident.detected_at < incident.started_at:
        raise ValidationError({"detected_at": "must be at or after started_at."})
    for field in ("resolved_at", "mitigated_at", "acknowledged_at"):
        value = getattr(incident, field)
        if value is not None and value < incident.detected_at:
            detected = incident.detected_at.isoformat()
            raise ValidationError({field: f"must be at or after detected_at ({detected}), got {value.isoformat()}."})
    if incident.mitigated_at and incident.resolved_at and incident.resolved_at < incident.mitigated_at:
        raise ValidationError({"resolved_at": "must be at or after mitigated_at."})


def incident_url(incident: Incident) -> str:
    return settings.SREDESK_BASE_URL + reverse("incidents:detail", args=[incident.pk])


def _paged_person(incident: Incident) -> User | None:
    """Who is paged: the primary service's `paged` responsibility, else the commander."""
    if incident.primary_service_id:
        paged = (
            Responsibility.objects.filter(service_id=incident.primary_service_id, role=Responsibility.Role.PAGED)
            .select_related("user", "team")
            .first()
        )
        if paged and paged.person:
            return paged.person
    return incident.commander


def _announce(incident: Incident, event: TimelineEvent, headline: str) -> None:
    """Tell the owning team's channel and the paged person; once per timeline event (the notification key)."""
    team = incident.owning_team
    person = _paged_person(incident)
    text = f"{incident.public_id} ({incident.get_severity_display()}) {headline}: {incident.title}"
    notify(
        key=f"timeline-event:{event.pk}",
        topic=incident.public_id,
        subject=text,
        text=text,
        url=incident_url(incident),
        slack=[team.slack_channel if team else "", person.slack_user_id if person else ""],
        outbox=([f"team:{team.slug}"] if team else []) + ([f"user:{person.username}"] if person else []),
    )


def _queue_announcement(event_id: int) -> None:
    """After commit: hand the announcement to a worker. A broker outage loses nothing (announcements_recover)."""
    from kombu.exceptions import OperationalError

    from .tasks import incident_announce_task

    try:
        incident_announce_task.delay(event_id)
    except OperationalError:
        logger.warning("Announcement not queued (broker down); the recovery sweep will", extra={"event": event_id})


def incident_announce(event_id: int) -> bool:
    """Send the announcement a timeline event asks for (``announcement``), once; True if this call sent it.

    Runs in a worker (``incidents.announce``), never in the request that
    changed the incident, so an alert webhook answers without waiting for it.
    Idempotent: the event is locked and marked ``announced_at`` in the same
    transaction as the notifications it plans (``notify`` is keyed on the
    event too), so a redelivered task or a recovery sweep sends nothing twice.
    """
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
        _announce(event.incident, event, event.announcement)
        TimelineEvent.objects.filter(pk=event_id).update(announced_at=timezone.now())
    return True


def announcements_recover(*, limit: int = 500) -> int:
    """Re-queue announcements still unsent (a lost task message, a broker outage at commit); returns how many.

    Beat runs it every minute. A re-queued announcement already on its way is a no-op (``incident_announce``).
    """
    from .tasks import incident_announce_task

    pending = list(
        TimelineEvent.objects.filter(announced_at__isnull=True)
        .exclude(announcement="")
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for event_id in pending:
        incident_announce_task.delay(event_id)
    if pending:
        logger.info("Unsent announcements re-queued", extra={"count": len(pending)})
    return len(pending)


def _log(
    incident: Incident,
    kind: str,
    message: str,
    *,
    actor: User | None,
    source: str,
    at: datetime | None = None,
    data: dict | None = None,
    announce: str = "",
) -> TimelineEvent:
    """Append a timeline event; with ``announce`` (a headline), a worker announces it after commit.

    One hand-written INSERT (``sredesk.sql``): alert webhooks append entries many times a second.
    """
    values = {
        "incident_id": incident.pk,
        "kind": kind,
        "at": at or timezone.now(),
        "actor_id": actor.pk if actor else None,
        "source": source,
        "message": message,
        "data": data or {},
        "announcement": announce,
        "announced_at": None,
    }
    [pk] = sql.insert(TimelineEvent, [values], returning="id")
    event = TimelineEvent(pk=pk, **values)
    event._state.adding = False
    if announce:
        transaction.on_commit(lambda: _queue_announcement(event.pk))
    return event


@transaction.atomic
def incident_declare(
    *,
    title: str,
    severity: int,
    actor: User | None,
    source: str,
    summary: str = "",
    primary_service: Service | None = None,
    services: Iterable[Service] = (),
    owning_team: Team | None = None,
    commander: User | None = None,
    started_at: datetime | None = None,
    detected_at: datetime | None = None,
    integration=None,
    alert_group_key: str = "",
    announce: bool = True,
) -> Incident:
    """Open a new incident in ``triggered``; announces it (after commit) to the owning team and the paged person.

    The owning team defaults to the primary service's team. ``started_at``
    defaults to ``detected_at``, which defaults to now. ``integration`` and
    ``alert_group_key`` tie it to an alert group (at most one open incident
    per group: a concurrent declare raises IntegrityError, which ingestion
    retries). ``announce=False`` declares silently (an incident learnt late
    from another tool). Raises ValidationError for naive, future (``_past``)
    or out-of-order times or an unknown severity.
    """
    if severity not in Severity.values:
        raise ValidationError({"severity": f"Severity must be one of {', '.join(Severity.labels)}."})
    now = timezone.now()
    detected_at = _past("detected_at", detected_at, source, now) or now
    started_at = _past("started_at", started_at, source, now) or detected_at
    incident = Incident(
        title=title,
        summary=summary,
        severity=severity,
        started_at=started_at,
        detected_at=detected_at,
        primary_service=primary_service,
        owning_team=owning_team or (primary_service.team if primary_service else None),
        commander=commander,
        integration=integration,
        alert_group_key=alert_group_key,
    )
    _check_order(incident)
    incident.save()
    affected = {s.pk: s for s in services}
    if primary_service:
        affected[primary_service.pk] = primary_service
    incident.services.set(affected.values())
    _log(
        incident,
        TimelineEvent.Kind.STATUS_CHANGE,
        f"Declared {incident.get_severity_display()}: {title}",
        actor=actor,
        source=source,
        at=detected_at,
        data={"status": incident.status},
        announce="declared" if announce else "",
    )
    return incident


def _locked(incident_id: int) -> Incident:
    """The incident, its row locked until commit. Raises Incident.DoesNotExist.

    Hand-written (``sredesk.sql``): alert webhooks move incidents many times a second.
    """
    found = sql.select(Incident, "id = %s", [incident_id], tail=sql.for_update())
    if not found:
        raise Incident.DoesNotExist(f"No incident with id {incident_id}.")
    return found[0]


def _open_incident_of_group(incident: Incident) -> Incident | None:
    """Another open incident of the same alert group, if any (at most one: a partial unique constraint)."""
    same_source = "integration_id IS NULL" if incident.integration_id is None else "integration_id = %s"
    params = [incident.integration_id] if incident.integration_id is not None else []
    found = sql.select(
        Incident,
        f"{same_source} AND alert_group_key = %s AND id <> %s AND status <> 'resolved'",
        [*params, incident.alert_group_key, incident.pk],
        fields=("id",),
    )
    return found[0] if found else None


# What a lifecycle transition may change (django-fsm-2 transitions on Incident).
LIFECYCLE_FIELDS = ("status", "acknowledged_at", "acknowledged_by", "mitigated_at", "resolved_at")


def _transition(
    *,
    incident_id: int,
    verb: str,
    target: str,
    actor: User | None,
    source: str,
    at: datetime | None,
    announce: str = "",
    **kwargs,
) -> tuple[Incident, TimelineEvent | None]:
    """Apply one FSM transition under a row lock. Returns (incident, timeline event or None if a no-op).

    ``announce``: the headline a worker announces after commit ("resolved"), or "" for none.
    """
    now = timezone.now()
    at = _past(f"{target}_at" if target != "triggered" else "at", at, source, now) or now
    incident = _locked(incident_id)
    if incident.status == target:
        return incident, None
    method = getattr(incident, verb)
    if not can_proceed(method):
        raise InvalidTransition(
            f"Cannot {verb} {incident.public_id}: it is {incident.get_status_display().lower()}.",
            code="invalid_transition",
        )
    before = {f: getattr(incident, f) for f in ("status", "acknowledged_at", "mitigated_at", "resolved_at")}
    if verb == "reopen":
        method()
    else:
        method(at=at, **kwargs)
    _check_order(incident)
    if verb == "reopen" and incident.alert_group_key:
        newer = _open_incident_of_group(incident)
        if newer is not None:
            raise InvalidTransition(
                f"Cannot reopen {incident.public_id}: its alerts now belong to {newer.public_id}, which is open.",
                code="invalid_transition",
            )
    # Moves made by alerts are recorded on the timeline only (one hand-written UPDATE, no signals); the
    # change history keeps what people do.
    if source == Source.ALERT and actor is None:
        incident.updated_at = timezone.now()
        sql.update(incident, [*LIFECYCLE_FIELDS, "updated_at"])
    else:
        incident.save(update_fields=[*LIFECYCLE_FIELDS, "updated_at"])
    data = {
        "from": before["status"],
        "to": target,
        **{f"previous_{k}": v.isoformat() for k, v in before.items() if k != "status" and v is not None},
    }
    event = _log(
        incident,
        TimelineEvent.Kind.STATUS_CHANGE,
        f"{before['status'].capitalize()} → {incident.get_status_display()}",
        actor=actor,
        source=source,
        at=at,
        data=data,
        announce=announce,
    )
    return incident, event


@transaction.atomic
def incident_acknowledge(*, incident_id: int, actor: User | None, source: str, at: datetime | None = None) -> Incident:
    """Acknowledge. No-op when already acknowledged; the first acknowledgement's time and person are kept.

    Raises InvalidTransition from mitigated or resolved.
    """
    incident, _ = _transition(
        incident_id=incident_id, verb="acknowledge", target="acknowledged", actor=actor, source=source, at=at, by=actor
    )
    return incident


@transaction.atomic
def incident_mitigate(*, incident_id: int, actor: User | None, source: str, at: datetime | None = None) -> Incident:
    """Mark impact stopped (``mitigated_at``). No-op when mitigated; InvalidTransition when resolved."""
    incident, _ = _transition(
        incident_id=incident_id, verb="mitigate", target="mitigated", actor=actor, source=source, at=at
    )
    return incident


@transaction.atomic
def incident_resolve(*, incident_id: int, actor: User | None, source: str, at: datetime | None = None) -> Incident:
    """Resolve at ``at`` (default now). No-op when already resolved.

    Announces the resolution, and for severities that need one
    (``POSTMORTEM_REQUIRED_SEVERITIES``) creates the post-mortem draft, exactly once.
    """
    from postmortems.services import postmortem_create_for_incident

    incident, event = _transition(
        incident_id=incident_id,
        verb="resolve",
        target="resolved",
        actor=actor,
        source=source,
        at=at,
        announce="resolved",
    )
    if event is not None:
        postmortem_create_for_incident(incident=incident)
    return incident


@transaction.atomic
def incident_reopen(*, incident_id: int, actor: User | None, source: str, at: datetime | None = None) -> Incident:
    """Back to triggered from mitigated or resolved; clears mitigated_at and resolved_at (kept on the timeline)."""
    incident, _ = _transition(
        incident_id=incident_id,
        verb="reopen",
        target="triggered",
        actor=actor,
        source=source,
        at=at,
        announce="re-opened",
    )
    return incident


TRANSITIONS = {
    "acknowledge": incident_acknowledge,
    "mitigate": incident_mitigate,
    "resolve": incident_resolve,
    "reopen": incident_reopen,
}


@transaction.atomic
def incident_set_severity(*, incident_id: int, severity: int, actor: User | None, source: str) -> Incident:
    """Change severity. Raising it (a lower SEV number) is an escalation: logged and announced."""
    if severity not in Severity.values:
        raise ValidationError({"severity": f"Severity must be one of {', '.join(Severity.labels)}."})
    incident = Incident.objects.select_for_update().get(pk=incident_id)
    if incident.severity == severity:
        return incident
    old = incident.get_severity_display()
    escalated = severity < incident.severity
    incident.severity = severity
    incident.save(update_fields=["severity", "updated_at"])
    verb = "Escalated" if escalated else "Downgraded"
    _log(
        incident,
        TimelineEvent.Kind.SEVERITY_CHANGE,
        f"{verb} {old} → {incident.get_severity_display()}",
        actor=actor,
        source=source,
        data={"from": old, "to": incident.get_severity_display()},
        announce=f"escalated to {incident.get_severity_display()}" if escalated else "",
    )
    return incident


ROLES = {"commander": "incident commander", "communications_lead": "communications lead"}


@transaction.atomic
def incident_assign_role(
    *, incident_id: int, role: str, user: User | None, actor: User | None, source: str
) -> Incident:
    """Set the incident commander or communications lead (None clears it). Logged on the timeline."""
    if role not in ROLES:
        raise ValidationError({"role": f"Role must be one of {', '.join(ROLES)}."})
    incident = Incident.objects.select_for_update().get(pk=incident_id)
    if getattr(incident, f"{role}_id") == (user.pk if user else None):
        return incident
    setattr(incident, role, user)
    incident.save(update_fields=[role, "updated_at"])
    _log(
        incident,
        TimelineEvent.Kind.ROLE_CHANGE,
        f"{ROLES[role].capitalize()}: {user or 'nobody'}",
        actor=actor,
        source=source,
        data={"role": role, "user_id": user.pk if user else None},
    )
    return incident


@transaction.atomic
def incident_set_responder(
    *, incident_id: int, user: User, responding: bool, actor: User | None, source: str
) -> Incident:
    """Add (``responding=True``) or remove a responder. Idempotent; logged on the timeline."""
    incident = Incident.objects.select_for_update().get(pk=incident_id)
    present = incident.responders.filter(pk=user.pk).exists()
    if present == responding:
        return incident
    (incident.responders.add if responding else incident.responders.remove)(user)
    _log(
        incident,
        TimelineEvent.Kind.ROLE_CHANGE,
        f"Responder {'added' if responding else 'removed'}: {user}",
        actor=actor,
        source=source,
        data={"role": "responder", "user_id": user.pk, "responding": responding},
    )
    return incident


@transaction.atomic
def incident_add_note(*, incident_id: int, text: str, actor: User | None, source: str) -> TimelineEvent:
    """Append a note to the timeline. Raises ValidationError for an empty note."""
    if not text.strip():
        raise ValidationError({"text": "A note needs some text."})
    incident = Incident.objects.get(pk=incident_id)
    return _log(incident, TimelineEvent.Kind.NOTE, text.strip(), actor=actor, source=source)


@transaction.atomic
def incident_update_details(
    *, incident_id: int, actor: User | None, source: str, title: str | None = None, summary: str | None = None
) -> Incident:
    """Change the title and/or summary (None leaves a field as it is). Logged on the timeline; not announced.

    No-op when nothing changes. Raises ValidationError naming the field for an
    empty or too long title.
    """
    changes = {k: v for k, v in (("title", title), ("summary", summary)) if v is not None}
    if "title" in changes:
        changes["title"] = changes["title"].strip()
        if not changes["title"]:
            raise ValidationError({"title": "An incident needs a title."})
        limit = Incident._meta.get_field("title").max_length
        if len(changes["title"]) > limit:
            raise ValidationError({"title": f"At most {limit} characters."})
    incident = Incident.objects.select_for_update().get(pk=incident_id)
    changed = [field for field, value in changes.items() if getattr(incident, field) != value]
    if not changed:
        return incident
    for field in changed:
        setattr(incident, field, changes[field])
    incident.save(update_fields=[*changed, "updated_at"])
    _log(
        incident,
        TimelineEvent.Kind.EDIT,
        f"Edited {' and '.join(changed)}" + (f": {incident.title}" if "title" in changed else ""),
        actor=actor,
        source=source,
        data={"edited": changed},
    )
    return incident
