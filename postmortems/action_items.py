"""Action items of post-mortems: add, edit, move between statuses, delete; each logged on the incident's timeline.

Every write takes the acting person (``actor``; None for sredesk itself) and
refuses one who may not write to the post-mortem with
``sredesk.exceptions.PermissionDenied``, before anything is written
(``ownership.permissions.require_write``).
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents.models import Source
from ownership.models import User
from ownership.permissions import require_write
from sredesk.versions import BasedOn, merge_edit

from .models import ActionItem, PostMortem
from .querysets import due_date_today
from .writes import postmortem_timeline_append, require_postmortem_write

ACTION_ITEM_FIELDS = (
    "title",
    "description",
    "kind",
    "priority",
    "owner",
    "due_date",
    "status",
    "wont_do_reason",
    "tracker_url",
)
"""What people write on an action item (every service here takes these; the API shows them in this order)."""


def action_item_due_date_check(due_date: date | None, *, confirm_past_due: bool, now: datetime) -> None:
    """Refuse a due date before today (a UTC date, ``postmortems.querysets``) unless the caller confirms it.

    An item due in the past is overdue the moment it is saved, so its
    reminders and the team's digest start at once: a typo (2020 for 2026)
    must not do that silently. ``confirm_past_due`` is the person saying it
    really is already late. Raises ValidationError naming ``due_date``.
    """
    today = due_date_today(now)
    if due_date is not None and due_date < today and not confirm_past_due:
        raise ValidationError(
            {
                "due_date": f"{due_date:%Y-%m-%d} is in the past (today is {today:%Y-%m-%d} UTC), so the item would "
                "be overdue at once. Choose a later date, or confirm that it is already overdue."
            }
        )


def _action_item_save(item: ActionItem, *, actor: User | None, source: str, verb: str, fields: list[str]) -> None:
    if item.status == ActionItem.Status.WONT_DO and not item.wont_do_reason.strip():
        raise ValidationError({"wont_do_reason": "Say why this action item won't be done."})
    item.full_clean(exclude=["postmortem", "owner"])
    item.save(expect_version=item.version if item.pk else None)
    postmortem_timeline_append(
        item.postmortem.incident_id,
        f"Action item {verb}: {item.title} ({item.get_status_display().lower()})",
        actor=actor,
        source=source,
        data={"action_item_id": item.pk, "changed": fields},
    )


@transaction.atomic
def action_item_create(
    *, postmortem: PostMortem, actor: User | None, source: str, confirm_past_due: bool = False, **fields
) -> ActionItem:
    """Add an action item to ``postmortem``; logged on the incident's timeline.

    ``fields`` are among ACTION_ITEM_FIELDS. Without an ``owner`` the item is
    owned by the post-mortem's owner. Raises ValidationError naming the field
    (a ``wont_do`` item needs a reason; a due date in the past needs
    ``confirm_past_due``: ``action_item_due_date_check``).
    """
    unknown = set(fields) - set(ACTION_ITEM_FIELDS)
    if unknown:
        raise ValidationError({field: "Not an action item field." for field in sorted(unknown)})
    require_postmortem_write(actor, postmortem)
    item = ActionItem(postmortem=postmortem, **fields)
    action_item_due_date_check(item.due_date, confirm_past_due=confirm_past_due, now=timezone.now())
    item.owner = item.owner or postmortem.owner
    _action_item_save(item, actor=actor, source=source, verb="added", fields=sorted(fields))
    return item


@transaction.atomic
def action_item_update(
    *,
    action_item_id: int,
    actor: User | None,
    source: str,
    based_on: BasedOn | None = None,
    confirm_past_due: bool = False,
    **changes,
) -> ActionItem:
    """Change some fields of an action item; no-op when nothing changes. Raises ValidationError naming the field.

    ``based_on``: the version the editor read; an edit of an older version is merged or refused as
    ``postmortem_update`` says (``sredesk.versions.merge_edit``).
    Clearing the owner gives the item back to the post-mortem's owner; a due
    date moved into the past needs ``confirm_past_due`` (an unchanged past
    due date does not: editing a late item's title is fine).
    """
    unknown = set(changes) - set(ACTION_ITEM_FIELDS)
    if unknown:
        raise ValidationError({field: "Not an action item field." for field in sorted(unknown)})
    item = ActionItem.objects.select_for_update().select_related("postmortem").get(pk=action_item_id)
    require_write(actor, item)
    changes = merge_edit(item, changes, based_on)
    changed = [field for field, value in changes.items() if getattr(item, field) != value]
    if not changed:
        return item
    if "owner" in changed and changes["owner"] is None:  # no owner: the post-mortem's
        changes["owner"] = item.postmortem.owner
        changed = [field for field in changed if getattr(item, field) != changes[field]]
        if not changed:
            return item
    if "due_date" in changed:
        action_item_due_date_check(changes["due_date"], confirm_past_due=confirm_past_due, now=timezone.now())
    for field in changed:
        setattr(item, field, changes[field])
    _action_item_save(item, actor=actor, source=source, verb="updated", fields=changed)
    return item


@transaction.atomic
def action_item_delete(*, action_item_id: int, actor: User | None, source: str) -> None:
    """Delete an action item (its regression tests stay, unattached); logged on the incident's timeline."""
    item = ActionItem.objects.select_for_update().select_related("postmortem").get(pk=action_item_id)
    require_write(actor, item)
    postmortem_timeline_append(
        item.postmortem.incident_id,
        f"Action item deleted: {item.title}",
        actor=actor,
        source=source,
        data={"action_item_id": item.pk},
    )
    item.delete()


@transaction.atomic
def action_item_set_status(
    *, action_item_id: int, status: str, reason: str = "", actor: User | None, source: str = Source.WEB
) -> ActionItem:
    """Move an action item to ``status``; ``wont_do`` needs a reason. No-op when nothing changes.

    The change is logged on the incident's timeline. Raises ValidationError
    naming the field (``status`` for an unknown one, ``wont_do_reason`` for a
    won't-do without a reason).
    """
    if status not in ActionItem.Status.values:
        raise ValidationError({"status": f"Status must be one of {', '.join(ActionItem.Status.values)}."})
    reason = reason.strip()
    if status == ActionItem.Status.WONT_DO and not reason:
        raise ValidationError({"wont_do_reason": "Say why this action item will not be done."})
    item = ActionItem.objects.select_for_update().select_related("postmortem").get(pk=action_item_id)
    require_write(actor, item)
    new_reason = reason if status == ActionItem.Status.WONT_DO else ""
    if item.status == status and item.wont_do_reason == new_reason:
        return item
    before = item.get_status_display()
    item.status, item.wont_do_reason = status, new_reason
    item.save(update_fields=["status", "wont_do_reason", "updated_at"])
    why = f": {reason}" if new_reason else ""
    postmortem_timeline_append(
        item.postmortem.incident_id,
        f"Action item “{item.title}”: {before.lower()} → {item.get_status_display().lower()}{why}",
        actor=actor,
        source=source,
        data={"action_item_id": item.pk, "from": before, "to": status},
    )
    return item
