"""The one writer of incident timeline entries (issue 14 item 2; OnCall's "the transition writes its log record").

Every entry — a lifecycle move, a note, an alert that fired or resolved, a
post-mortem or regression-test change — is appended by ``timeline_append``,
in the transaction of the change it records. An entry that carries an
``announcement`` (a headline: "declared", "resolved", "post-mortem
published", ...) is announced after commit by the side-effect worker
(``incidents.effects``), once, and recovered by its sweep if the task is lost.
"""

from .models import TimelineEvent


def timeline_append(*entries: TimelineEvent) -> list[TimelineEvent]:
    """Append ``entries`` (unsaved ``TimelineEvent``s, ``at`` defaulting to now) in one INSERT; returns them saved.

    Entries with an ``announcement`` are queued for the side-effect worker
    after commit. Sends no signals.
    """
    if not entries:
        return []
    TimelineEvent.objects.bulk_create(entries)
    announced = [entry.pk for entry in entries if entry.announcement]
    if announced:
        from .effects import ANNOUNCE, queue_after_commit

        queue_after_commit(ANNOUNCE, announced)
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

