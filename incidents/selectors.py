"""Read-only queries over incidents, shared by the web UI and the API."""

from django.db.models import Case, IntegerField, QuerySet, Value, When

from sredesk.api.ordering import OrderKey

from .models import Incident, Severity


def incident_list() -> QuerySet[Incident]:
    """Every incident with what list pages show; newest detection first, ``id`` as the tie-breaker."""
    return Incident.objects.select_related("owning_team", "commander", "primary_service").order_by(
        "-detected_at", "-id"
    )


# The web list's order, unresolved first, newest first; its pages are keyset pages on these keys (sredesk.pages).
OPEN_FIRST_KEYS = [
    OrderKey("resolved_last", descending=False, nullable=False),
    OrderKey("detected_at", descending=True, nullable=False),
    OrderKey("id", descending=True, nullable=False),
]


def incident_list_open_first() -> QuerySet[Incident]:
    """``incident_list``, unresolved incidents first (``OPEN_FIRST_KEYS``; the same on every database)."""
    resolved_last = Case(
        When(status=Incident.Status.RESOLVED, then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    return incident_list().annotate(resolved_last=resolved_last).order_by(*(k.expression() for k in OPEN_FIRST_KEYS))


def incidents_open() -> QuerySet[Incident]:
    """Incidents not resolved, worst severity first, then oldest detection first."""
    return incident_list().exclude(status=Incident.Status.RESOLVED).order_by("severity", "detected_at", "id")


def incidents_open_by_severity() -> list[tuple[str, int]]:
    """[("SEV1", n), ... ("SEV4", n)]: how many unresolved incidents there are of each severity."""
    counts = dict.fromkeys(Severity.values, 0)
    for severity in incidents_open().values_list("severity", flat=True):
        counts[severity] += 1
    return [(Severity(s).label, n) for s, n in counts.items()]


def incidents_needing_acknowledgement() -> QuerySet[Incident]:
    """Triggered incidents nobody has acknowledged, longest waiting first."""
    return incident_list().needing_acknowledgement().order_by("detected_at", "id")


def incident_last_move(incident: Incident, target: str):
    """The timeline entry of the latest move of ``incident`` into status ``target`` (who made it, when, through
    which door), or None. For an acknowledgement the incident's own ``acknowledged_by``/``acknowledged_at``
    are the first writer's and are what to show; this names who resolved, mitigated or re-opened."""
    from .models import TimelineEvent

    return (
        TimelineEvent.objects.filter(incident=incident, kind=TimelineEvent.Kind.STATUS_CHANGE, data__to=target)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
