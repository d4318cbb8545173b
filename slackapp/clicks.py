"""A double click on a Slack button acts once: the second click within a few seconds does nothing.

Slack sends each click with its own ``action_ts``, so the ledger
(``InboundRequest``) keeps both and a worker runs both. A button whose action
must not repeat (an incident card's Acknowledge and Resolve) calls
:func:`first_click` inside its handler's transaction: the click claims the
(message, button) row (``ButtonClick``, unique), and a second click within
``SREDESK_SLACK_CLICK_WINDOW_SECONDS`` of the claimed one finds the claim
and is told who clicked first. Two workers at once take turns on the unique
row (the second INSERT waits for the first transaction), so exactly one acts;
a handler that fails rolls its claim back with its writes.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from .models import ButtonClick, InboundRequest
from .registry import SlackContext
from .views_kit import slack_time


def first_click(ctx: SlackContext) -> ButtonClick | None:
    """None when ``ctx``'s click is the first of its button on its message within the window (it is claimed);
    else the earlier click's row. A click without a message (a modal's button) or a ledger row always acts."""
    if not ctx.message_ts or ctx.inbound_id is None:
        return None
    received = InboundRequest.objects.filter(pk=ctx.inbound_id).values_list("received_at", flat=True).first()
    if received is None:
        return None
    message = f"{ctx.channel_id}:{ctx.message_ts}"[:100]
    action_id = str(ctx.action.get("action_id", ""))[:255]
    mine = {"slack_user_id": ctx.slack_user_id[:32], "inbound_id": ctx.inbound_id, "clicked_at": received}
    try:
        with transaction.atomic():
            ButtonClick.objects.create(message=message, action_id=action_id, **mine)
            return None
    except IntegrityError:  # clicked before: that claim is read (after its transaction ended) and decides
        pass
    row = ButtonClick.objects.select_for_update().get(message=message, action_id=action_id)
    window = timedelta(seconds=settings.SREDESK_SLACK_CLICK_WINDOW_SECONDS)
    if row.inbound_id != ctx.inbound_id and abs(received - row.clicked_at) <= window:
        return row
    ButtonClick.objects.filter(pk=row.pk).update(**mine)
    return None


def earlier_click_text(click: ButtonClick, label: str) -> str:
    """What the second click of a double click hears: who clicked first, and that this click did nothing."""
    from .identity import person_by_slack_id

    who = person_by_slack_id(click.slack_user_id) or (f"<@{click.slack_user_id}>" if click.slack_user_id else "someone")
    return f"{who} clicked {label} on this message first, at {slack_time(click.clicked_at)}: your click did nothing."
