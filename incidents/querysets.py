"""The read rules of incidents that figures are built on: one home for each.

Lifecycle durations (``DURATIONS``), in seconds, between two of the
incident's own instants (aware UTC, so DST cannot skew them; the database
keeps their order, see ``incidents.times``):

* **time to acknowledge** (MTTA when averaged): ``detected_at`` →
  ``acknowledged_at``. An alert-made incident is detected when sredesk
  received the alert (never backdated), so this is the time people could
  have known. The first acknowledgement counts (a re-acknowledgement after a
  re-open keeps it).
* **time to mitigate**: ``started_at`` (impact began) → ``mitigated_at``.
* **time to resolve** (MTTR when averaged): ``started_at`` → ``resolved_at``.

A duration is NULL while its end is not recorded (a re-open clears
``mitigated_at`` and ``resolved_at`` until they are recorded again).
``Incident.mtta_seconds`` and its siblings read the same table for one row.
"""

import datetime as dt

from django.db import models

from sredesk.aggregates import Seconds

# name -> (from, to): the instants each duration runs between (module docstring).
DURATIONS = {
    "time_to_acknowledge": ("detected_at", "acknowledged_at"),
    "time_to_mitigate": ("started_at", "mitigated_at"),
    "time_to_resolve": ("started_at", "resolved_at"),
}


# "Still waiting for someone to acknowledge it": the statuses of the one rule (values of ``Incident.Status``,
# spelled out: the model imports this module). ``triggered`` only: neither acknowledged, mitigated nor resolved;
# a re-opened incident waits again. Rows: ``IncidentQuerySet.needing_acknowledgement`` (escalation, the dashboard,
# a page's last check before it is sent); one incident: ``Incident.needs_acknowledgement`` (its Slack card's
# Acknowledge button).
NEEDING_ACKNOWLEDGEMENT_STATUSES = frozenset({"triggered"})


def needs_acknowledgement(status: str) -> bool:
    """Whether an incident in ``status`` still waits for an acknowledgement (``NEEDING_ACKNOWLEDGEMENT_STATUSES``)."""
    return status in NEEDING_ACKNOWLEDGEMENT_STATUSES


def duration_seconds(name: str) -> Seconds:
    """The SQL expression of duration ``name`` (a key of ``DURATIONS``) in seconds, NULL while it is open."""
    start, end = DURATIONS[name]
    return Seconds(start, end)


class IncidentQuerySet(models.QuerySet):
    """Incidents, with the read rules of this module as methods."""

    def needing_acknowledgement(self) -> "IncidentQuerySet":
        """Incidents still waiting for someone to acknowledge them (``NEEDING_ACKNOWLEDGEMENT_STATUSES``: triggered,
        a re-opened one again). Escalation pages only these, a page to any other is dropped before it is sent
        (``notifications.services.notification_obsolete``), and only their Slack cards offer Acknowledge
        (``Incident.needs_acknowledgement``, the same rule for one incident)."""
        return self.filter(status__in=NEEDING_ACKNOWLEDGEMENT_STATUSES)

    def detected_between(self, start: dt.datetime, end: dt.datetime) -> "IncidentQuerySet":
        """Incidents detected in ``[start, end)`` (aware instants): the cohort a period's response figures count."""
        return self.filter(detected_at__gte=start, detected_at__lt=end)

    def annotate_durations(self) -> "IncidentQuerySet":
        """Each row with ``<name>_seconds`` for every duration of ``DURATIONS`` (float seconds or None)."""
        return self.annotate(**{f"{name}_seconds": duration_seconds(name) for name in DURATIONS})
