"""Edits of an incident's fields and roles: one verb per change, and the one all-or-nothing edit of several.

Each change has its own verb here (title and summary, severity, a role, a
responder), so each is one timeline entry, an escalation is announced and a
downgrade may decline an untouched draft. ``incident_update`` (the API's PATCH
and the web page's forms, issue 14.5) only decides their order and holds them
in one transaction. Status and lifecycle times change through the transition
verbs of ``incidents.services``, never here. Every verb locks the incident row,
takes the acting person (``actor``; None for sredesk itself) and refuses one who
may not write to the incident (``ownership.permissions``: PermissionDenied,
nothing written).
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from ownership.models import User
from ownership.permissions import require_write
from sredesk.versions import BasedOn, merge_edit

from . import effects
from .models import Incident, Severity, TimelineEvent
from .timeline import timeline_append, timeline_entry

UNSET: object = object()  # "leave this role as it is"; None clears it


@transaction.atomic
def incident_update(
    *,
    incident_id: int,
    actor: User | None,
    source: str,
    title: str | None = None,
    summary: str | None = None,
    severity: int | None = None,
    commander: object = UNSET,
    communications_lead: object = UNSET,
    responders: Iterable[User] | None = None,
    based_on: BasedOn | None = None,
) -> Incident:
    """Change any of title, summary, severity, communications lead, commander (a User, or None: nobody) and
    the full set of responders, in one transaction; returns the incident as stored after.

    Arguments left out (None, or ``UNSET`` for the roles) stay as they are;
    no-op, with no timeline entry, when nothing changes. The actor's write
    permission is checked once, first, under the row lock
    (``ownership.permissions``: PermissionDenied, nothing written); the
    commander changes last, so a commander who hands over command in the same
    edit still makes the rest of it. Raises ValidationError naming the field
    (an empty title, an unknown severity), and then nothing is stored.
    ``based_on``: what a web form was opened at; a severity or role someone
    else changed meanwhile raises EditConflict (``sredesk.versions``).
    """
    incident = Incident.objects.select_for_update().get(pk=incident_id)
    require_write(actor, incident)
    common = {"incident_id": incident.pk, "actor": actor, "source": source}
    if title is not None or summary is not None:
        incident_update_details(**common, title=title, summary=summary)
    if severity is not None:
        incident_set_severity(**common, severity=severity, based_on=based_on)
    if responders is not None:
        wanted = {user.pk: user for user in responders}
        current = {user.pk: user for user in incident.responders.all()}
        for pk in sorted(current.keys() - wanted.keys()):
            incident_set_responder(**common, user=current[pk], responding=False)
        for pk in sorted(wanted.keys() - current.keys()):
            incident_set_responder(**common, user=wanted[pk], responding=True)
    if communications_lead is not UNSET:
        incident_assign_role(
            **common, role="communications_lead", user=communications_lead, based_on=based_on
        )
    if commander is not UNSET:
        incident_assign_role(**common, role="commander", user=commander, based_on=based_on)
    return Incident.objects.get(pk=incident.pk)


@transaction.atomic
def incident_set_severity(
    *, incident_id: int, severity: int, actor: User | None, source: str, based_on: BasedOn | None = None
) -> Incident:
    """Change severity. Raising it (a lower SEV number) is an escalation: logged and announced.

    ``based_on``: what the person saw (``sredesk.versions.merge_edit``): EditConflict when someone else
    changed the severity meanwhile, to another value than this one.
    """
    if severity not in Severity.values:
        raise ValidationError({"severity": f"Severity must be one of {', '.join(Severity.labels)}."})
    incident = Incident.objects.select_for_update().get(pk=incident_id)
    require_write(actor, incident)
    if incident.severity == severity or not merge_edit(incident, {"severity": severity}, based_on):
        return incident
    old = incident.get_severity_display()
    escalated = severity < incident.severity
    incident.severity = severity
    incident.save(update_fields=["severity", "updated_at"])
    verb = "Escalated" if escalated else "Downgraded"
    timeline_append(
        timeline_entry(
            incident.pk,
            TimelineEvent.Kind.SEVERITY_CHANGE,
            f"{verb} {old} → {incident.get_severity_display()}",
            actor=actor,
            source=source,
            data={"from": old, "to": incident.get_severity_display()},
            announce=f"escalated to {incident.get_severity_display()}" if escalated else "",
        )
    )
    if not escalated:
        from postmortems.decline import postmortem_decline_if_not_needed  # postmortems builds on incidents

        postmortem_decline_if_not_needed(incident=incident, actor=actor)  # an untouched draft nobody needs
    return incident


ROLES = {"commander": "incident commander", "communications_lead": "communications lead"}


@transaction.atomic
def incident_assign_role(
    *, incident_id: int, role: str, user: User | None, actor: User | None, source: str, based_on: BasedOn | None = None
) -> Incident:
    """Set the incident commander or communications lead (None clears it). Logged on the timeline.

    ``based_on`` as for ``incident_set_severity``: EditConflict when someone else set the role meanwhile.
    """
    if role not in ROLES:
        raise ValidationError({"role": f"Role must be one of {', '.join(ROLES)}."})
    incident = Incident.objects.select_for_update().get(pk=incident_id)
    require_write(actor, incident)  # appointing is a write: who may appoint is who may write (ownership.permissions)
    if getattr(incident, f"{role}_id") == (user.pk if user else None) or not merge_edit(
        incident, {role: user}, based_on
    ):
        return incident
    setattr(incident, role, user)
    incident.save(update_fields=[role, "updated_at"])
    timeline_append(
        timeline_entry(
            incident.pk,
            TimelineEvent.Kind.ROLE_CHANGE,
            f"{ROLES[role].capitalize()}: {user or 'nobody'}",
            actor=actor,
            source=source,
            data={"role": role, "user_id": user.pk if user else None},
        )
    )
    if role == "commander" and user is not None:
        effects.incident_channel_owe(incident)  # invited to the incident's Slack channel, if it has one
    return incident


@transaction.atomic
def incident_set_responder(
    *, incident_id: int, user: User, responding: bool, actor: User | None, source: str
) -> Incident:
    """Add (``responding=True``) or remove a responder. Idempotent; logged on the timeline."""
    incident = Incident.objects.select_for_update().get(pk=incident_id)
    require_write(actor, incident)
    present = incident.responders.filter(pk=user.pk).exists()
    if present == responding:
        return incident
    (incident.responders.add if responding else incident.responders.remove)(user)
    incident.save(update_fields=["updated_at"])  # a new version: the responders are part of the incident
    timeline_append(
        timeline_entry(
            incident.pk,
            TimelineEvent.Kind.ROLE_CHANGE,
            f"Responder {'added' if responding else 'removed'}: {user}",
            actor=actor,
            source=source,
            data={"role": "responder", "user_id": user.pk, "responding": responding},
        )
    )
    if responding:
        effects.incident_channel_owe(incident)  # invited to the incident's Slack channel, if it has one
    return incident


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
    require_write(actor, incident)
    changed = [field for field, value in changes.items() if getattr(incident, field) != value]
    if not changed:
        return incident
    for field in changed:
        setattr(incident, field, changes[field])
    incident.save(update_fields=[*changed, "updated_at"])
    timeline_append(
        timeline_entry(
            incident.pk,
            TimelineEvent.Kind.EDIT,
            f"Edited {' and '.join(changed)}" + (f": {incident.title}" if "title" in changed else ""),
            actor=actor,
            source=source,
            data={"edited": changed},
        )
    )
    return incident
