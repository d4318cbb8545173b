"""Sending one reminder delivery: its text, whether it is still needed, and enqueueing deliveries."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from notifications.base import Button, Message
from notifications.delivery import deliver
from slos.policy import policy_effect

from ..models import ActionItem, PostMortem, RegressionTest, Reminder, ReminderDelivery
from .due import Due, Kind, due_reminders

# A reminder's buttons (``action_id``s; the value is the post-mortem's pk), answered by the Slack app's handlers:
# each opens a modal that settles the reminder where it arrived.
LINK_TEST, SNOOZE, NOT_TESTABLE, OPEN = (
    "reminder.link_test",
    "reminder.snooze",
    "reminder.not_testable",
    "reminder.open",
)


def reminder_buttons(kind: str, postmortem_id: int, url: str) -> tuple[Button, ...]:
    """What the reader of a reminder of ``kind`` can do from it: link a regression test, snooze, say the
    failure is not testable (regression-test kinds), and open the post-mortem (every kind)."""
    value = str(postmortem_id)
    buttons = []
    if kind in (Kind.NO_REGRESSION_TEST, Kind.TEST_REGRESSED):
        buttons.append(Button("Link regression test…", LINK_TEST, value, style="primary"))
    if kind != Kind.OVERDUE_ACTION_ITEM:
        buttons.append(Button("Snooze…", SNOOZE, value))
    if kind == Kind.NO_REGRESSION_TEST:
        buttons.append(Button("Not testable…", NOT_TESTABLE, value))
    buttons.append(Button("Open post-mortem", OPEN, value, url=url))
    return tuple(buttons)


def _enqueue(delivery_ids: list[int]) -> None:
    from ..tasks import reminder_deliver_task

    for delivery_id in delivery_ids:
        reminder_deliver_task.delay(delivery_id)


def reminder_obsolete_reason(reminder: Reminder) -> str:
    """Why ``reminder`` should no longer be sent ("" if it still should). Read at send time, not plan time."""
    now = timezone.now()
    postmortem = PostMortem.objects.get(pk=reminder.postmortem_id)
    if postmortem.snoozed_until and postmortem.snoozed_until > now:
        return f"snoozed until {postmortem.snoozed_until:%Y-%m-%d %H:%M} UTC"
    later = (
        Reminder.objects.filter(
            postmortem_id=reminder.postmortem_id,
            kind=reminder.kind,
            subject_key=reminder.subject_key,
            cycle=reminder.cycle,
            step__gt=reminder.step,
        )
        .order_by("-step")
        .values_list("step", flat=True)
        .first()
    )
    if later is not None:  # e.g. held over a weekend while the next step fell due: send only the newest
        return f"superseded by reminder step {later + 1}"
    current = {d.key for d in due_reminders(now=now, postmortem_id=postmortem.pk)}
    if not any(k[1:4] == (reminder.kind, reminder.subject_key, reminder.cycle) for k in current):
        if postmortem.waivers.filter(status="approved").exists():
            return "the team lead approved that no regression test is owed (not testable)"
        return {
            Kind.NO_REGRESSION_TEST: "post-mortem has a verified regression test",
            Kind.TEST_REGRESSED: "regression test is passing again",
            Kind.OVERDUE_DRAFT: "post-mortem is published",
            Kind.OVERDUE_ACTION_ITEM: "action item is done",
        }.get(reminder.kind, "no longer owed")
    return ""


def _what(due: Due) -> str:
    """What is missing, in a few words."""
    if due.kind == Kind.OVERDUE_DRAFT:
        return f"post-mortem draft overdue since {due.postmortem_due_at:%Y-%m-%d}"
    if due.kind == Kind.OVERDUE_ACTION_ITEM:
        return f"action item “{due.action_item.title}” overdue since {due.action_item.due_date:%Y-%m-%d}"
    if due.kind == Kind.TEST_REGRESSED:
        return "its regression test is failing or missing in CI"
    return "no regression test verified in CI"


def reminder_message(delivery: ReminderDelivery) -> Message:
    """The text of one reminder: exactly what is missing, the link where it is fixed, the buttons that settle it
    from Slack (``reminder_buttons``), and, while the service is under its team's error-budget policy, why it
    comes sooner (``slos.policy``)."""
    reminder = delivery.reminder
    pm = reminder.postmortem
    incident = pm.incident
    detail = settings.SREDESK_BASE_URL + reverse("postmortems:detail", args=[pm.pk])
    item = None
    if reminder.kind == Kind.OVERDUE_DRAFT:
        text = f"{incident.public_id} post-mortem draft is overdue (due {pm.due_at:%Y-%m-%d}): publish it at {detail}"
    elif reminder.kind == Kind.OVERDUE_ACTION_ITEM:
        item = ActionItem.objects.select_related("owner").get(pk=int(reminder.subject_key.split(":")[1]))
        where = item.tracker_url or detail
        text = f"{incident.public_id} action item “{item.title}” is overdue (due {item.due_date:%Y-%m-%d}): {where}"
    elif reminder.kind == Kind.TEST_REGRESSED:
        bad = pm.regression_tests.filter(
            state__in=[RegressionTest.State.FAILING, RegressionTest.State.MISSING]
        ).values_list("test_id", "state")
        names = ", ".join(f"{test_id} ({state})" for test_id, state in bad)
        text = f"{incident.public_id} regression test no longer passes in CI: {names}. Fix it: {detail}"
    else:
        link = settings.SREDESK_BASE_URL + reverse("postmortems:link_test", args=[pm.pk])
        states = sorted(set(pm.regression_tests.values_list("state", flat=True)))
        if states:
            text = (
                f"{incident.public_id} post-mortem has no regression test verified in CI yet "
                f"(linked: {', '.join(states)}): see {detail}"
            )
        else:
            text = f"{incident.public_id} post-mortem has no regression test: link one at {link}"
    sent_before = (
        Reminder.objects.filter(  # earlier steps that reached someone (not those superseded)
            postmortem_id=reminder.postmortem_id,
            kind=reminder.kind,
            subject_key=reminder.subject_key,
            cycle=reminder.cycle,
            step__lt=reminder.step,
            deliveries__status=ReminderDelivery.Status.SENT,
        )
        .distinct()
        .count()
    )
    if sent_before:
        text += f" (reminder {sent_before + 1})"
    policy = policy_effect(incident.primary_service) if incident.primary_service_id else None
    if policy is not None:  # say why it comes sooner than the usual cadence
        text += f" (sooner under the error-budget policy: {policy.reason})"
    owner = (item.owner if item is not None else None) or pm.owner  # who owes this: the item's owner, else the pm's
    if delivery.recipient_team_id or (owner is not None and delivery.recipient_user_id != owner.pk):
        text = f"Escalation, owner {owner or 'unassigned'}: {text}"
    return Message(
        address=delivery.address,
        subject=f"{incident.public_id} ({incident.get_severity_display()}) {incident.title}",
        text=text,
        url=detail,
        dedup_key=f"reminder-delivery:{delivery.pk}",
        buttons=reminder_buttons(reminder.kind, pm.pk, detail),
    )


def reminder_deliver(*, delivery_id: int) -> str:
    """Send one reminder delivery if it is pending and still needed; see ``notifications.delivery.deliver``."""
    return deliver(
        ReminderDelivery.objects.select_related(
            "reminder__postmortem__incident__owning_team", "reminder__postmortem__incident__primary_service__team"
        ),
        delivery_id,
        build=reminder_message,
        obsolete=lambda delivery: reminder_obsolete_reason(delivery.reminder),
    )
