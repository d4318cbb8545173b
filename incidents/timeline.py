"""The one writer of incident timeline entries (issue 14 item 2; OnCall's "the transition writes its log record").

Every entry — a lifecycle move, a note, an alert that fired or resolved, a
post-mortem or regression-test change — is appended by ``timeline_append``,
in the transaction of the change it records. An entry that carries an
``announcement`` (a headline: "declared", "resolved", "post-mortem
published", ...) is announced after commit by the side-effect worker
(``incidents.effects``), once, and recovered by its sweep if the task is lost.
An entry that changes what an incident's Slack card shows (status, severity,
roles, title) queues the card's edit the same way (``incidents.cards``).
"""

from notifications.base import slack_enabled

from .models import TimelineEvent

# Entries whose change shows on the incident's Slack card.
CARD_KINDS = frozenset(
    {
        TimelineEvent.Kind.STATUS_CHANGE,
        TimelineEvent.Kind.SEVERITY_CHANGE,
        TimelineEvent.Kind.ROLE_CHANGE,
        TimelineEvent.Kind.EDIT,
    }
)


def timeline_append(*entries: TimelineEvent) -> list[TimelineEvent]:
    """Append ``entries`` (unsaved ``TimelineEvent``s, ``at`` defaulting to now) in one INSERT; returns them saved.

    Entries with an ``announcement`` are queued for the side-effect worker
    after commit, and so is the edit of the Slack cards of an incident whose
    card shows the change (``CARD_KINDS``). Sends no signals.
    """
    if not entries:
        return []
    TimelineEvent.objects.bulk_create(entries)
    from .effects import ANNOUNCE, CARDS, queue_after_commit

    announced = [entry.pk for entry in entries if entry.announcement]
    if announced:
        queue_after_commit(ANNOUNCE, announced)
    if slack_enabled():
        shown = sorted({entry.incident_id for entry in entries if entry.kind in CARD_KINDS})
        if shown:
            queue_after_commit(CARDS, shown)
    return list(entries)


def timeline_entry(
    incident_id: int,
    kind: str,
    message: str,
    *,
    actor=None,
    source: str,
    at=None,
    data: dict | None = None,
    announce: str = "",
) -> TimelineEvent:
    """An unsaved entry for ``timeline_append``; ``at`` None means now, ``announce`` a headline or "" for none."""
    entry = TimelineEvent(
        incident_id=incident_id,
        kind=kind,
        actor=actor,
        source=source,
        message=message,
        data=data or {},
        announcement=announce,
    )
    if at is not None:
        entry.at = at
    return entry
