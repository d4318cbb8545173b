"""Post-mortems themselves, as every front door (web, admin, API, side-effect worker) writes them: the draft a
resolve creates, what blocks completion, the review transitions, snoozes and edits.

Their action items are ``postmortems.action_items``', their regression tests
``postmortems.regression_tests``'; what every write shares (the write check,
the timeline entry) is ``postmortems.writes``. Every write takes the acting
person (``actor``; None for sredesk itself) and refuses one who may not write
to the post-mortem with ``sredesk.exceptions.PermissionDenied``, before
anything is written (``ownership.permissions.require_write``).
"""

import datetime as dt
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import can_proceed

from incidents.models import Incident, Source, TimelineEvent
from ownership.models import User
from ownership.permissions import require_write
from slos.policy import postmortem_due_in
from sredesk.exceptions import StateConflict
from sredesk.templatetags.sredesk_ui import when_text
from sredesk.versions import BasedOn, merge_edit, value_key

from .markdown import markdown_literal
from .models import ActionItem, PostMortem, RegressionTest, RegressionTestWaiver
from .reminders.settle import reminders_settle
from .writes import postmortem_timeline_append


def timeline_markdown(incident: Incident) -> str:
    """The incident's timeline as Markdown lines, read as the incident page shows it, in UTC.

    "- 2024-05-01 06:25 UTC · Role change · Noah Williams via Web UI — Incident commander: Noah Williams": the
    time to the minute (``when_text``), the entry's ``byline``, then its message. Messages and names are
    copied literally (``markdown_literal``): a note's HTML, template tags or link syntax read as the text they
    are, nothing is evaluated (BR-42).
    """
    lines = []
    with timezone.override(dt.UTC):
        for event in incident.timeline.select_related("actor"):
            lines.append(
                f"- {when_text(event.at)} · {markdown_literal(event.byline)} — {markdown_literal(event.message)}"
            )
    return "\n".join(lines)


@transaction.atomic
def postmortem_create_for_incident(*, incident: Incident) -> tuple[PostMortem | None, bool]:
    """Create the post-mortem draft of a resolved incident whose severity needs one. Returns (post-mortem, created).

    The draft step of a resolve, run after commit by the side-effect worker
    (``incidents.effects``), which retries it until it succeeds. Exactly once
    per incident (the one-to-one key): a retried step or a repeated resolve
    finds the existing draft. Owner: the incident commander, else the owning
    team's lead (None when neither exists). Due ``SREDESK_POSTMORTEM_DUE_DAYS[severity]``
    days after ``resolved_at``, or that times the policy's ``due_factor`` while the primary service is under
    its team's error-budget policy (``slos.policy.postmortem_due_in``; the timeline says so). The incident's
    timeline is copied in as literal Markdown (``timeline_markdown``). Returns (None, False) for a
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
            postmortem_timeline_append(incident.pk, why, actor=None, source=Source.SYSTEM, data={"postmortem": "none"})
        return None, False
    existing = PostMortem.objects.filter(incident_id=incident.pk).first()
    if existing:
        return existing, False
    team = incident.owning_team
    owner = incident.commander or (team.lead if team else None)
    usual = timedelta(days=settings.SREDESK_POSTMORTEM_DUE_DAYS[incident.severity])
    due_in, policy = postmortem_due_in(incident.primary_service, usual)
    due_at = (incident.resolved_at or incident.detected_at) + due_in
    try:
        with transaction.atomic():
            postmortem = PostMortem.objects.create(
                incident=incident, owner=owner, due_at=due_at, timeline=timeline_markdown(incident)
            )
    except IntegrityError:  # a concurrent resolve created it first
        return PostMortem.objects.get(incident=incident), False
    sooner = f" ({policy.due_percent} of the usual time: error-budget policy, {policy.reason})" if policy else ""
    postmortem_timeline_append(
        incident.pk,
        f"Post-mortem draft created for {owner or 'nobody'}, due {due_at:%Y-%m-%d}{sooner}",
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
    service whose CI does not report to sredesk), unless the team lead
    approved that it is not testable (``postmortems.waivers``).
    """
    blockers = []
    open_items = postmortem.action_items.exclude(status__in=[ActionItem.Status.DONE, ActionItem.Status.WONT_DO])
    if open_items.exists():
        titles = ", ".join(f"“{t}”" for t in open_items.values_list("title", flat=True)[:5])
        count = open_items.count()
        blockers.append(f"{count} action item{'' if count == 1 else 's'} still open: {titles}.")
    if regression_test_owed(postmortem):
        if postmortem.regression_test_requirement == RegressionTest.State.VERIFIED:
            blockers.append(_not_seen_passing(postmortem))
        else:
            blockers.append("No regression test is linked.")
    return blockers


REGRESSION_TEST_OWED = {
    "none_linked": "no regression test linked",
    "not_seen_passing": "linked test not yet seen passing in CI",
    "regressed": "linked test failing or missing in CI",
}


def regression_test_owed(postmortem: PostMortem) -> str:
    """What ``postmortem`` still owes for its regression test, as a key of ``REGRESSION_TEST_OWED`` (the words
    people read), or "" when it owes none: it has an accepted test (``verified``, or ``linked`` where the
    service's CI does not report to sredesk: ``PostMortem.regression_test_requirement``, the rule of
    ``postmortems.querysets.accepted_test_q`` for one row) or an approved "not testable" waiver.

    ``regressed``: a linked test failed or went missing in CI; ``not_seen_passing``: a test is linked but CI has
    not seen it pass yet; ``none_linked``: no test at all. Whatever the post-mortem's status (the completion
    blockers ask it of a published one). Two or three queries."""
    states = set(postmortem.regression_tests.values_list("state", flat=True))
    accepted = {RegressionTest.State.VERIFIED}
    if postmortem.regression_test_requirement == RegressionTest.State.LINKED:
        accepted.add(RegressionTest.State.LINKED)
    if states & accepted or postmortem.waivers.filter(status=RegressionTestWaiver.Status.APPROVED).exists():
        return ""
    if states & {RegressionTest.State.FAILING, RegressionTest.State.MISSING}:
        return "regressed"
    return "not_seen_passing" if states else "none_linked"


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


def postmortem_transition_refusal(postmortem: PostMortem, verb: str) -> InvalidPostMortemTransition | None:
    """Why ``postmortem_transition`` would refuse ``verb`` (one of POSTMORTEM_VERBS) on ``postmortem`` now, as the
    error it raises, or None when the move would be made. ``code`` is ``invalid_transition`` when the status
    does not allow the move (a page does not offer it), ``incomplete`` when completing is refused for
    ``postmortem_completion_blockers`` (the message lists every blocker; a page shows why it is not offered).
    Costs a few queries for ``complete`` from published."""
    if not can_proceed(getattr(postmortem, verb)):
        return InvalidPostMortemTransition(
            f"Cannot {verb.replace('_', ' ')} the post-mortem of {postmortem.incident.public_id}: "
            f"it is {postmortem.get_status_display().lower()}.",
            code="invalid_transition",
        )
    if verb == "complete":
        blockers = postmortem_completion_blockers(postmortem)
        if blockers:
            return InvalidPostMortemTransition(" ".join(blockers), code="incomplete")
    return None


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
    refusal = postmortem_transition_refusal(postmortem, verb)
    if refusal is not None:
        raise refusal
    before = postmortem.get_status_display()
    getattr(postmortem, verb)(at=timezone.now())
    postmortem.save()
    postmortem_timeline_append(
        postmortem.incident_id,
        f"Post-mortem {before.lower()} → {postmortem.get_status_display().lower()}",
        actor=actor,
        source=source,
        data={"postmortem_id": postmortem.pk, "from": before, "to": postmortem.status},
        announce="post-mortem published" if verb == "publish" else "",
    )
    return postmortem


def postmortem_snooze_latest(postmortem: PostMortem) -> datetime:
    """The latest time a snooze of ``postmortem``'s reminders may end (aware UTC):
    ``SREDESK_REMINDER_SNOOZE_MAX_DAYS_PAST_DUE`` days after its due date. Every door offers and checks this."""
    return postmortem.due_at + timedelta(days=settings.SREDESK_REMINDER_SNOOZE_MAX_DAYS_PAST_DUE)


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
        latest = postmortem_snooze_latest(postmortem)
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
        reminders_settle(
            postmortem_id=postmortem.pk,
            settled_by="snoozed",
            who=actor,
            how=f"reminders snoozed until {until:%Y-%m-%d %H:%M} UTC ({postmortem.snooze_reason})",
        )
    postmortem.save(update_fields=["snoozed_until", "snooze_reason", "updated_at"])
    postmortem_timeline_append(
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
    postmortem_timeline_append(
        postmortem.incident_id,
        f"Post-mortem: {'; '.join(details)}",
        actor=actor,
        source=source,
        data={"postmortem_id": postmortem.pk, "changed": changed},
    )
    return postmortem
