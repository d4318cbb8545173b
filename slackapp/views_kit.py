"""Small Block Kit pieces the button handlers share: text objects, a modal that only says something, a submitted
form's values and its field errors."""

from datetime import datetime

from django.core.exceptions import ValidationError

from notifications.slack import slack_escape
from sredesk.exceptions import PermissionDenied
from sredesk.inputs import InputError

TITLE_LIMIT = 24  # characters of a modal's title (Slack's limit)


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn(text: str) -> dict:
    """A section block with ``text`` as mrkdwn; the caller's words are escaped (no links or mentions from users)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(text)}}


def error_view(title: str, sentence: str) -> dict:
    """A modal that only says ``sentence`` (why the form cannot be used), with a Close button."""
    return {"type": "modal", "title": plain(title[:TITLE_LIMIT]), "close": plain("Close"), "blocks": [mrkdwn(sentence)]}


def done_view(title: str, sentence: str) -> dict:
    """What a submitted form turns into (``response_action: update``): what happened, with a Close button."""
    return error_view(title, sentence)


def slack_time(moment: datetime) -> str:
    """A time as the buttons' replies say it: ``2026-12-05 10:02 UTC``."""
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def state_value(view: dict, block: str, action_id: str) -> str:
    """What a submitted modal holds in ``block``/``action_id``: a select's chosen value or an input's text ("")."""
    element = ((view.get("state") or {}).get("values") or {}).get(block, {}).get(action_id, {})
    selected = element.get("selected_option") or {}
    return str(selected.get("value") or element.get("value") or "")


def form_errors(exc: ValidationError | PermissionDenied, fields: dict[str, str], default: str) -> dict:
    """A ``response_action: errors`` answer: each message on the block that holds its field (``fields`` maps
    service or input field names to block ids; anything else goes on ``default``)."""
    errors: dict[str, list[str]] = {}
    if isinstance(exc, InputError):
        errors[fields.get(exc.field, default)] = exc.messages
    elif isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            errors.setdefault(fields.get(field, default), []).extend(messages)
    else:
        errors[default] = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
    return {"response_action": "errors", "errors": {block: " ".join(m) for block, m in errors.items()}}
