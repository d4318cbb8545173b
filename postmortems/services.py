"""Writes to post-mortems that every front door (web, admin, API, CI) shares."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from incidents.models import Source, TimelineEvent
from ownership.models import Repository, User

from .models import ActionItem, PostMortem, RegressionTest
from .testids import canonical_test_id


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
) -> tuple[RegressionTest, bool]:
    """Link a regression test to a post-mortem. Returns (test, created).

    ``test_id`` is normalised to its canonical ``::`` form first. Linking the
    same test twice (a double click, a retried request) returns the existing
    link and writes nothing. Writes a timeline entry on the incident when it
    creates the link; the reminder sweep stops reminding from its next tick.
    Raises ValidationError keyed by field for a malformed id or an action
    item from another post-mortem.
    """
    try:
        canonical = canonical_test_id(test_id)
    except ValueError as exc:
        raise ValidationError({"test_id": str(exc)}) from exc
    if action_item is not None and action_item.postmortem_id != postmortem.pk:
        raise ValidationError({"action_item": "This action item belongs to another post-mortem."})
    key = {"postmortem": postmortem, "repository": repository, "test_id": canonical}
    existing = RegressionTest.objects.filter(**key).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            test = RegressionTest.objects.create(**key, change_url=change_url, action_item=action_item, linked_by=actor)
    except IntegrityError:  # a concurrent request linked the same test first
        return RegressionTest.objects.get(**key), False
    TimelineEvent.objects.create(
        incident_id=postmortem.incident_id,
        kind=TimelineEvent.Kind.POSTMORTEM,
        actor=actor,
        source=source,
        message=f"Regression test linked: {repository.name} {canonical}",
        data={"regression_test_id": test.pk},
    )
    return test, True
