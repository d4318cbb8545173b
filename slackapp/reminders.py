"""The buttons on a reminder (``postmortems.reminders.delivery``): settle it where it arrived.

*Link regression test…* opens a modal whose test picker is an
``external_select`` over canonical ids seen in recent CI runs of the
service's repositories, searched as the person types (``block_suggestion``;
never more than 100 options), or the id they typed when CI has not run it
yet. *Snooze…* pauses the reminders for a while, within the snooze limit
(``postmortems.services.postmortem_snooze_latest``). *Not testable…* is in
``slackapp.waivers``. *Open post-mortem* is a link. Every modal opens with a
"Loading…" view at once (the door's ``modal=``) and is filled in with
``views.update``; every write goes through the post-mortem services and
their permission rule, with source ``slack``.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents.models import Source
from ownership.permissions import may_write
from postmortems.ci_models import TestResult
from postmortems.models import PostMortem
from postmortems.regression_tests import regression_test_link
from postmortems.reminders.delivery import LINK_TEST, OPEN, SNOOZE
from postmortems.selectors import postmortem_repositories, recent_test_results
from postmortems.services import postmortem_snooze, postmortem_snooze_latest
from postmortems.testids import canonical_test_id
from sredesk.exceptions import PermissionDenied
from sredesk.inputs import check_text, check_url, parse_id, parse_int

from .registry import SlackContext, SlackUserError, action, loading_view, suggestion, view_submission
from .views_kit import done_view, error_view, form_errors, mrkdwn, plain, slack_time, state_value

LINK_VIEW, SNOOZE_VIEW = "reminder.link_test", "reminder.snooze"
TEST_PICKER = "reminder.test_pick"
OPTIONS_LIMIT = 100  # Slack's limit for an external_select's options
OPTION_TEXT_LIMIT, OPTION_VALUE_LIMIT = 75, 150  # Slack's limits for an option's text and value
SNOOZE_CHOICES = ((1, "1 day"), (3, "3 days"), (7, "1 week"), (14, "2 weeks"), (28, "4 weeks"))
SNOOZE_REASON_MAX_CHARS = 300  # what postmortem_snooze keeps


def postmortem_named(value: str) -> PostMortem:
    """The post-mortem a button or modal names by pk (from outside: checked)."""
    postmortem = (
        PostMortem.objects.select_related("incident__owning_team", "incident__primary_service")
        .filter(pk=parse_id(value, field="postmortem"))
        .first()
    )
    if postmortem is None:
        raise SlackUserError("That post-mortem no longer exists in sredesk.")
    return postmortem


def may_write_or_say(ctx: SlackContext, postmortem: PostMortem, title: str) -> bool:
    if may_write(ctx.person, postmortem):
        return True
    ctx.update_view(error_view(title, f"You may not change the post-mortem of {postmortem.incident.public_id}."))
    return False


@action(OPEN, sync=True, person_required=False)
def open_link(ctx: SlackContext) -> None:
    """Open post-mortem is a link button; nothing is to be done."""
    return None


# --- Link regression test… ------------------------------------------------------------------------


def link_view(postmortem: PostMortem, repositories: list) -> dict:
    """The link form: the test picker (searched as you type), the repository for a test CI has not run yet,
    the change that added the test."""
    blocks = [
        mrkdwn(
            f"*{postmortem.incident.public_id}* {postmortem.incident.title}\n"
            "Pick the test that fails if this comes back: type part of its id."
        ),
        {
            "type": "input",
            "block_id": "test",
            "label": plain("Regression test"),
            "element": {
                "type": "external_select",
                "action_id": TEST_PICKER,
                "min_query_length": 0,
                "placeholder": plain("Type part of the test id"),
            },
        },
    ]
    if repositories:
        options = [{"text": plain(r.name[:OPTION_TEXT_LIMIT]), "value": str(r.pk)} for r in repositories[:100]]
        blocks.append(
            {
                "type": "input",
                "block_id": "repository",
                "optional": True,
                "label": plain("Repository (for a test CI has not run yet)"),
                "element": {
                    "type": "static_select",
                    "action_id": "repository",
                    "options": options,
                    "initial_option": options[0],
                },
            }
        )
    blocks.append(
        {
            "type": "input",
            "block_id": "change_url",
            "optional": True,
            "label": plain("Change that added it (URL)"),
            "element": {"type": "url_text_input", "action_id": "change_url"},
        }
    )
    return {
        "type": "modal",
        "callback_id": LINK_VIEW,
        "private_metadata": str(postmortem.pk),
        "title": plain("Link regression test"),
        "submit": plain("Link"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }


@action(LINK_TEST, modal=loading_view("Link regression test"))
def link_open(ctx: SlackContext) -> None:
    """Link regression test… button: fill the loading modal with the link form."""
    postmortem = postmortem_named(ctx.action.get("value", ""))
    if may_write_or_say(ctx, postmortem, "Link regression test"):
        ctx.update_view(link_view(postmortem, list(postmortem_repositories(postmortem)[:100])))


def _option_text(test_id: str, repository: str) -> str:
    """``test_id`` (its end, where the test's name is) within an option's 75 characters."""
    text = f"{test_id} ({repository})"
    return text if len(text) <= OPTION_TEXT_LIMIT else "…" + text[-(OPTION_TEXT_LIMIT - 1) :]


def test_options(postmortem: PostMortem, typed: str) -> list[dict]:
    """The picker's options for what was ``typed``: the id typed itself when it is a canonical id CI has not
    reported (value ``t:<id>``), then ids seen in recent CI runs of the post-mortem's repositories (``r:<result
    pk>``); at most 100."""
    typed = typed.strip()[:500]
    repository_ids = list(postmortem_repositories(postmortem).values_list("pk", flat=True)[:100])
    results = recent_test_results(repository_ids=repository_ids, typed=typed, limit=OPTIONS_LIMIT)
    options = [
        {"text": plain(_option_text(r.test_id, r.test_run.repository.name)), "value": f"r:{r.pk}"} for r in results
    ]
    try:
        canonical = canonical_test_id(typed) if typed else ""
    except ValueError:
        canonical = ""
    seen = {r.test_id for r in results}
    if canonical and canonical not in seen and len(canonical) + 2 <= OPTION_VALUE_LIMIT:
        label = f"“{canonical}” (not seen in CI yet)"
        label = label if len(label) <= OPTION_TEXT_LIMIT else "…" + label[-(OPTION_TEXT_LIMIT - 1) :]
        options.insert(0, {"text": plain(label), "value": f"t:{canonical}"})
    return options[:OPTIONS_LIMIT]


@suggestion(TEST_PICKER)
def test_picker(ctx: SlackContext) -> dict:
    """The test picker's options as the person types (``block_suggestion``, answered in the request)."""
    postmortem = postmortem_named(ctx.view.get("private_metadata", ""))
    return {"options": test_options(postmortem, ctx.value)}


@view_submission(LINK_VIEW, sync=True)
def link_submit(ctx: SlackContext) -> dict | None:
    """The link form, submitted: the test is linked (``regression_test_link``: verified at once when CI has seen
    it pass), or the form says what to fix."""
    postmortem = postmortem_named(ctx.view.get("private_metadata", ""))
    picked = state_value(ctx.view, "test", TEST_PICKER)
    repositories = postmortem_repositories(postmortem)
    fields = {"test_id": "test", "change_url": "change_url", "repository": "repository"}
    try:
        change_url = check_url(state_value(ctx.view, "change_url", "change_url"), field="change_url", max_length=500)
        if picked.startswith("r:"):
            result = (
                TestResult.objects.select_related("test_run__repository")
                .filter(pk=parse_id(picked[2:], field="test_id"), test_run__repository__in=repositories)
                .first()
            )
            if result is None:
                raise ValidationError({"test_id": "Pick a test from the list."})
            repository, test_id = result.test_run.repository, result.test_id
        elif picked.startswith("t:"):
            test_id = check_text(picked[2:], field="test_id", max_length=OPTION_VALUE_LIMIT)
            chosen = state_value(ctx.view, "repository", "repository")
            repository = repositories.filter(pk=parse_id(chosen, field="repository")).first() if chosen else None
            if repository is None:
                raise ValidationError({"repository": "Pick the repository the test lives in."})
        else:
            raise ValidationError({"test_id": "Pick a test from the list."})
        test, created = regression_test_link(
            postmortem=postmortem,
            repository=repository,
            test_id=test_id,
            change_url=change_url,
            actor=ctx.person,
            source=Source.SLACK,
        )
    except (ValidationError, PermissionDenied) as exc:
        return form_errors(exc, fields, "test")
    verb = "Linked" if created else "Already linked:"
    sentence = f"{verb} {test.test_id} to {postmortem.incident.public_id} ({test.get_state_display().lower()})."
    return {"response_action": "update", "view": done_view("Link regression test", sentence)}


# --- Snooze… --------------------------------------------------------------------------------------


def snooze_view(postmortem: PostMortem) -> dict:
    """The snooze form: how long (only choices within the snooze limit) and why; or why it cannot be snoozed."""
    latest = postmortem_snooze_latest(postmortem)
    now = timezone.now()
    choices = [(days, label) for days, label in SNOOZE_CHOICES if now + timedelta(days=days) <= latest]
    if not choices:
        return error_view(
            "Snooze reminders",
            f"The reminders of {postmortem.incident.public_id} cannot be snoozed any more: "
            f"a snooze may last until {slack_time(latest)} at the latest.",
        )
    options = [{"text": plain(label), "value": str(days)} for days, label in choices]
    return {
        "type": "modal",
        "callback_id": SNOOZE_VIEW,
        "private_metadata": str(postmortem.pk),
        "title": plain("Snooze reminders"),
        "submit": plain("Snooze"),
        "close": plain("Cancel"),
        "blocks": [
            mrkdwn(
                f"*{postmortem.incident.public_id}* {postmortem.incident.title}\n"
                f"A snooze may last until {slack_time(latest)} at the latest."
            ),
            {
                "type": "input",
                "block_id": "duration",
                "label": plain("For"),
                "element": {"type": "static_select", "action_id": "days", "options": options},
            },
            {
                "type": "input",
                "block_id": "reason",
                "label": plain("Why may the reminders pause?"),
                "element": {"type": "plain_text_input", "action_id": "reason", "max_length": SNOOZE_REASON_MAX_CHARS},
            },
        ],
    }


@action(SNOOZE, modal=loading_view("Snooze reminders"))
def snooze_open(ctx: SlackContext) -> None:
    """Snooze… button: fill the loading modal with the snooze form."""
    postmortem = postmortem_named(ctx.action.get("value", ""))
    if may_write_or_say(ctx, postmortem, "Snooze reminders"):
        ctx.update_view(snooze_view(postmortem))


@view_submission(SNOOZE_VIEW, sync=True)
def snooze_submit(ctx: SlackContext) -> dict | None:
    """The snooze form, submitted: ``postmortem_snooze`` (its limit and reason rules), or the form says why not."""
    postmortem = postmortem_named(ctx.view.get("private_metadata", ""))
    fields = {"until": "duration", "reason": "reason"}
    try:
        days = parse_int(state_value(ctx.view, "duration", "days"), field="until", min_value=1, max_value=366)
        reason = check_text(
            state_value(ctx.view, "reason", "reason"), field="reason", max_length=SNOOZE_REASON_MAX_CHARS
        )
        snoozed = postmortem_snooze(
            postmortem_id=postmortem.pk,
            until=timezone.now() + timedelta(days=days),
            reason=reason,
            actor=ctx.person,
            source=Source.SLACK,
        )
    except (ValidationError, PermissionDenied) as exc:
        return form_errors(exc, fields, "reason")
    sentence = f"Reminders of {postmortem.incident.public_id} snoozed until {slack_time(snoozed.snoozed_until)}."
    return {"response_action": "update", "view": done_view("Snooze reminders", sentence)}
