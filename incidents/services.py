"""Incident writes shared by every front door: web, admin, API, alert webhooks (and Slack, once it has a door):
declaring, the lifecycle moves, notes. Edits of fields and roles (title, severity, commander...) are
``incidents.update``'s.

Each verb locks the incident row, is a no-op when the incident is already in
the target state (a double click, a retried request, a replayed webhook),
refuses an illegal move with InvalidTransition, places every lifecycle time
with ``incidents.times.lifecycle_time`` (one rule for every door), and
appends one timeline entry (``incidents.timeline``). What a move owes beyond
that — an announcement, a post-mortem draft — is recorded in the same
transaction and done after commit by a worker (``incidents.effects``), so the
request never waits for it, never fails because of it, and nothing is lost.

Every verb takes the acting person (``actor``; None for sredesk itself) and
refuses, with ``sredesk.exceptions.PermissionDenied`` and nothing written, one
who may not write to the incident (``ownership.permissions``).
"""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from ownership.models import Service, Team, User
from ownership.permissions import require_declare, require_write
from sredesk.exceptions import StateConflict

from . import effects
from .models import Incident, Severity, Source, TimelineEvent
from .timeline import timeline_append, timeline_entry
from .times import lifecycle_time


class InvalidTransition(StateConflict):
    """The incident's status does not allow this move (e.g. acknowledge a resolved incident)."""


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
    from another tool). Raises ValidationError naming the field for a
    person's naive, future or out-of-order time (``lifecycle_time``; an
    alert's are placed instead) or an unknown severity.
    """
    if severity not in Severity.values:
        raise ValidationError({"severity": f"Severity must be one of {', '.join(Severity.labels)}."})
    owning_team = owning_team or (primary_service.team if primary_service else None)
    require_declare(actor, owning_team=owning_team, commander=commander)
    incident = Incident(
        title=title,
        summary=summary,
        severity=severity,
        started_at=None,
        detected_at=None,
        primary_service=primary_service,
        owning_team=owning_team,
        commander=commander,
        integration=integration,
        alert_group_key=alert_group_key,
    )
    now = timezone.now()  # one instant for both times: a clock running ahead gives started == detected
    if started_at is None:
        incident.detected_at = lifecycle_time(incident, "detected_at", detected_at, source=source, now=now)
        incident.started_at = incident.detected_at
    else:
        incident.started_at = lifecycle_time(incident, "started_at", started_at, source=source, now=now)
        incident.detected_at = lifecycle_time(incident, "detected_at", detected_at, source=source, now=now)
    incident.save()
    affected = {s.pk: s for s in services}
    if primary_service:
        affected[primary_service.pk] = primary_service
    incident.services.set(affected.values())
    timeline_append(
        timeline_entry(
            incident.pk,
            TimelineEvent.Kind.STATUS_CHANGE,
            f"Declared {incident.get_severity_display()}: {title}",
            actor=actor,
            source=source,
            at=incident.detected_at,
            data={"status": incident.status},
            announce="declared" if announce else "",
        )
    )
    effects.incident_channel_owe(incident)  # its Slack channel, when the team wants one: by a worker, after commit
    return incident


def _open_incident_of_group(incident: Incident) -> Incident | None:
    """Another open incident of the same alert group, if any (at most one: a partial unique constraint)."""
    return (
        Incident.objects.filter(integration_id=incident.integration_id, alert_group_key=incident.alert_group_key)
        .exclude(pk=incident.pk)
        .exclude(status=Incident.Status.RESOLVED)
        .only("id")
        .first()
    )


# What a lifecycle transition may change (django-fsm-2 transitions on Incident).
LIFECYCLE_FIELDS = ("status", "acknowledged_at", "acknowledged_by", "mitigated_at", "resolved_at")
# The time each move records (a re-open's only on the timeline).
MOVE_TIME = {
    "acknowledge": "acknowledged_at",
    "mitigate": "mitigated_at",
    "resolve": "resolved_at",
    "reopen": "reopened_at",
}


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

    ``at`` is placed by ``lifecycle_time`` against the times recorded under
    the lock (a person's out-of-order time is refused, naming the field; an
    alert's is clamped, and the time it gave is kept on the timeline as
    ``requested_at``). ``announce``: the headline a worker announces after
    commit ("resolved"), or "" for none. Moves made by alerts stay out of the
    change history (``skip_history_when_saving``); the timeline keeps them all.
    """
    incident = Incident.objects.select_for_update().get(pk=incident_id)
    require_write(actor, incident)
    if incident.status == target:
        return incident, None
    method = getattr(incident, verb)
    if not can_proceed(method):
        raise InvalidTransition(
            f"Cannot {verb} {incident.public_id}: it is {incident.get_status_display().lower()}.",
            code="invalid_transition",
        )
    placed = lifecycle_time(incident, MOVE_TIME[verb], at, source=source)
    before = {f: getattr(incident, f) for f in ("status", "acknowledged_at", "mitigated_at", "resolved_at")}
    if verb == "reopen":
        method()
    else:
        method(at=placed, **kwargs)
    if verb == "reopen" and incident.alert_group_key:
        newer = _open_incident_of_group(incident)
        if newer is not None:
            raise InvalidTransition(
                f"Cannot reopen {incident.public_id}: its alerts now belong to {newer.public_id}, which is open.",
                code="invalid_transition",
            )
    if source == Source.ALERT and actor is None:
        incident.skip_history_when_saving = True
    try:
        incident.save(update_fields=[*LIFECYCLE_FIELDS, "updated_at"])
    finally:
        incident.__dict__.pop("skip_history_when_saving", None)
    data = {
        "from": before["status"],
        "to": target,
        **{f"previous_{k}": v.isoformat() for k, v in before.items() if k != "status" and v is not None},
        **({"requested_at": at.isoformat()} if at is not None and at != placed else {}),
    }
    [event] = timeline_append(
        timeline_entry(
            incident.pk,
            TimelineEvent.Kind.STATUS_CHANGE,
            f"{before['status'].capitalize()} → {incident.get_status_display()}",
            actor=actor,
            source=source,
            at=placed,
            data=data,
            announce=announce,
        )
    )
    return incident, event


# The headline a worker announces after each move ("" for none): acknowledging and mitigating are not announced.
MOVE_ANNOUNCEMENT = {"acknowledge": "", "mitigate": "", "resolve": "resolved", "reopen": "re-opened"}
MOVE_TARGET = {"acknowledge": "acknowledged", "mitigate": "mitigated", "resolve": "resolved", "reopen": "triggered"}


@transaction.atomic
def _move(
    *, incident_id: int, verb: str, actor: User | None, source: str, at: datetime | None = None
) -> tuple[Incident, bool]:
    """Apply one lifecycle move (``verb``: acknowledge, mitigate, resolve, reopen); returns (incident, moved).

    ``moved`` is False when the incident was already in the target state: a
    double click or a second person got there first, and the first move's
    times and person are kept (the caller may say who, from the incident and
    its timeline). Acknowledging records the actor as ``acknowledged_by``;
    resolving announces the resolution after commit and, for severities that
    need one (``SREDESK_POSTMORTEM_SEVERITIES``), owes the post-mortem draft,
    which a worker creates after commit and retries until it exists
    (``effects.postmortem_draft_owe``): the resolve succeeds whatever the
    draft step does. Raises InvalidTransition for an illegal move (e.g.
    acknowledge a resolved incident), PermissionDenied for a person who may
    not write to the incident.
    """
    kwargs = {"by": actor} if verb == "acknowledge" else {}
    incident, event = _transition(
        incident_id=incident_id,
        verb=verb,
        target=MOVE_TARGET[verb],
        actor=actor,
        source=source,
        at=at,
        announce=MOVE_ANNOUNCEMENT[verb],
        **kwargs,
    )
    if event is not None and verb == "resolve":
        effects.postmortem_draft_owe(incident)
    return incident, event is not None


def incident_acknowledge(*, incident_id: int, actor: User | None, source: str, at: datetime | None = None) -> Incident:
    """Acknowledge. No-op when already acknowledged; the first acknowledgement's time and person are kept.

    Raises InvalidTransition from mitigated or resolved.
    """
    return _move(incident_id=incident_id, verb="acknowledge", actor=actor, source=source, at=at)[0]


def incident_mitigate(*, incident_id: int, actor: User | None, source: str, at: datetime | None = None) -> Incident:
    """Mark impact stopped (``mitigated_at``). No-op when mitigated; InvalidTransition when resolved."""
    return _move(incident_id=incident_id, verb="mitigate", actor=actor, source=source, at=at)[0]


def incident_resolve(*, incident_id: int, actor: User | None, source: str, at: datetime | None = None) -> Incident:
    """Resolve at ``at`` (default now). No-op when already resolved; owes the post-mortem draft (``_move``)."""
    return _move(incident_id=incident_id, verb="resolve", actor=actor, source=source, at=at)[0]


def incident_reopen(*, incident_id: int, actor: User | None, source: str, at: datetime | None = None) -> Incident:
    """Back to triggered from mitigated or resolved; clears mitigated_at and resolved_at (kept on the timeline)."""
    return _move(incident_id=incident_id, verb="reopen", actor=actor, source=source, at=at)[0]


TRANSITIONS = {
    "acknowledge": incident_acknowledge,
    "mitigate": incident_mitigate,
    "resolve": incident_resolve,
    "reopen": incident_reopen,
}


@transaction.atomic
def incident_add_note(
    *, incident_id: int, text: str, actor: User | None, source: str, data: dict | None = None
) -> TimelineEvent:
    """Append a note to the timeline. Raises ValidationError for an empty note.

    ``data``: where the note came from, kept on the entry (a Slack message's channel and ``ts``).
    """
    if not text.strip():
        raise ValidationError({"text": "A note needs some text."})
    incident = Incident.objects.get(pk=incident_id)
    require_write(actor, incident)
    [entry] = timeline_append(
        timeline_entry(incident.pk, TimelineEvent.Kind.NOTE, text.strip(), actor=actor, source=source, data=data)
    )
    return entry
