"""Writes to post-mortems that every front door (web, admin, API, CI) shares."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from incidents.models import Incident, Source, TimelineEvent
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


def timeline_markdown(incident: Incident) -> str:
    """The incident's timeline as Markdown lines, each with its full UTC date and time."""
    lines = []
    for event in incident.timeline.select_related("actor"):
        who = f" ({event.actor})" if event.actor else ""
        lines.append(f"- {event.at:%Y-%m-%d %H:%M:%S} UTC — {event.message}{who}")
    return "\n".join(lines)


@transaction.atomic
def postmortem_create_for_incident(*, incident: Incident) -> tuple[PostMortem | None, bool]:
    """Create the post-mortem draft of a resolved incident whose severity needs one. Returns (post-mortem, created).

    Exactly once per incident (the one-to-one key): a retried or repeated
    resolve finds the existing draft. Owner: the incident commander, else the
    owning team's lead. Due ``POSTMORTEM_DUE_DAYS[severity]`` days after
    ``resolved_at``. The incident's timeline is copied in as Markdown.
    Returns (None, False) for a severity that needs no post-mortem.
    """
    if incident.severity not in settings.POSTMORTEM_REQUIRED_SEVERITIES:
        return None, False
    existing = PostMortem.objects.filter(incident=incident).first()
    if existing:
        return existing, False
    team = incident.owning_team
    owner = incident.commander or (team.lead if team else None)
    due_at = (incident.resolved_at or incident.detected_at) + timedelta(
        days=settings.POSTMORTEM_DUE_DAYS[incident.severity]
    )
    try:
        with transaction.atomic():
            postmortem = PostMortem.objects.create(
                incident=incident, owner=owner, due_at=due_at, timeline=timeline_markdown(incident)
            )
    except IntegrityError:  # a concurrent resolve created it first
        return PostMortem.objects.get(incident=incident), False
    TimelineEvent.objects.create(
        incident=incident,
        kind=TimelineEvent.Kind.POSTMORTEM,
        source=Source.SYSTEM,
        message=f"Post-mortem draft created for {owner or 'nobody'}, due {due_at:%Y-%m-%d}",
        data={"postmortem_id": postmortem.pk},
    )
    return postmortem, True
