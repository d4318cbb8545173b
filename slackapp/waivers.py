"""*Not testable…* on a reminder, and the team lead's Approve / Reject (``postmortems.waivers``).

The button opens a "Loading…" modal at once and fills it in with the reason
form; submitting asks the owning team's lead, who gets a message with
Approve and Reject buttons. The lead's click decides once: the message is
replaced by the decision, and a second click (or a second approver) hears
who decided first and when.
"""

from django.core.exceptions import ValidationError

from incidents.models import Source
from postmortems.decline import DECLINE_REASON_MAX_CHARS
from postmortems.models import RegressionTestWaiver
from postmortems.reminders.delivery import NOT_TESTABLE
from postmortems.waivers import APPROVE, REJECT, regression_test_waiver_decide, regression_test_waiver_request
from sredesk.exceptions import PermissionDenied
from sredesk.inputs import check_text, parse_id

from .registry import Reply, SlackContext, SlackUserError, action, loading_view, view_submission
from .reminders import may_write_or_say, postmortem_named
from .views_kit import done_view, error_view, form_errors, mrkdwn, plain, slack_time, state_value

NOT_TESTABLE_VIEW = "reminder.not_testable"


def not_testable_view(postmortem) -> dict:
    """The reason form; says who decides (the owning team's lead), or why nobody can."""
    team = postmortem.incident.owning_team
    lead = team.lead if team is not None else None
    if lead is None:
        return error_view(
            "Not testable", "The owning team has no lead to approve this: ask an admin to name one, or link a test."
        )
    return {
        "type": "modal",
        "callback_id": NOT_TESTABLE_VIEW,
        "private_metadata": str(postmortem.pk),
        "title": plain("Not testable"),
        "submit": plain("Ask the lead"),
        "close": plain("Cancel"),
        "blocks": [
            mrkdwn(
                f"*{postmortem.incident.public_id}* {postmortem.incident.title}\n"
                f"If no test can catch this failure coming back, say why. {lead} (team lead) decides; "
                "until then the reminders go on."
            ),
            {
                "type": "input",
                "block_id": "reason",
                "label": plain("Why can no test catch it?"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "reason",
                    "multiline": True,
                    "max_length": DECLINE_REASON_MAX_CHARS,
                },
            },
        ],
    }


@action(NOT_TESTABLE, modal=loading_view("Not testable"))
def not_testable_open(ctx: SlackContext) -> None:
    """Not testable… button: fill the loading modal with the reason form."""
    postmortem = postmortem_named(ctx.action.get("value", ""))
    if may_write_or_say(ctx, postmortem, "Not testable"):
        ctx.update_view(not_testable_view(postmortem))


@view_submission(NOT_TESTABLE_VIEW, sync=True)
def not_testable_submit(ctx: SlackContext) -> dict | None:
    """The reason form, submitted: the lead is asked (once), or the form says what to fix."""
    postmortem = postmortem_named(ctx.view.get("private_metadata", ""))
    try:
        reason = check_text(
            state_value(ctx.view, "reason", "reason"), field="reason", max_length=DECLINE_REASON_MAX_CHARS
        )
        waiver, created = regression_test_waiver_request(
            postmortem_id=postmortem.pk, reason=reason, actor=ctx.person, source=Source.SLACK
        )
    except (ValidationError, PermissionDenied) as exc:
        return form_errors(exc, {"reason": "reason"}, "reason")
    if waiver.status == RegressionTestWaiver.Status.APPROVED:
        sentence = f"The team lead already approved that {postmortem.incident.public_id} owes no regression test."
    elif created:
        sentence = "Asked the team lead. The reminders go on until they approve."
    else:
        sentence = f"Already asked {slack_time(waiver.requested_at)}; the team lead has not decided yet."
    return {"response_action": "update", "view": done_view("Not testable", sentence)}


def _decide(ctx: SlackContext, approve: bool) -> Reply | str:
    waiver_id = parse_id(ctx.action.get("value", ""), field="waiver")
    if not RegressionTestWaiver.objects.filter(pk=waiver_id).exists():
        raise SlackUserError("That request no longer exists in sredesk.")
    waiver, decided = regression_test_waiver_decide(
        waiver_id=waiver_id, approve=approve, actor=ctx.person, source=Source.SLACK
    )
    incident = waiver.postmortem.incident
    status = waiver.get_status_display().lower()
    if not decided:
        return f"Already {status} by {waiver.decided_by or 'sredesk'} at {slack_time(waiver.decided_at)}."
    outcome = "owes no regression test" if approve else "still owes a regression test"
    return Reply(
        f"{incident.public_id}: not testable {status} by {ctx.person} at {slack_time(waiver.decided_at)}; "
        f"the post-mortem {outcome}. Reason given: {waiver.reason}",
        ephemeral=False,
        replace_original=True,
    )


@action(APPROVE)
def approve(ctx: SlackContext) -> Reply | str:
    """The lead's Approve: the post-mortem owes no regression test; the request message says so."""
    return _decide(ctx, approve=True)


@action(REJECT)
def reject(ctx: SlackContext) -> Reply | str:
    """The lead's Reject: the reminders go on; the request message says so."""
    return _decide(ctx, approve=False)
