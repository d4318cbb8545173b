"""One edit of an incident's fields and roles, all or nothing: the API's PATCH and the web page's forms (issue 14.5).

Each change goes through its own verb in ``incidents.services`` (so each is
one timeline entry, an escalation is announced, a downgrade may decline an
untouched draft); this module only decides the order and holds them in one
transaction. Status and lifecycle times change through the transition verbs,
never here.
"""

from collections.abc import Iterable

from django.db import transaction

from ownership.models import User
from ownership.permissions import require_write
from sredesk.versions import BasedOn

from . import services
from .models import Incident

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
        services.incident_update_details(**common, title=title, summary=summary)
    if severity is not None:
        services.incident_set_severity(**common, severity=severity, based_on=based_on)
    if responders is not None:
        wanted = {user.pk: user for user in responders}
        current = {user.pk: user for user in incident.responders.all()}
        for pk in sorted(current.keys() - wanted.keys()):
            services.incident_set_responder(**common, user=current[pk], responding=False)
        for pk in sorted(wanted.keys() - current.keys()):
            services.incident_set_responder(**common, user=wanted[pk], responding=True)
    if communications_lead is not UNSET:
        services.incident_assign_role(
            **common, role="communications_lead", user=communications_lead, based_on=based_on
        )
    if commander is not UNSET:
        services.incident_assign_role(**common, role="commander", user=commander, based_on=based_on)
    return Incident.objects.get(pk=incident.pk)
