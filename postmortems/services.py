"""Writes to post-mortems that every front door (web, admin, API, CI) shares.

Every write takes the acting person (``actor``; None for sredesk itself, e.g.
a CI upload, which ``ownership.permissions.ci_may_link`` governs) and refuses
one who may not write to the post-mortem with ``sredesk.exceptions.PermissionDenied``,
before anything is written (``ownership.permissions.require_write``).
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import can_proceed

from incidents.models import Incident, Source, TimelineEvent
from incidents.timeline import timeline_append, timeline_entry
from ownership.models import Repository, User
from ownership.permissions import require_write
from sredesk.exceptions import StateConflict
from sredesk.versions import BasedOn, merge_edit, value_key

from .markdown import markdown_literal
from .models import ActionItem, PostMortem, RegressionTest
from .querysets import due_date_today
from .testids import canonical_test_id, test_key


def _append_postmortem_entry(
    incident_id: int, message: str, *, actor: User | None, source: str, data: dict, announce: str = ""
) -> TimelineEvent:
    """Append a post-mortem entry to the incident's timeline (``incidents.timeline``: who, from where, what changed);
    ``announce`` a headline the side-effect worker announces after commit, or ""."""
    [entry] = timeline_append(
        timeline_entry(
            incident_id,
            TimelineEvent.Kind.POSTMORTEM,
            message,
            actor=actor,
            source=source,
            data=data,
            announce=announce,
        )
    )
    return entry


def _require_postmortem_write(actor: User | None, postmortem: PostMortem) -> None:
    """``require_write`` on the post-mortem as stored now (a caller's instance may predate a new owner)."""
    if actor is not None:
        require_write(actor, PostMortem.objects.select_related("incident").get(pk=postmortem.pk))


@transaction.atomic
def regression_test_link(
    *,
    postmortem: PostMortem,
    repository: Repository,
    test_id: str,
    change_url: str = "",
    action_item: ActionItem | None = None,
    actor: User | None,
    source: str = Source.WEB,
    refresh: bool = True,
) -> tuple[RegressionTest, bool]:
    """Link a regression test to a post-mortem. Returns (test, created).

    ``test_id`` is normalised to its canonical ``::`` form first. Linking the
    same test twice (a double click, a retried request) returns the existing
    link and writes nothing. Writes a timeline entry on the incident when it
    creates the link, and takes its state from CI runs already uploaded
    (``postmortems.ci``), so a test CI has already seen passing is
    ``verified`` at once (``refresh=False`` leaves that to a caller that
    refreshes the repository's tests next, as a CI upload does).
    Raises ValidationError keyed by field for a malformed id or an action
    item from another post-mortem.
    """
    try:
        canonical = canonical_test_id(test_id)
    except ValueError as exc:
        raise ValidationError({"test_id": str(exc)}) from exc
    _require_postmortem_write(actor, postmortem)
    if action_item is not None and action_item.postmortem_id != postmortem.pk:
        raise ValidationError({"action_item": "This action item belongs to another post-mortem."})
    key = {"postmortem": postmortem, "repository": repository, "test_key": test_key(canonical)}
    existing = RegressionTest.objects.filter(**key).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            test = RegressionTest.objects.create(
                **key, test_id=canonical, change_url=change_url, action_item=action_item, linked_by=actor
            )
    except IntegrityError:  # a concurrent request linked the same test first
        return RegressionTest.objects.get(**key), False
    _append_postmortem_entry(
        postmortem.incident_id,
        f"Regression test linked: {repository.name} {canonical}",
        actor=actor,
        source=source,
        data={"regression_test_id": test.pk},
    )
    if refresh:
        from .ci import regression_test_refresh  # ci builds on this module

        regression_test_refresh(test)  # runs uploaded before the link count too
        test.refresh_from_db()
    return test, True


def timeline_markdown(incident: Incident) -> str:
    """The incident's timeline as Markdown lines, each with its full UTC date and time.

    Messages and names are copied literally (``markdown_literal``): a note's
    HTML, template tags or link syntax read as the text they are, nothing is evaluated (BR-42).
    """
    lines = []
    for event in incident.timeline.select_related("actor"):
        who = f" ({markdown_literal(str(event.actor))})" if event.actor else ""
        lines.append(f"- {event.at:%Y-%m-%d %H:%M:%S} UTC — {markdown_literal(event.message)}{who}")
    return "\n".join(lines)


@transaction.atomic
def postmortem_create_for_incident(*, incident: Incident) -> tuple[PostMortem | None, bool]:
    """Create the post-mortem draft of a resolved incident whose severity needs one. Returns (post-mortem, created).

    The draft step of a resolve, run after commit by the side-effect worker
    (``incidents.effects``), which retries it until it succeeds. Exactly once
    per incident (the one-to-one key): a retried step or a repeated resolve
    finds the existing draft. Owner: the incident commander, else the owning
    team's lead (None when neither exists). Due ``SREDESK_POSTMORTEM_DUE_DAYS[severity]``
    days after ``resolved_at``. The incident's timeline is copied in as
    literal Markdown (``timeline_markdown``). Returns (None, False) for a
    severity that needs no post-mortem, and for an alert-made incident its
    integration finds too short or unacknowledged
    (``postmortems.decline.draft_needed``, said once on the timeline).
    """
    if incident.severity not in settings.SREDESK_POSTMORTEM_SEVERITIES:
        return None, False
    from .decline import draft_needed  # builds on this module

    needed, why = draft_needed(incident)
    if not needed:
        if not TimelineEvent.objects.filter(incident_id=incident.pk, message=why).exists():  # a retried step
            _append_postmortem_entry(incident.pk, why, actor=None, source=Source.SYSTEM, data={"postmortem": "none"})
        return None, False
    existing = PostMortem.objects.filter(incident_id=incident.pk).first()
    if existing:
        return existing, False
    team = incident.owning_team
    owner = incident.commander or (team.lead if team else None)
    due_at = (incident.resolved_at or incident.detected_at) + timedelta(
        days=settings.SREDESK_POSTMORTEM_DUE_DAYS[incident.severity]
    )
    try:
        with transaction.atomic():
            postmortem = PostMortem.objects.create(
                incident=incident, owner=owner, due_at=due_at, timeline=timeline_markdown(incident)
            )
    except IntegrityError:  # a concurrent resolve created it first
        return PostMortem.objects.get(incident=incident), False
    _append_postmortem_entry(
        incident.pk,
        f"Post-mortem draft created for {owner or 'nobody'}, due {due_at:%Y-%m-%d}",
        actor=None,
        source=Source.SYSTEM,
        data={"postmortem_id": postmortem.pk},
    )
    return postmortem, True


class InvalidPostMortemTransition(StateConflict):
    """The post-mortem's status does not allow this move, or its completion rules are not met."""


def postmortem_completion_blockers(postmortem: PostMortem) -> list[str]:
    """Why ``postmortem`` cannot be completed yet, as sentences ([] when it can).

    Every action item must be done or won't-do (with a reason, which the
    database enforces), and at least one regression test must be in the
    state the post-mortem requires (``verified``, or ``linked`` for a
    service whose CI does not report to sredesk).
    """
    blockers = []
    open_items = postmortem.action_items.exclude(status__in=[ActionItem.Status.DONE, ActionItem.Status.WONT_DO])
    if open_items.exists():
        titles = ", ".join(f"“{t}”" for t in open_items.values_list("title", flat=True)[:5])
        blockers.append(f"{open_items.count()} action item(s) still open: {titles}.")
    if postmortem.regression_test_requirement == RegressionTest.State.VERIFIED:
        if not postmortem.regression_tests.filter(state=RegressionTest.State.VERIFIED).exists():
            blockers.append(_not_seen_passing(postmortem))
    elif not postmortem.regression_tests.filter(
        state__in=[RegressionTest.State.LINKED, RegressionTest.State.VERIFIED]
    ).exists():
        blockers.append("No regression test is linked.")
    return blockers


def _not_seen_passing(postmortem: PostMortem) -> str:
    """The blocker when no linked test is verified, naming each linked test and what CI last said of it."""
    said = {
        RegressionTest.State.FAILING: "failed in CI",
        RegressionTest.State.MISSING: "is missing from CI: a complete run no longer contains it "
        "(renamed, deleted or no longer collected?)",
        RegressionTest.State.LINKED: "has not been in a CI run of its repository's counted branches yet",
    }
    lines = [
        f"{test.repository} {test.test_id} {said.get(test.state, test.get_state_display())}"
        + (f" ({test.state_run})" if test.state_run_id and test.state != RegressionTest.State.LINKED else "")
        for test in postmortem.regression_tests.select_related("repository", "state_run__repository")
    ]
    text = "No regression test has been seen passing in CI yet."
    return f"{text} {'; '.join(lines)}." if lines else f"{text} Link one."


POSTMORTEM_VERBS = {
    "submit_for_review": PostMortem.Status.IN_REVIEW,
    "request_changes": PostMortem.Status.DRAFT,
    "publish": PostMortem.Status.PUBLISHED,
    "complete": PostMortem.Status.COMPLETE,
}


@transaction.atomic
def postmortem_transition(*, postmortem_id: int, verb: str, actor: User | None, source: str) -> PostMortem:
    """Move a post-mortem through draft -> in_review -> published -> complete.

    ``verb`` is one of POSTMORTEM_VERBS. No-op when already in the target
    status. Raises InvalidPostMortemTransition when the move is not allowed
    or, for ``complete``, when ``postmortem_completion_blockers`` is not empty
    (the message lists every blocker). Logs on the incident's timeline;
    publishing announces the post-mortem to the owning team after commit.
    """
    target = POSTMORTEM_VERBS.get(verb)
    if target is None:
        raise ValidationError({"verb": f"Unknown post-mortem action {verb!r}."})
    postmortem = (
        PostMortem.objects.select_for_update(of=("self",))
        .select_related("incident__primary_service")
        .get(pk=postmortem_id)
    )
    require_write(actor, postmortem)
    if postmortem.status == target:
        return postmortem
    method = getattr(postmortem, verb)
    if not can_proceed(method):
        raise InvalidPostMortemTransition(
            f"Cannot {verb.replace('_', ' ')} the post-mortem of {postmortem.incident.public_id}: "
            f"it is {postmortem.get_status_display().lower()}.",
            code="invalid_transition",
        )
    if verb == "complete":
        blockers = postmortem_completion_blockers(postmortem)
        if blockers:
            raise InvalidPostMortemTransition(" ".join(blockers), code="incomplete")
    before = postmortem.get_status_display()
    method(at=timezone.now())
    postmortem.save()
    _append_postmortem_entry(
        postmortem.incident_id,
        f"Post-mortem {before.lower()} → {postmortem.get_status_display().lower()}",
        actor=actor,
        source=source,
        data={"postmortem_id": postmortem.pk, "from": before, "to": postmortem.status},
        announce="post-mortem published" if verb == "publish" else "",
    )
    return postmortem


@transaction.atomic
def postmortem_snooze(
    *, postmortem_id: int, until: datetime | None, reason: str, actor: User | None, source: str
) -> PostMortem:
    """Pause this post-mortem's reminders until ``until`` (aware), or lift the snooze with ``until=None``.

    A snooze needs a reason and may end at most
    ``SREDESK_REMINDER_SNOOZE_MAX_DAYS_PAST_DUE`` days after the due date; it is
    logged on the incident's timeline. Raises ValidationError naming the field.
    """
    postmortem = PostMortem.objects.select_for_update().get(pk=postmortem_id)
    require_write(actor, postmortem)
    if until is None:
        if postmortem.snoozed_until is None:
            return postmortem
        postmortem.snoozed_until, postmortem.snooze_reason = None, ""
        message = "Reminders resumed"
    else:
        if timezone.is_naive(until):
            raise ValidationError({"until": "Give a time zone (e.g. 2024-05-01T09:00:00Z)."})
        if until <= timezone.now():
            raise ValidationError({"until": "A snooze must end in the future."})
        latest = postmortem.due_at + timedelta(days=settings.SREDESK_REMINDER_SNOOZE_MAX_DAYS_PAST_DUE)
        if until > latest:
            raise ValidationError(
                {
                    "until": f"A snooze may last until {latest:%Y-%m-%d %H:%M} UTC at the latest "
                    f"({settings.SREDESK_REMINDER_SNOOZE_MAX_DAYS_PAST_DUE} days after the due date)."
                }
            )
        if not reason.strip():
            raise ValidationError({"reason": "Say why reminders may pause."})
        postmortem.snoozed_until, postmortem.snooze_reason = until, reason.strip()[:300]
        message = f"Reminders snoozed until {until:%Y-%m-%d %H:%M} UTC: {postmortem.snooze_reason}"
    postmortem.save(update_fields=["snoozed_until", "snooze_reason", "updated_at"])
    _append_postmortem_entry(
        postmortem.incident_id,
        message,
        actor=actor,
        source=source,
        data={"postmortem_id": postmortem.pk, "snoozed_until": until.isoformat() if until else None},
    )
    return postmortem


POSTMORTEM_SECTIONS = (
    "summary",
    "impact",
    "trigger",
    "root_cause",
    "detection",
    "resolution",
    "went_well",
    "went_wrong",
    "got_lucky",
    "timeline",
)
_UNSET = object()


@transaction.atomic
def postmortem_update(
    *,
    postmortem_id: int,
    actor: User | None,
    source: str,
    sections: dict[str, str] | None = None,
    owner: object = _UNSET,
    due_at: datetime | None = None,
    based_on: BasedOn | None = None,
) -> PostMortem:
    """Edit sections (Markdown), the owner (a User, or None: nobody) and/or the due date (aware); on the timeline.

    Fields left out stay as they are; no-op when nothing changes. ``based_on``:
    the version the editor read (``sredesk.versions.merge_edit``): an edit of an
    older version is merged with what was saved meanwhile, or raises
    ``EditConflict`` (a field both changed) or ``StaleVersion`` (API, version
    only); nothing is written then. Raises ValidationError naming the field
    for an unknown section or a naive due date.
    """
    sections = sections or {}
    unknown = set(sections) - set(POSTMORTEM_SECTIONS)
    if unknown:
        raise ValidationError({field: "Not a post-mortem section." for field in sorted(unknown)})
    if due_at is not None and timezone.is_naive(due_at):
        raise ValidationError({"due_at": "Give a time zone (e.g. 2024-05-01T09:00:00Z); naive times are refused."})
    postmortem = PostMortem.objects.select_for_update().get(pk=postmortem_id)
    require_write(actor, postmortem)
    changes: dict[str, object] = dict(sections)
    if owner is not _UNSET:
        changes["owner"] = owner
    if due_at is not None:
        changes["due_at"] = due_at
    changes = merge_edit(postmortem, changes, based_on)
    # A section counts as changed by its text, not its line ends (a browser posts \r\n) or outer blanks.
    changed = [field for field, value in changes.items() if value_key(getattr(postmortem, field)) != value_key(value)]
    if not changed:
        return postmortem
    for field in changed:
        setattr(postmortem, field, changes[field])
    postmortem.save(update_fields=[*changed, "updated_at"], expect_version=postmortem.version)
    details = []
    if "owner" in changed:
        details.append(f"owner {postmortem.owner or 'nobody'}")
    if "due_at" in changed:
        details.append(f"due {postmortem.due_at:%Y-%m-%d %H:%M} UTC")
    edited = [f for f in changed if f in POSTMORTEM_SECTIONS]
    if edited:
        details.append(f"edited {', '.join(edited)}")
    _append_postmortem_entry(
        postmortem.incident_id,
        f"Post-mortem: {'; '.join(details)}",
        actor=actor,
        source=source,
        data={"postmortem_id": postmortem.pk, "changed": changed},
    )
    return postmortem


ACTION_ITEM_FIELDS = (
    "title",
    "description",
    "kind",
    "priority",
    "owner",
    "due_date",
    "status",
    "wont_do_reason",
    "tracker_url",
)


def action_item_due_date_check(due_date: date | None, *, confirm_past_due: bool, now: datetime) -> None:
    """Refuse a due date before today (a UTC date, ``postmortems.querysets``) unless the caller confirms it.

    An item due in the past is overdue the moment it is saved, so its
    reminders and the team's digest start at once: a typo (2020 for 2026)
    must not do that silently. ``confirm_past_due`` is the person saying it
    really is already late. Raises ValidationError naming ``due_date``.
    """
    today = due_date_today(now)
    if due_date is not None and due_date < today and not confirm_past_due:
        raise ValidationError(
            {
                "due_date": f"{due_date:%Y-%m-%d} is in the past (today is {today:%Y-%m-%d} UTC), so the item would "
                "be overdue at once. Choose a later date, or confirm that it is already overdue."
            }
        )


def _action_item_save(item: ActionItem, *, actor: User | None, source: str, verb: str, fields: list[str]) -> None:
    if item.status == ActionItem.Status.WONT_DO and not item.wont_do_reason.strip():
        raise ValidationError({"wont_do_reason": "Say why this action item won't be done."})
    item.full_clean(exclude=["postmortem", "owner"])
    item.save(expect_version=item.version if item.pk else None)
    _append_postmortem_entry(
        item.postmortem.incident_id,
        f"Action item {verb}: {item.title} ({item.get_status_display().lower()})",
        actor=actor,
        source=source,
        data={"action_item_id": item.pk, "changed": fields},
    )


@transaction.atomic
def action_item_create(
    *, postmortem: PostMortem, actor: User | None, source: str, confirm_past_due: bool = False, **fields
) -> ActionItem:
    """Add an action item to ``postmortem``; logged on the incident's timeline.

    ``fields`` are among ACTION_ITEM_FIELDS. Without an ``owner`` the item is
    owned by the post-mortem's owner. Raises ValidationError naming the field
    (a ``wont_do`` item needs a reason; a due date in the past needs
    ``confirm_past_due``: ``action_item_due_date_check``).
    """
    unknown = set(fields) - set(ACTION_ITEM_FIELDS)
    if unknown:
        raise ValidationError({field: "Not an action item field." for field in sorted(unknown)})
    _require_postmortem_write(actor, postmortem)
    item = ActionItem(postmortem=postmortem, **fields)
    action_item_due_date_check(item.due_date, confirm_past_due=confirm_past_due, now=timezone.now())
    item.owner = item.owner or postmortem.owner
    _action_item_save(item, actor=actor, source=source, verb="added", fields=sorted(fields))
    return item


@transaction.atomic
def action_item_update(
    *,
    action_item_id: int,
    actor: User | None,
    source: str,
    based_on: BasedOn | None = None,
    confirm_past_due: bool = False,
    **changes,
) -> ActionItem:
    """Change some fields of an action item; no-op when nothing changes. Raises ValidationError naming the field.

    ``based_on``: the version the editor read; an edit of an older version is merged or refused as
    ``postmortem_update`` says (``sredesk.versions.merge_edit``).
    Clearing the owner gives the item back to the post-mortem's owner; a due
    date moved into the past needs ``confirm_past_due`` (an unchanged past
    due date does not: editing a late item's title is fine).
    """
    unknown = set(changes) - set(ACTION_ITEM_FIELDS)
    if unknown:
        raise ValidationError({field: "Not an action item field." for field in sorted(unknown)})
    item = ActionItem.objects.select_for_update().select_related("postmortem").get(pk=action_item_id)
    require_write(actor, item)
    changes = merge_edit(item, changes, based_on)
    changed = [field for field, value in changes.items() if getattr(item, field) != value]
    if not changed:
        return item
    if "owner" in changed and changes["owner"] is None:  # no owner: the post-mortem's
        changes["owner"] = item.postmortem.owner
        changed = [field for field in changed if getattr(item, field) != changes[field]]
        if not changed:
            return item
    if "due_date" in changed:
        action_item_due_date_check(changes["due_date"], confirm_past_due=confirm_past_due, now=timezone.now())
    for field in changed:
        setattr(item, field, changes[field])
    _action_item_save(item, actor=actor, source=source, verb="updated", fields=changed)
    return item


@transaction.atomic
def action_item_delete(*, action_item_id: int, actor: User | None, source: str) -> None:
    """Delete an action item (its regression tests stay, unattached); logged on the incident's timeline."""
    item = ActionItem.objects.select_for_update().select_related("postmortem").get(pk=action_item_id)
    require_write(actor, item)
    _append_postmortem_entry(
        item.postmortem.incident_id,
        f"Action item deleted: {item.title}",
        actor=actor,
        source=source,
        data={"action_item_id": item.pk},
    )
    item.delete()


@transaction.atomic
def regression_test_unlink(*, regression_test_id: int, actor: User | None, source: str) -> None:
    """Remove a regression-test link; logged on the incident's timeline.

    The post-mortem owes a test again unless another accepted one is linked,
    so its reminders resume at the next sweep.
    """
    test = (
        RegressionTest.objects.select_for_update().select_related("postmortem", "repository").get(pk=regression_test_id)
    )
    require_write(actor, test)
    _append_postmortem_entry(
        test.postmortem.incident_id,
        f"Regression test unlinked: {test.repository.name} {test.test_id}",
        actor=actor,
        source=source,
        data={"regression_test_id": test.pk},
    )
    test.delete()


@transaction.atomic
def regression_test_verify_by_hand(
    *, regression_test_id: int, reason: str, actor: User | None, source: str = Source.ADMIN
) -> tuple[RegressionTest, bool]:
    """Mark a regression test ``verified`` without a CI run, with a reason. Returns (test, changed).

    For a test whose CI cannot report to sredesk, or a run that was lost. The
    reason and the person are logged on the incident's timeline. No-op (no
    timeline entry) when the test is already verified. A later counting CI
    run still decides: a failure there makes it ``failing`` again
    (``postmortems.ci.regression_test_refresh``). Raises ValidationError
    (``reason``) for an empty reason.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "Say why this test counts as verified without a CI run."})
    test = (
        RegressionTest.objects.select_for_update()
        .select_related("repository", "postmortem__incident")
        .get(pk=regression_test_id)
    )
    require_write(actor, test)
    if test.state == RegressionTest.State.VERIFIED:
        return test, False
    before = test.get_state_display().lower()
    test.state, test.state_run, test.state_changed_at = RegressionTest.State.VERIFIED, None, timezone.now()
    test.save(update_fields=["state", "state_run", "state_changed_at"])
    _append_postmortem_entry(
        test.postmortem.incident_id,
        f"Regression test {test.test_id}: {before} → verified by hand by {actor or 'nobody'}: {reason}",
        actor=actor,
        source=source,
        data={"regression_test_id": test.pk, "state": test.state, "by_hand": True, "reason": reason},
    )
    return test, True


@transaction.atomic
def action_item_set_status(
    *, action_item_id: int, status: str, reason: str = "", actor: User | None, source: str = Source.WEB
) -> ActionItem:
    """Move an action item to ``status``; ``wont_do`` needs a reason. No-op when nothing changes.

    The change is logged on the incident's timeline. Raises ValidationError
    naming the field (``status`` for an unknown one, ``wont_do_reason`` for a
    won't-do without a reason).
    """
    if status not in ActionItem.Status.values:
        raise ValidationError({"status": f"Status must be one of {', '.join(ActionItem.Status.values)}."})
    reason = reason.strip()
    if status == ActionItem.Status.WONT_DO and not reason:
        raise ValidationError({"wont_do_reason": "Say why this action item will not be done."})
    item = ActionItem.objects.select_for_update().select_related("postmortem").get(pk=action_item_id)
    require_write(actor, item)
    new_reason = reason if status == ActionItem.Status.WONT_DO else ""
    if item.status == status and item.wont_do_reason == new_reason:
        return item
    before = item.get_status_display()
    item.status, item.wont_do_reason = status, new_reason
    item.save(update_fields=["status", "wont_do_reason", "updated_at"])
    why = f": {reason}" if new_reason else ""
    _append_postmortem_entry(
        item.postmortem.incident_id,
        f"Action item “{item.title}”: {before.lower()} → {item.get_status_display().lower()}{why}",
        actor=actor,
        source=source,
        data={"action_item_id": item.pk, "from": before, "to": status},
    )
    return item
