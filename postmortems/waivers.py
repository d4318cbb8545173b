"""Not testable: a post-mortem that can owe no regression test, with a reason, by its team lead's leave.

Some failures have no test that could catch them coming back (a one-off
vendor outage, a deleted cloud account). A writer of the post-mortem asks
(``regression_test_waiver_request``, with a reason: the same rule as a
declined post-mortem's, ``decline.clean_reason``); the owning team's lead is
asked through a notification with Approve and Reject buttons; the lead (or
staff: ``ownership.permissions.may_approve_waiver``) decides
(``regression_test_waiver_decide``), once. An approved waiver stops the
regression-test reminders (``querysets.waived_q``) and lets the post-mortem
complete without a test. Each step is on the incident's timeline.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from notifications.base import Button
from notifications.services import notify
from ownership.models import User
from ownership.permissions import require_approve_waiver

from .decline import clean_reason
from .models import PostMortem, RegressionTestWaiver
from .reminders.settle import reminders_settle
from .writes import postmortem_timeline_append, require_postmortem_write

# The buttons on the request the lead receives (value: the waiver's pk), answered by the Slack app.
APPROVE, REJECT = "reminder.waiver.approve", "reminder.waiver.reject"

Status = RegressionTestWaiver.Status


def _detail_url(postmortem: PostMortem) -> str:
    return settings.SREDESK_BASE_URL + reverse("postmortems:detail", args=[postmortem.pk])


@transaction.atomic
def regression_test_waiver_request(
    *, postmortem_id: int, reason: str, actor: User | None, source: str
) -> tuple[RegressionTestWaiver, bool]:
    """Ask the owning team's lead to let the post-mortem owe no regression test. Returns (waiver, created).

    An approved waiver, or a pending request, is returned as it is (created
    False: a double submit asks once). The lead is notified after commit
    (Slack with Approve / Reject buttons, and the outbox). Raises
    ValidationError (``reason``) for an empty or over-long reason or when the
    owning team has no lead to ask; PermissionDenied for someone who may not
    write to the post-mortem.
    """
    reason = clean_reason(reason, empty="Say why no test can catch this failure coming back.")
    postmortem = (
        PostMortem.objects.select_for_update(of=("self",)).select_related("incident__owning_team").get(pk=postmortem_id)
    )
    require_postmortem_write(actor, postmortem)
    existing = postmortem.waivers.filter(status__in=[Status.PENDING, Status.APPROVED]).first()
    if existing is not None:
        return existing, False
    team = postmortem.incident.owning_team
    lead = team.lead if team is not None else None
    if lead is None:
        raise ValidationError(
            {"reason": "The owning team has no lead to approve this: ask an admin to name one, or link a test."}
        )
    try:
        with transaction.atomic():
            waiver = RegressionTestWaiver.objects.create(postmortem=postmortem, reason=reason, requested_by=actor)
    except IntegrityError:  # a concurrent request asked first
        return postmortem.waivers.get(status=Status.PENDING), False
    incident = postmortem.incident
    postmortem_timeline_append(
        incident.pk,
        f"Not testable, asked {lead} to approve: {reason}",
        actor=actor,
        source=source,
        data={"postmortem_id": postmortem.pk, "waiver_id": waiver.pk},
    )
    text = (
        f"{actor or 'sredesk'} says no regression test can catch {incident.public_id} ({incident.title}) "
        f"coming back: {reason}\nApprove, and the post-mortem owes no test; reject, and the reminders go on."
    )
    value = str(waiver.pk)
    notify(
        key=f"waiver-request:{waiver.pk}",
        topic=incident.public_id,
        subject=f"{incident.public_id}: not testable?",
        text=text,
        url=_detail_url(postmortem),
        slack=[lead.slack_user_id],
        outbox=[f"user:{lead.username}"],
        buttons=(Button("Approve", APPROVE, value, style="primary"), Button("Reject", REJECT, value, style="danger")),
    )
    return waiver, True


@transaction.atomic
def regression_test_waiver_decide(
    *, waiver_id: int, approve: bool, actor: User | None, source: str
) -> tuple[RegressionTestWaiver, bool]:
    """Approve or reject a pending "not testable" request. Returns (waiver, decided).

    Decided once: a second click, or another approver, gets (waiver, False)
    with the first decision, its person and time. The requester is told
    after commit. Raises PermissionDenied for anyone but the owning team's
    lead and staff (``may_approve_waiver``).
    """
    waiver = (
        RegressionTestWaiver.objects.select_for_update(of=("self",))
        .select_related("postmortem__incident__owning_team", "requested_by", "decided_by")
        .get(pk=waiver_id)
    )
    postmortem = waiver.postmortem
    require_approve_waiver(actor, postmortem)
    if waiver.status != Status.PENDING:
        return waiver, False
    waiver.status = Status.APPROVED if approve else Status.REJECTED
    waiver.decided_by, waiver.decided_at = actor, timezone.now()
    waiver.save(update_fields=["status", "decided_by", "decided_at"])
    incident = postmortem.incident
    verdict = "approved: the post-mortem owes no regression test" if approve else "rejected: a regression test is owed"
    postmortem_timeline_append(
        incident.pk,
        f"Not testable {verdict} ({waiver.reason})",
        actor=actor,
        source=source,
        data={"postmortem_id": postmortem.pk, "waiver_id": waiver.pk, "status": waiver.status},
    )
    if approve:
        reminders_settle(
            postmortem_id=postmortem.pk,
            settled_by="waived",
            who=actor,
            how=f"not testable approved ({waiver.reason}); no regression test is owed",
        )
    requester = waiver.requested_by
    if requester is not None:
        notify(
            key=f"waiver-decision:{waiver.pk}",
            topic=incident.public_id,
            subject=f"{incident.public_id}: not testable {waiver.get_status_display().lower()}",
            text=f"{actor or 'sredesk'} {verdict} for {incident.public_id} ({incident.title}).",
            url=_detail_url(postmortem),
            slack=[requester.slack_user_id],
            outbox=[f"user:{requester.username}"],
        )
    return waiver, True
