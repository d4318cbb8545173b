"""Incident channels in Slack: created once per incident, people invited one by one, topic, bookmarks, archiving.

``incident_channel_sync`` is the one set-up step, run by the side-effect worker
(``incidents.effects``, kind ``incident_channel``) after a declare, a new
commander or responder, or a new post-mortem; the effect's sweep retries it
with back-off while Slack is down or rate-limits, so a declaration never waits
for Slack nor fails because of it (FIELD-CASES BR-33). Every step is safe to
repeat: the channel row is claimed (inserted and locked) before
``conversations.create``, and each invite and bookmark is recorded on it.

A Slack error a person must fix (``slack_api.NEEDS_PERSON``) becomes a
problem shown on the team, person or workspace (``notifications.problems``).
A channel error (``channel_not_found``, ``not_in_channel``, ``is_archived``)
stops that channel's set-up with the problem on its row until an operator
retries it; a token error (``invalid_auth``, ``account_inactive``...) is one fix
for every channel, so those stay owed and are retried with back-off (an hour
apart at most) meanwhile. A bad member id is only that person's problem: the
others are still invited.

Slack may create the channel and the reply be lost (a timeout): no Slack call
takes an idempotency key, so the retry meets ``name_taken``. It then looks the
name up and adopts the channel when it is provably the one it made (our bot
created it after the row was claimed: ``slackchannels.adopt``); otherwise, or
beyond the lookup's bound in a very large workspace, it creates ``<name>-2``
and the first channel stays, unrecorded.
"""

import logging
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from incidents.effects import incident_url, paged_person
from incidents.models import Incident, SideEffect, Source, TimelineEvent
from incidents.timeline import timeline_append, timeline_entry
from notifications.base import slack_enabled
from notifications.problems import slack_problem_record
from notifications.slack_api import USER_ERRORS, WORKSPACE_ERRORS, SlackCallError, plain_words, slack_call
from ownership.models import SLACK_MEMBER_ID

from .adopt import lost_channel
from .models import IncidentChannel
from .names import channel_name

logger = logging.getLogger(__name__)

# How many names to try (inc-42-title, inc-42-title-2, ...) before giving up and saying so.
NAME_ATTEMPTS = 10
TOPIC_LIMIT = 250  # Slack's topic length


def channel_wanted(incident: Incident) -> bool:
    """Whether ``incident`` should have a Slack channel: Slack is on and its owning team asked for incident channels."""
    team = incident.owning_team
    return bool(slack_enabled() and team is not None and team.slack_incident_channels)


def channel_owed(incident: Incident) -> bool:
    """Whether a change of ``incident`` owes its channel a set-up step: it wants one, or has one (Slack on)."""
    if not slack_enabled():
        return False
    return channel_wanted(incident) or IncidentChannel.objects.filter(incident_id=incident.pk).exists()


def incident_for_channel(channel_id: str) -> Incident | None:
    """The incident whose Slack channel is ``channel_id`` (a ``C…`` id from a Slack request), or None.

    What "inside an incident's channel the incident is implied" reads: the
    slash command and the Events API handlers call it with Slack's channel id.
    """
    if not channel_id:
        return None
    return Incident.objects.filter(slack_channel__channel_id=channel_id).first()


def incident_channel_sync(incident_id: int) -> IncidentChannel | None:
    """Create ``incident_id``'s channel if it has none, then invite, set the topic and bookmarks; returns its row.

    None when the incident wants no channel and has none. Raises SlackCallError
    for an error a retry may fix (Slack down, rate limited): what was done
    stays recorded, the rest is done by the next attempt. Returns with
    ``problem`` set, and the problem recorded on the team, person or workspace,
    for an error that needs a person.
    """
    incident = Incident.objects.select_related("owning_team", "commander").get(pk=incident_id)
    if not slack_enabled():
        return None
    if not channel_wanted(incident) and not IncidentChannel.objects.filter(incident_id=incident_id).exists():
        return None
    try:
        row = _claim_and_create(incident)
        if row.problem:
            return row
        _unarchive_if_reopened(row, incident)
        _invite_everyone(row, incident)
        _set_topic(row, incident)
        _add_bookmarks(row, incident)
    except SlackCallError as exc:
        if exc.error in WORKSPACE_ERRORS:  # the token: one fix for every channel, so retried (with back-off) meanwhile
            slack_problem_record(exc.error, method=exc.method)
            raise
        if not exc.needs_person:
            raise
        return _stop(incident, exc)
    IncidentChannel.objects.filter(pk=row.pk).update(set_up_at=timezone.now())
    return row


def _claim_and_create(incident: Incident) -> IncidentChannel:
    """The incident's channel row, created in Slack first if it has no channel id yet.

    The row is inserted (or found) and locked before Slack is called, and the
    id stored in that transaction: a second worker waits on the lock, then
    finds the id. A name taken by anything not recorded as this incident's
    channel (an archived channel of a deleted test, another tool's) is never
    reused: the next candidate (``-2``, ``-3``...) is tried, unless an earlier
    attempt's reply was lost and the name is provably that attempt's channel
    (``adopt.lost_channel``; looked up only when the row was claimed before).
    """
    failure = None
    with transaction.atomic():
        _, first_claim = IncidentChannel.objects.get_or_create(incident=incident)
        row = IncidentChannel.objects.select_for_update().get(incident=incident)
        if row.channel_id or row.problem:
            return row
        for attempt in range(1, NAME_ATTEMPTS + 1):
            name = channel_name(incident.pk, incident.title, attempt)
            try:
                channel, how = _create_or_find(name, row, tried_before=not first_claim)
            except SlackCallError as exc:
                failure = exc  # raised once the claim (and the failure's record) is committed
                break
            if channel is None:
                continue
            row.channel_id, row.name = str(channel["id"]), str(channel.get("name") or name)
            row.save(update_fields=["channel_id", "name"])
            _note(incident, f"Slack channel #{row.name} {how}", channel=row.channel_id)
            return row
        else:
            first = channel_name(incident.pk, incident.title)
            row.problem = f"Every name from {first} to {first}-{NAME_ATTEMPTS} is taken in Slack."
            row.save(update_fields=["problem"])
            return row
    raise failure


def _create_or_find(name: str, row: IncidentChannel, *, tried_before: bool) -> tuple[dict | None, str]:
    """(Slack's channel, how we got it) for the candidate ``name``: created now, or, when ``name`` is taken and an
    earlier set-up of ``row`` may have created it unheard (``tried_before``), found again if provably ours;
    (None, "") when the name is another channel's. Raises SlackCallError for any other failure."""
    try:
        return slack_call("conversations.create", target=name, name=name, is_private=False)["channel"], (
            "created for this incident"
        )
    except SlackCallError as exc:
        if exc.error != "name_taken":
            raise
    if not tried_before:
        return None, ""
    found = lost_channel(name, claimed_at=row.created_at, bot_ids=_bot_ids())
    return found, "found again for this incident (Slack created it, but its reply was lost)"


def _unarchive_if_reopened(row: IncidentChannel, incident: Incident) -> None:
    """A re-opened incident gets its own archived channel back (its stored id: never another's)."""
    if row.archived_at is None or incident.status == Incident.Status.RESOLVED:
        return
    try:
        slack_call("conversations.unarchive", target=row.name, channel=row.channel_id)
    except SlackCallError as exc:
        if exc.error != "not_archived":
            raise
    IncidentChannel.objects.filter(pk=row.pk).update(archived_at=None)
    row.archived_at = None


def _bot_ids() -> set[str]:
    """The bot's own user and bot ids (``auth.test``): never invited, as Slack answers ``cant_invite_self``."""
    reply = slack_call("auth.test")
    return {str(reply.get(key)) for key in ("user_id", "bot_id") if reply.get(key)}


def _invitees(incident: Incident) -> list:
    """The commander, the responders and the paged person, each once, in that order."""
    people = {}
    for person in [incident.commander, *incident.responders.all(), paged_person(incident)]:
        if person is not None:
            people.setdefault(person.pk, person)
    return list(people.values())


def _invite_everyone(row: IncidentChannel, incident: Incident) -> None:
    """Invite each person not yet recorded, one call each, so one bad id does not stop the others.

    ``already_in_channel`` counts as invited. A person with no Slack member id,
    the bot itself, or one Slack refuses (deactivated, unknown id, a guest) is
    skipped with a timeline note, once, and Slack's refusal becomes a problem
    on their profile. A token or channel error stops the set-up (raised).
    """
    bots: set[str] | None = None
    for person in _invitees(incident):
        key = person.slack_user_id or f"person:{person.pk}"
        if key in row.invites:
            continue
        if bots is None and person.slack_user_id:
            bots = _bot_ids()
        with transaction.atomic():
            locked = IncidentChannel.objects.select_for_update().get(pk=row.pk)
            if key in locked.invites:  # another worker got there first
                row.invites = locked.invites
                continue
            note = ""
            if not person.slack_user_id:
                outcome, note = "skipped: no Slack member id", f"{person} has no Slack member id on their profile"
            elif person.slack_user_id in (bots or set()) or not re.fullmatch(SLACK_MEMBER_ID, person.slack_user_id):
                outcome, note = "skipped: a bot", f"{person.slack_user_id} is a bot, not a person"
            else:
                try:
                    slack_call(
                        "conversations.invite", target=person.slack_user_id, channel=row.channel_id,
                        users=person.slack_user_id,
                    )  # fmt: skip
                    outcome = "invited"
                except SlackCallError as exc:
                    if exc.error == "already_in_channel":
                        outcome = "already_in_channel"
                    elif exc.error in USER_ERRORS:
                        outcome, note = f"skipped: {exc.error}", plain_words(exc.error, person.slack_user_id)
                        slack_problem_record(exc.error, method=exc.method, target=person.slack_user_id, person=person)
                    else:
                        raise
            locked.invites = {**locked.invites, key: outcome}
            locked.save(update_fields=["invites"])
            row.invites = locked.invites
            if note:
                _note(incident, f"Not invited to #{row.name}: {note}", channel=row.channel_id, person=person.pk)


def _postmortem(incident: Incident):
    from postmortems.models import PostMortem  # post-mortems build on incidents

    return PostMortem.objects.filter(incident_id=incident.pk).exclude(status=PostMortem.Status.DECLINED).first()


def _postmortem_url(postmortem) -> str:
    return settings.SREDESK_BASE_URL + reverse("postmortems:detail", args=[postmortem.pk])


def _set_topic(row: IncidentChannel, incident: Incident) -> None:
    """Topic: the incident page, and the post-mortem once it exists. Set only when it changes."""
    postmortem = _postmortem(incident)
    topic = f"{incident.public_id}: {incident_url(incident)}"
    if postmortem is not None:
        topic += f" · Post-mortem: {_postmortem_url(postmortem)}"
    topic = topic[:TOPIC_LIMIT]
    if topic == row.topic:
        return
    slack_call("conversations.setTopic", target=row.name, channel=row.channel_id, topic=topic)
    IncidentChannel.objects.filter(pk=row.pk).update(topic=topic)
    row.topic = topic


def _add_bookmarks(row: IncidentChannel, incident: Incident) -> None:
    """Bookmark the incident page and, once it exists, the post-mortem; each once (its Slack id is kept)."""
    wanted = [("incident", f"{incident.public_id} in sredesk", incident_url(incident))]
    postmortem = _postmortem(incident)
    if postmortem is not None:
        wanted.append(("postmortem", f"{incident.public_id} post-mortem", _postmortem_url(postmortem)))
    for key, title, link in wanted:
        if key in row.bookmarks:
            continue
        reply = slack_call(
            "bookmarks.add", target=row.name, channel_id=row.channel_id, title=title, type="link", link=link
        )
        row.bookmarks = {**row.bookmarks, key: str((reply.get("bookmark") or {}).get("id", ""))}
        IncidentChannel.objects.filter(pk=row.pk).update(bookmarks=row.bookmarks)


def _stop(incident: Incident, exc: SlackCallError) -> IncidentChannel:
    """Record an error a person must fix on the channel row and on the team (or workspace); set-up stops there."""
    row, _ = IncidentChannel.objects.get_or_create(incident=incident)
    target = f"#{row.name}" if row.name else exc.method
    words = plain_words(exc.error, target)
    IncidentChannel.objects.filter(pk=row.pk).update(problem=words)
    row.problem = words
    slack_problem_record(exc.error, method=exc.method, target=target, team=incident.owning_team)
    _note(incident, f"Slack channel set-up stopped: {words}", channel=row.channel_id)
    return row


def _note(incident: Incident, message: str, **data) -> None:
    timeline_append(
        timeline_entry(
            incident.pk, TimelineEvent.Kind.NOTE, message, actor=None, source=Source.SYSTEM, data={"slack": data}
        )
    )


def incident_channel_retry(incident_id: int) -> None:
    """Clear a channel's recorded problem (a person fixed it) and owe its set-up again (the admin's action)."""
    from incidents.effects import incident_channel_owe

    with transaction.atomic():
        IncidentChannel.objects.filter(incident_id=incident_id).update(problem="")
        incident_channel_owe(Incident.objects.select_related("owning_team").get(pk=incident_id))


# --- archiving --------------------------------------------------------------------------------------


def archive_due_at(incident: Incident) -> datetime | None:
    """When ``incident``'s channel is archived: its team's days after the post-mortem completes (or is declined);
    for a resolved incident that has no post-mortem and owes none, after it was resolved. None: not yet known."""
    from postmortems.models import PostMortem

    if incident.status != Incident.Status.RESOLVED or incident.owning_team is None:
        return None
    days = timedelta(days=incident.owning_team.slack_channel_archive_days)
    postmortem = PostMortem.objects.filter(incident_id=incident.pk).first()
    if postmortem is not None:
        done = {PostMortem.Status.COMPLETE: postmortem.completed_at, PostMortem.Status.DECLINED: postmortem.declined_at}
        return done[postmortem.status] + days if done.get(postmortem.status) else None
    if SideEffect.objects.filter(incident_id=incident.pk, kind=SideEffect.Kind.POSTMORTEM_DRAFT).exists():
        return None  # a draft is owed, or was made and is gone: wait for it
    return incident.resolved_at + days


def channels_archive_due(*, now: datetime | None = None) -> int:
    """Archive every incident channel whose time has come (``archive_due_at``), each once; returns how many.

    Each row is locked (skipping one another sweep holds) and stamped
    ``archived_at`` in the transaction that archives it; Slack's
    ``already_archived`` counts as done. A temporary Slack error leaves the
    row for the next sweep; one a person must fix is recorded as a problem.
    """
    now = now or timezone.now()
    candidates = IncidentChannel.objects.filter(archived_at__isnull=True, incident__status=Incident.Status.RESOLVED)
    archived = 0
    for row in candidates.exclude(channel_id="").select_related("incident__owning_team"):
        due = archive_due_at(row.incident)
        if due is None or due > now:
            continue
        with transaction.atomic():
            locked = (
                IncidentChannel.objects.select_for_update(skip_locked=True)
                .filter(pk=row.pk, archived_at__isnull=True)
                .first()
            )
            if locked is None:
                continue
            try:
                slack_call("conversations.archive", target=row.name, channel=row.channel_id)
            except SlackCallError as exc:
                if exc.needs_person and exc.error != "is_archived":
                    slack_problem_record(
                        exc.error, method=exc.method, target=f"#{row.name}", team=row.incident.owning_team
                    )
                if exc.error not in ("already_archived", "is_archived"):
                    logger.warning("Channel not archived", extra={"channel": row.channel_id, "error": exc.error})
                    continue
            IncidentChannel.objects.filter(pk=row.pk).update(archived_at=now)
            _note(row.incident, f"Slack channel #{row.name} archived", channel=row.channel_id)
            archived += 1
    return archived
