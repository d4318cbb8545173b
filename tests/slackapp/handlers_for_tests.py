"""Handlers registered for the door tests alone (names start with ``test``): they record what they were given."""

from slackapp.registry import (
    Reply,
    SlackContext,
    SlackUserError,
    action,
    command,
    event,
    loading_view,
    suggestion,
    view_submission,
)
from sredesk.exceptions import PermissionDenied

CALLS: list[tuple[str, SlackContext]] = []


@command("test-echo")
def echo(ctx: SlackContext) -> str:
    CALLS.append(("test-echo", ctx))
    return f"echo {ctx.args} as {ctx.person.username if ctx.person else None}"


@command("test-boom")
def boom(ctx: SlackContext) -> None:
    raise RuntimeError("kaboom")


@command("test-denied")
def denied(ctx: SlackContext) -> None:
    raise PermissionDenied("Only the payments team may do that.")


@command("test-usererror")
def user_error(ctx: SlackContext) -> None:
    raise SlackUserError("Name the incident, e.g. INC-42.")


@action("test.echo")
def action_echo(ctx: SlackContext) -> Reply:
    CALLS.append(("test.echo", ctx))
    return Reply(f"clicked {ctx.action.get('value')}", replace_original=False)


@action("test.prefix.", prefix=True)
def action_prefix(ctx: SlackContext) -> None:
    CALLS.append(("test.prefix.", ctx))


@action("test.modal", modal=loading_view("Test form"))
def action_modal(ctx: SlackContext) -> None:
    CALLS.append(("test.modal", ctx))
    ctx.update_view({"type": "modal", "title": {"type": "plain_text", "text": "Test form"}, "blocks": []})


@view_submission("test_modal")
def submitted(ctx: SlackContext) -> None:
    CALLS.append(("test_modal", ctx))


@view_submission("test_modal_sync", sync=True)
def submitted_sync(ctx: SlackContext) -> dict:
    return {"response_action": "errors", "errors": {"b": "Give a reason."}}


@suggestion("test_picker")
def picker(ctx: SlackContext) -> dict:
    return {"options": [{"text": {"type": "plain_text", "text": f"{ctx.value}-1"}, "value": f"{ctx.value}-1"}]}


@event("test_event")
def recorded(ctx: SlackContext) -> None:
    CALLS.append(("test_event", ctx))


@command("test-incidents")
def counts_incidents(ctx: SlackContext) -> str:
    """Writes the person's first name, then reads the incidents table (which a test may hold locked)."""
    from incidents.models import Incident

    CALLS.append(("test-incidents", ctx))
    type(ctx.person).objects.filter(pk=ctx.person.pk).update(first_name="Changed")
    return f"{Incident.objects.count()} incidents"
