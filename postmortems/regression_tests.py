"""Regression tests linked to post-mortems: link, unlink, verify by hand. CI's verdicts are ``postmortems.ci_states``'.

Every write takes the acting person (``actor``; None for sredesk itself, e.g.
a CI upload, which ``ownership.permissions.ci_may_link`` governs) and refuses
one who may not write to the post-mortem with ``sredesk.exceptions.PermissionDenied``,
before anything is written (``ownership.permissions.require_write``).
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents.models import Source
from ownership.models import Repository, User
from ownership.permissions import require_write

from .ci_states import regression_test_refresh
from .models import ActionItem, PostMortem, RegressionTest
from .reminders.settle import reminders_settle
from .testids import canonical_test_id, test_key
from .writes import postmortem_timeline_append, require_postmortem_write


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
    require_postmortem_write(actor, postmortem)
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
    postmortem_timeline_append(
        postmortem.incident_id,
        f"Regression test linked: {repository.name} {canonical}",
        actor=actor,
        source=source,
        data={"regression_test_id": test.pk},
    )
    if refresh:
        regression_test_refresh(test)  # runs uploaded before the link count too
        test.refresh_from_db()
    reminders_settle(
        postmortem_id=postmortem.pk,
        settled_by="linked",
        who=actor,
        how=f"regression test {canonical} ({repository.name}) linked, {test.get_state_display().lower()}",
    )
    return test, True


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
    postmortem_timeline_append(
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
    (``postmortems.ci_states.regression_test_refresh``). Raises ValidationError
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
    postmortem_timeline_append(
        test.postmortem.incident_id,
        f"Regression test {test.test_id}: {before} → verified by hand by {actor or 'nobody'}: {reason}",
        actor=actor,
        source=source,
        data={"regression_test_id": test.pk, "state": test.state, "by_hand": True, "reason": reason},
    )
    return test, True
