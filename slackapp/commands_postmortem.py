"""``/sredesk`` verbs about an incident's post-mortem: pm, followups, link-test, snooze.

Each calls the service the web and API call (``postmortems.services``,
``postmortems.regression_tests``) with ``source=slack``, under the
post-mortem's write rule.
"""

import re
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident, Source
from ownership.models import Repository
from ownership.permissions import require_write
from postmortems.ci_models import TestResult
from postmortems.models import ActionItem, PostMortem, RegressionTest
from postmortems.regression_tests import regression_test_link
from postmortems.selectors import postmortem_repositories
from postmortems.services import postmortem_create_for_incident, postmortem_snooze
from postmortems.testids import canonical_test_id, test_key

from .commands import link, slack_escape, target_incident, usage
from .registry import Reply, SlackContext, SlackUserError, command

_DURATION = re.compile(r"(\d{1,4})([wdhm])")
_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60}
LISTED = 10  # items a reply lists before "and N more"


def pm_link(postmortem: PostMortem) -> str:
    url = settings.SREDESK_BASE_URL + reverse("postmortems:detail", args=[postmortem.pk])
    return f"<{url}|post-mortem of {postmortem.incident.public_id}>"


def _postmortem(incident: Incident, verb: str) -> PostMortem:
    postmortem = PostMortem.objects.select_related("incident", "owner").filter(incident=incident).first()
    if postmortem is None:
        raise SlackUserError(
            f"{link(incident)} has no post-mortem yet: run {usage('pm')} to create it once the incident is resolved."
        )
    return postmortem


@command("pm")
def pm(ctx: SlackContext) -> Reply:
    """Open the incident's post-mortem; create the draft of a resolved incident that needs one and has none yet."""
    incident, _ = target_incident(ctx, "pm")
    postmortem = PostMortem.objects.select_related("incident", "owner").filter(incident=incident).first()
    if postmortem is None:
        require_write(ctx.person, incident)  # creating the draft is a write to the incident
        if incident.status != Incident.Status.RESOLVED:
            raise SlackUserError(f"{link(incident)} is not resolved yet: its post-mortem is drafted when it is.")
        postmortem, _ = postmortem_create_for_incident(incident=incident)
        if postmortem is None:
            raise SlackUserError(
                f"{link(incident)} needs no post-mortem ({incident.get_severity_display()}; see its timeline for why)."
            )
    owner = f", owner {postmortem.owner}" if postmortem.owner_id else ""
    return Reply(
        f"{pm_link(postmortem)}: {postmortem.get_status_display().lower()}{owner}, due {postmortem.due_at:%Y-%m-%d}."
    )


@command("followups")
def followups(ctx: SlackContext) -> Reply:
    """The post-mortem's open action items and its regression tests CI has not seen passing."""
    incident, _ = target_incident(ctx, "followups")
    postmortem = _postmortem(incident, "followups")
    items = list(
        ActionItem.objects.still_open().filter(postmortem=postmortem).select_related("owner").order_by("due_date", "id")
    )
    tests = list(
        RegressionTest.objects.filter(postmortem=postmortem)
        .exclude(state=RegressionTest.State.VERIFIED)
        .select_related("repository")
        .order_by("id")
    )
    lines = [f"*Follow-ups of the {pm_link(postmortem)}*"]
    if not items and not tests:
        has_tests = RegressionTest.objects.filter(postmortem=postmortem).exists()
        lines.append("Nothing open." if has_tests else f"No regression test linked yet: {usage('link-test')}.")
    for item in items[:LISTED]:
        due = f", due {item.due_date:%Y-%m-%d}" if item.due_date else ""
        lines.append(
            f"• {slack_escape(item.title)} ({item.get_status_display().lower()}, {item.owner or 'no owner'}{due})"
        )
    if len(items) > LISTED:
        lines.append(f"… and {len(items) - LISTED} more action items.")
    for test in tests[:LISTED]:
        lines.append(
            f"• test `{slack_escape(test.test_id)}` in {test.repository.name}: {test.get_state_display().lower()}"
        )
    if len(tests) > LISTED:
        lines.append(f"… and {len(tests) - LISTED} more regression tests.")
    return Reply("\n".join(lines))


def _repository(postmortem: PostMortem, test_id: str, named: str) -> Repository:
    """The repository to link ``test_id`` in: the one named, the only one of the incident's services
    (``postmortem_repositories``), or the only one of them whose CI has reported this test."""
    incident = postmortem.incident
    repositories = list(postmortem_repositories(postmortem))
    if named:
        repository = Repository.objects.filter(name=named).first()
        if repository is None:
            names = ", ".join(r.name for r in repositories) or "none"
            raise SlackUserError(f"No repository {slack_escape(named)!r} (the incident's services use: {names}).")
        return repository
    if len(repositories) == 1:
        return repositories[0]
    if not repositories:
        raise SlackUserError(
            f"{link(incident)}'s services name no repository: say which, e.g. "
            f"`link-test {slack_escape(test_id)} in acme/payments`."
        )
    seen = [
        r for r in repositories
        if TestResult.objects.filter(test_run__repository=r, test_key=test_key(test_id)).exists()
    ]  # fmt: skip
    if len(seen) == 1:
        return seen[0]
    names = ", ".join(r.name for r in repositories)
    raise SlackUserError(
        f"Which repository ({names})? Add `in <repository>`, e.g. "
        f"`link-test {slack_escape(test_id)} in {repositories[0].name}`."
    )


@command("link-test")
def link_test(ctx: SlackContext) -> Reply:
    """``link-test <canonical id> [in <repository>]``: link a regression test to the incident's post-mortem."""
    incident, rest = target_incident(ctx, "link-test")
    words = rest.split()
    named = ""
    if len(words) >= 3 and words[-2] == "in":
        named, words = words[-1], words[:-2]
    if len(words) != 1:
        raise SlackUserError(f"Give one test id: {usage('link-test')}, e.g. `link-test tests/test_pay.py::test_retry`.")
    try:
        test_id = canonical_test_id(words[0])
    except ValueError as exc:
        raise SlackUserError(f"That is not a test id: {exc}") from None
    postmortem = _postmortem(incident, "link-test")
    repository = _repository(postmortem, test_id, named)
    test, created = regression_test_link(
        postmortem=postmortem, repository=repository, test_id=test_id, actor=ctx.person, source=Source.SLACK
    )
    state = test.get_state_display().lower()
    if not created:
        return Reply(f"`{slack_escape(test.test_id)}` was linked to the {pm_link(postmortem)} already ({state}).")
    seen = (
        " CI has seen it passing: reminders stop."
        if test.state == RegressionTest.State.VERIFIED
        else (" Reminders stop once CI reports it passing.")
    )
    return Reply(
        f"Linked `{slack_escape(test.test_id)}` ({repository.name}) to the {pm_link(postmortem)}: {state}.{seen}"
    )


def parse_duration(text: str) -> timedelta:
    """``2d``, ``12h``, ``90m``, ``1w2d``: a positive duration, or SlackUserError."""
    value = text.strip().lower()
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise SlackUserError(f"{slack_escape(text)!r} is not a duration: write e.g. `2d`, `12h`, `1w2d`.")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
    if seconds <= 0:
        raise SlackUserError("A snooze must last a while: e.g. `2d`.")
    return timedelta(seconds=seconds)


@command("snooze")
def snooze(ctx: SlackContext) -> Reply:
    """``snooze <duration> <reason>``: pause the post-mortem's reminders (within the snooze limit)."""
    incident, rest = target_incident(ctx, "snooze")
    words = rest.split(None, 1)
    if len(words) < 2:
        raise SlackUserError(
            f"Give a duration and a reason: {usage('snooze')}, e.g. `snooze 3d waiting on the vendor`."
        )
    until = timezone.now() + parse_duration(words[0])
    postmortem = _postmortem(incident, "snooze")
    postmortem = postmortem_snooze(
        postmortem_id=postmortem.pk, until=until, reason=words[1], actor=ctx.person, source=Source.SLACK
    )
    return Reply(f"Reminders of the {pm_link(postmortem)} are snoozed until {until:%Y-%m-%d %H:%M} UTC.")
