"""The reminder loop: what is owed, to whom, when; planned once, delivered once, never lost.

Shape: beat ticks, the database decides, a ledger row dedupes, a
compare-and-set claims, one task per delivery sends.

What is reminded (``Reminder.Kind``):

* ``no_regression_test``: a published post-mortem with no accepted regression
  test (``verified``, or ``linked`` where the service's CI does not report);
* ``test_regressed``: a published or complete post-mortem whose regression test
  turned ``failing`` or ``missing`` (each regression starts a new cycle);
* ``overdue_draft``: a draft or in-review post-mortem past its due date;
* ``overdue_action_item``: an open action item past its due date (one ledger
  per item, ``subject_key="action-item:<id>"``), counted from 00:00 UTC after it.

Which post-mortems and items owe what is decided by ``postmortems.querysets``
(the one home of those rules and of "today" for a due date).

Each debt has a start (``since``) and a cadence of steps after it
(``SREDESK_REMINDER_CADENCE_SECONDS``, then every ``SREDESK_REMINDER_REPEAT_SECONDS``). The
owner is reminded from step 0, the owning team's lead too from
``SREDESK_REMINDER_LEAD_FROM_STEP``, the team's Slack channel from
``SREDESK_REMINDER_TEAM_CHANNEL_FROM_STEP``. After ``SREDESK_REMINDER_MAX_PER_PERSON`` steps
personal reminders stop and the post-mortem goes into the team's weekly
digest (to the team channel and the lead) until it is fixed: the pushing
never silently ends. A person is reminded inside their working hours only
(``ownership.hours``): a delivery due at night is held (``not_before``) until
the next opening. Snoozed post-mortems are skipped until the snooze ends.

While an incident's primary service is under its team's error-budget policy
(``slos.policy``: one of its SLOs has spent its budget, down to the team's
threshold), every debt of the post-mortem escalates ``reminder_steps_sooner``
steps ahead: step ``n + k`` falls at the usual time of step ``n``. The steps
jumped over are never owed (no ledger row, unlike a step missed while no sweep
ran), and a debt never goes back to an earlier step when the policy is lifted.

Planning is set-based (a fixed number of queries whatever the number of
post-mortems) and idempotent under concurrency: reminders are unique per
(post-mortem, kind, subject, cycle, step) and deliveries per (reminder,
recipient, channel); rows are inserted with ON CONFLICT DO NOTHING inside one
transaction, so two sweeps or two beats plan each step once, and a sweep that
dies plans nothing half-way. Delivery is at-least-once, with one named window
for a duplicate: see ``notifications.delivery``.

Modules: ``due`` (what is due: kinds, cadence), ``planning`` (ledger rows and
deliveries; "send reminder now"), ``sweep`` (the beat's tick and the weekly
digest), ``delivery`` (one delivery's text, obsolescence and sending). Import
from the package: the names below are its interface.
"""

from .delivery import reminder_deliver, reminder_message, reminder_obsolete_reason
from .due import Due, cadence_step, due_reminder_chunks, due_reminders
from .planning import SendNowResult, planned_keys, reminders_send_now
from .sweep import (
    SWEEP_HEARTBEAT,
    SweepResult,
    plan_due,
    reminders_digest,
    reminders_plan_due,
    reminders_release,
    reminders_requeue_stuck,
    reminders_sweep,
    sweep_figures,
)

__all__ = [
    "SWEEP_HEARTBEAT",
    "Due",
    "SendNowResult",
    "SweepResult",
    "cadence_step",
    "due_reminder_chunks",
    "due_reminders",
    "plan_due",
    "planned_keys",
    "reminder_deliver",
    "reminder_message",
    "reminder_obsolete_reason",
    "reminders_digest",
    "reminders_plan_due",
    "reminders_release",
    "reminders_requeue_stuck",
    "reminders_send_now",
    "reminders_sweep",
    "sweep_figures",
]
