"""Play one demo incident's story through the product's own services, each step at its moment in the past.

Every write goes through the function a person's click would call
(``incidents.services``, ``postmortems.services`` and its siblings, ``postmortems.ci``), so the
demo's rows, timeline wording, post-mortem drafts, due dates and regression
test states follow the product's rules instead of copying them. Each step
runs with the clock moved to when it happened (time-machine, ``tick=False``),
because those services stamp "now" themselves.

The story of an incident: declared when detected (silently: it is history),
its commander and the post-mortem owner take their roles, it is acknowledged,
mitigated and resolved (which creates the post-mortem draft, as the product
does for the severities that need one), the commander hands the draft to its
owner, who writes it and adds the action items; it goes to review, is
published, a regression test is linked and CI runs it; items get done; the
post-mortem is completed.
"""

import hashlib
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from xml.sax.saxutils import quoteattr

import time_machine

from incidents import effects
from incidents import services as incidents
from incidents import update as incident_edits
from incidents.models import Incident, Source
from ownership.models import Repository, Service, Team, User
from postmortems import action_items, ci, regression_tests
from postmortems import services as postmortems
from postmortems.models import ActionItem, PostMortem

from .data import DemoIncident, DemoPostMortem, DemoRegressionTest

CLOSED_STATES = (ActionItem.Status.DONE, ActionItem.Status.WONT_DO)


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Run the block with the clock standing at ``moment`` (every ``timezone.now()`` inside returns it)."""
    with time_machine.travel(moment, tick=False):
        yield


def _ticket_number(title: str) -> int:
    """A made-up tracker ticket number, stable for a given action-item title."""
    return zlib.crc32(title.encode()) % 9000 + 1000


def _between(moment: datetime, earliest: datetime, latest: datetime) -> datetime:
    return min(max(moment, earliest), latest)


def incident_story_play(
    spec: DemoIncident,
    *,
    now: datetime,
    people: dict[str, User],
    teams: dict[str, Team],
    services: dict[str, Service],
) -> Incident:
    """Create the incident of ``spec`` and everything that happened to it, through the services.

    Times are relative to ``now``. The incident is declared without an
    announcement (``announce=False``); the loader marks the story's other
    announcements as made at the time they happened.
    """
    started = now - spec.ago
    detected = started + spec.detected
    commander = people[spec.commander]
    primary = services[spec.primary_service]
    with at(detected):
        incident = incidents.incident_declare(
            title=spec.title,
            severity=spec.severity,
            actor=None,
            source=Source.ALERT,
            summary=f"{spec.summary}\n\nModelled on {spec.company}'s public post-mortem ({spec.category}): "
            f"{spec.source_url}",
            primary_service=primary,
            services=[services[slug] for slug in spec.services],
            owning_team=teams[spec.owning_team] if spec.owning_team else None,
            started_at=started,
            detected_at=detected,
            announce=False,
        )
    with at(started + (spec.acknowledged if spec.acknowledged is not None else spec.detected)):
        # Appointed by the owning team's lead (naming oneself would not do: ownership.permissions).
        team = incident.owning_team
        appointer = commander if team is None else (team.lead or None)
        incident_edits.incident_assign_role(
            incident_id=incident.pk, role="commander", user=commander, actor=appointer, source=Source.WEB
        )
        owner = people[spec.postmortem.owner] if spec.postmortem else None
        if owner is not None and owner != commander:
            incident_edits.incident_set_responder(
                incident_id=incident.pk, user=owner, responding=True, actor=commander, source=Source.WEB
            )
    steps = (("acknowledge", spec.acknowledged), ("mitigate", spec.mitigated), ("resolve", spec.resolved))
    for verb, offset in steps:
        if offset is not None:
            with at(started + offset):
                incidents.TRANSITIONS[verb](
                    incident_id=incident.pk, actor=commander, source=Source.WEB, at=started + offset
                )
                if verb == "resolve":  # the side-effect worker's part (the draft), at the story's moment
                    effects.side_effect_run(effects.POSTMORTEM_DRAFT, incident.pk)
    incident.refresh_from_db()
    if spec.postmortem is not None:
        postmortem = PostMortem.objects.filter(incident=incident).first()
        if postmortem is not None:  # None: SREDESK_POSTMORTEM_SEVERITIES leaves this severity out
            _postmortem_story_play(spec, postmortem, now=now, people=people)
    return incident


def _postmortem_story_play(spec: DemoIncident, postmortem: PostMortem, *, now: datetime, people: dict) -> None:
    """Hand the draft to its owner, write it, add the action items, review, publish, test, complete."""
    pm: DemoPostMortem = spec.postmortem
    owner, commander = people[pm.owner], people[spec.commander]
    resolved = postmortem.incident.resolved_at
    published = now - pm.published_ago if pm.published_ago is not None else None
    written = min(resolved + timedelta(hours=2), now)
    with at(min(resolved + timedelta(minutes=1), now)):
        postmortems.postmortem_update(postmortem_id=postmortem.pk, owner=owner, actor=commander, source=Source.WEB)
    with at(written):
        sections = {
            "summary": f"{pm.summary}\n\n_Demo data modelled on {spec.company}'s public post-mortem "
            f"({spec.category}, see the source link); the details here are invented._",
            "impact": pm.impact,
            "trigger": pm.trigger,
            "root_cause": pm.root_cause,
            "detection": pm.detection,
            "resolution": pm.resolution,
            "went_well": pm.went_well,
            "went_wrong": pm.went_wrong,
            "got_lucky": pm.got_lucky,
        }
        postmortems.postmortem_update(postmortem_id=postmortem.pk, sections=sections, actor=owner, source=Source.WEB)
        # The public write-up is reference data with no rule attached; no front door edits it but the admin.
        PostMortem.objects.filter(pk=postmortem.pk).update(source_url=spec.source_url)
        items = [
            (
                item,
                action_items.action_item_create(
                    postmortem=postmortem,
                    actor=owner,
                    source=Source.WEB,
                    title=item.title,
                    kind=item.kind,
                    priority=item.priority,
                    owner=people[item.owner],
                    due_date=(now + timedelta(days=item.due_in_days)).date() if item.due_in_days is not None else None,
                    tracker_url=f"https://tracker.example.com/browse/SRE-{_ticket_number(item.title)}",
                ),
            )
            for item in pm.action_items
        ]
    if pm.status != PostMortem.Status.DRAFT:
        review = published - timedelta(days=1) if published else written + (now - written) / 2
        with at(_between(review, written + timedelta(hours=1), now)):
            postmortems.postmortem_transition(
                postmortem_id=postmortem.pk, verb="submit_for_review", actor=owner, source=Source.WEB
            )
    if published is not None:
        with at(published):
            postmortems.postmortem_transition(
                postmortem_id=postmortem.pk, verb="publish", actor=owner, source=Source.WEB
            )
    for spec_item, item in items:
        if spec_item.status != ActionItem.Status.OPEN:
            due = now + timedelta(days=spec_item.due_in_days or 0)
            # Closed on time (a little before the due date); work in progress started an hour after writing.
            moment = due - timedelta(hours=6) if spec_item.status in CLOSED_STATES else written + timedelta(hours=1)
            with at(_between(moment, written + timedelta(minutes=30), now)):
                action_items.action_item_set_status(
                    action_item_id=item.pk,
                    status=spec_item.status,
                    reason=spec_item.wont_do_reason,
                    actor=people[spec_item.owner],
                    source=Source.WEB,
                )
    if pm.regression_test is not None:
        _regression_test_story_play(pm.regression_test, postmortem, published or now, now=now, owner=owner)
    if pm.completed_ago is not None:
        with at(now - pm.completed_ago):
            postmortems.postmortem_transition(
                postmortem_id=postmortem.pk, verb="complete", actor=owner, source=Source.WEB
            )


def _regression_test_story_play(
    spec: DemoRegressionTest, postmortem: PostMortem, published: datetime, *, now: datetime, owner: User
) -> None:
    """Link the test ``linked_after`` publication; CI sees it pass an hour later, and fail later when ``failing``."""
    repository = Repository.objects.get(name=spec.repository)
    linked = min(now, published + spec.linked_after)
    with at(linked):
        test, _ = regression_tests.regression_test_link(
            postmortem=postmortem,
            repository=repository,
            test_id=spec.test_id,
            change_url=f"{repository.url}/pull/{spec.change}",
            actor=owner,
            source=Source.WEB,
        )
    if spec.state in ("verified", "failing"):
        passed = min(now, linked + timedelta(hours=1))
        with at(passed):
            _ci_run_upload(repository, test.test_id, passed=True, on=passed.date())
    if spec.state == "failing":
        failed = _between(now - timedelta(hours=6), linked + timedelta(hours=2), now)
        with at(failed):
            _ci_run_upload(repository, test.test_id, passed=False, on=failed.date())


def _ci_run_upload(repository: Repository, test_id: str, *, passed: bool, on: date) -> None:
    """One CI run of the repository's default branch, as a JUnit report holding the one test.

    The report gives the canonical id as ``classname::name`` (the plain form
    any tool's report may take); the run stays open (``complete=False``), so
    it says nothing about tests it does not hold.
    """
    classname, _, name = test_id.partition("::")
    failure = "" if passed else '<failure message="assertion failed">expected the fix to hold</failure>'
    report = (
        f'<testsuite name="demo" tests="1" failures="{0 if passed else 1}">'
        f'<testcase classname={quoteattr(classname)} name={quoteattr(name)} time="0.2">{failure}</testcase>'
        "</testsuite>"
    ).encode()
    commit = hashlib.sha1(f"{repository.name} {test_id} {on} {passed}".encode(), usedforsecurity=False).hexdigest()
    ci.ci_run_upload(
        repository=repository,
        branch=repository.default_branch,
        content=report,
        commit=commit,
        url=f"https://ci.example.com/{repository.name}/builds/{commit[:8]}",
        filename="report.xml",
        fmt="unknown",
    )
