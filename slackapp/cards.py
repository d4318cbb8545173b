"""The buttons on an incident's Slack card (``incidents.cards``): Acknowledge, Resolve, Add note, Open.

Each writes through the same service and permission rule as the web and the
API (``incidents.services``; ``ownership.permissions``), with source
``slack`` on the timeline; the card itself is edited by the worker after
commit. A click that finds the move already made (a double click, a second
delivery, a colleague first) acts not at all and tells the clicker who got
there first and when (FIELD-CASES BR-15). Add note opens a "Loading…" modal
at once (the door's ``modal=``, before anything slow: BR-31) and fills it in
with ``views.update``.
"""

from django.core.exceptions import ValidationError

from incidents import cards
from incidents.models import Incident, Source
from incidents.moves import MOVES, already_text, incident_move
from incidents.services import incident_add_note
from ownership.permissions import may_write
from sredesk.exceptions import PermissionDenied
from sredesk.inputs import check_text, parse_id

from .clicks import earlier_click_text, first_click
from .registry import SlackContext, SlackUserError, action, loading_view, view_submission
from .views_kit import error_view, form_errors, mrkdwn, plain, state_value

NOTE_VIEW = "incident.note"
NOTE_MAX_CHARS = 3000  # Slack's own limit for a plain_text_input


def _incident(value: str) -> Incident:
    """The incident a button or a modal names by pk (``value``/``private_metadata``, from outside: checked)."""
    incident = (
        Incident.objects.select_related("owning_team", "acknowledged_by")
        .filter(pk=parse_id(value, field="incident"))
        .first()
    )
    if incident is None:
        raise SlackUserError("That incident no longer exists in sredesk.")
    return incident


def _move(ctx: SlackContext, verb: str) -> str | None:
    """Acknowledge or Resolve through ``incidents.moves.incident_move`` (the web's and the API's function): a
    repeat changes nothing and hears its sentence. A second click of the same button on the same message
    within ``SREDESK_SLACK_CLICK_WINDOW_SECONDS`` (a double click) does nothing at all (``clicks.first_click``)."""
    incident = _incident(ctx.action.get("value", ""))
    earlier = first_click(ctx)
    if earlier is not None:
        incident = _incident(str(incident.pk))
        if incident.status == MOVES[verb][0]:
            return already_text(incident, verb)
        return earlier_click_text(earlier, verb.capitalize())
    outcome = incident_move(verb=verb, incident_id=incident.pk, actor=ctx.person, source=Source.SLACK)
    return None if outcome.changed else outcome.hint


@action(cards.ACK)
def acknowledge(ctx: SlackContext) -> str | None:
    """Acknowledge button: acknowledges once; a later click hears who acknowledged it and when."""
    return _move(ctx, "acknowledge")


@action(cards.RESOLVE)
def resolve(ctx: SlackContext) -> str | None:
    """Resolve button: resolves once (the post-mortem draft is owed as from any door)."""
    return _move(ctx, "resolve")


@action(cards.OPEN, sync=True, person_required=False)
def open_link(ctx: SlackContext) -> None:
    """Open is a link button; Slack still tells us of the click, and nothing is to be done."""
    return None


def note_view(incident: Incident) -> dict:
    """The Add note form for ``incident``."""
    return {
        "type": "modal",
        "callback_id": NOTE_VIEW,
        "private_metadata": str(incident.pk),
        "title": plain("Add note"),
        "submit": plain("Add"),
        "close": plain("Cancel"),
        "blocks": [
            mrkdwn(f"*{incident.public_id}* ({incident.get_severity_display()}) {incident.title}"),
            {
                "type": "input",
                "block_id": "note",
                "label": plain("Note for the timeline"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": NOTE_MAX_CHARS,
                },
            },
        ],
    }


@action(cards.NOTE, modal=loading_view("Add note"))
def note_open(ctx: SlackContext) -> None:
    """Add note button: the loading modal is open already; put the form in it (or say why not)."""
    incident = _incident(ctx.action.get("value", ""))
    if not may_write(ctx.person, incident):
        ctx.update_view(error_view("Add note", f"You may not write to {incident.public_id}: ask its team."))
        return None
    ctx.update_view(note_view(incident))
    return None


@view_submission(NOTE_VIEW, sync=True)
def note_submit(ctx: SlackContext) -> dict | None:
    """The Add note form, submitted: the note goes on the timeline (source slack), or the form shows why not."""
    incident = _incident(ctx.view.get("private_metadata", ""))
    text = state_value(ctx.view, "note", "text")
    try:
        check_text(text, field="text", max_length=NOTE_MAX_CHARS)
        incident_add_note(incident_id=incident.pk, text=text, actor=ctx.person, source=Source.SLACK)
    except (ValidationError, PermissionDenied) as exc:
        return form_errors(exc, {"text": "note"}, "note")
    return None
