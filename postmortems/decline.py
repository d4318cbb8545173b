"""Post-mortems nobody needs: declined with a reason, re-opened, or never drafted (issue 15 item 2).

A post-mortem is never deleted. It is **declined** (a state of the workflow,
with a reason, on the incident's timeline) by the owning team
(``postmortem_decline``), and can be re-opened as a draft (``postmortem_reopen``).
A declined post-mortem owes nothing: no reminders, not counted as owed, debt
or open; figures count it on its own.

sredesk declines by itself in one case: an untouched draft (nobody wrote a
section, added an action item or linked a test) whose incident is downgraded
below ``SREDESK_POSTMORTEM_SEVERITIES`` (``postmortem_decline_if_not_needed``).
And an alert-made incident earns no draft at all when its integration says it
was too short, or nobody acknowledged it (``draft_needed``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from incidents.models import Incident, Source
from ownership.models import User
from ownership.permissions import require_write

from .models import PostMortem
from .services import POSTMORTEM_SECTIONS, InvalidPostMortemTransition
from .writes import postmortem_timeline_append

DECLINE_REASON_MAX_CHARS = 500


def clean_reason(reason: str, *, empty: str) -> str:
    """A person's reason for letting a post-mortem off (declining it, or waiving its test): whitespace folded.

    Raises ValidationError (``reason``) with ``empty`` when nothing is left, or when it is over
    ``DECLINE_REASON_MAX_CHARS`` characters.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": empty})
    if len(reason) > DECLINE_REASON_MAX_CHARS:
        raise ValidationError({"reason": f"At most {DECLINE_REASON_MAX_CHARS} characters."})
    return reason


@transaction.atomic
def postmortem_decline(*, postmortem_id: int, reason: str, actor: User | None, source: str) -> PostMortem:
    """Decline a draft or in-review post-mortem with a reason; logged on the incident's timeline.

    Idempotent: declining a declined post-mortem again changes nothing. Raises
    ValidationError (``reason``) for an empty or over-long reason, and
    InvalidPostMortemTransition (409) for a published or complete one (it was
    needed: someone wrote it).
    """
    reason = clean_reason(reason, empty="Say why nobody needs this post-mortem.")
    postmortem = PostMortem.objects.select_for_update(of=("self",)).select_related("incident").get(pk=postmortem_id)
    require_write(actor, postmortem)
    if postmortem.status == PostMortem.Status.DECLINED:
        return postmortem
    if not can_proceed(postmortem.decline):
        raise InvalidPostMortemTransition(
            f"Cannot decline the post-mortem of {postmortem.incident.public_id}: it is "
            f"{postmortem.get_status_display().lower()}; only a draft or one in review can be declined.",
            code="invalid_transition",
        )
    before = postmortem.status
    postmortem.decline(at=timezone.now())
    postmortem.decline_reason = reason
    postmortem.save()
    postmortem_timeline_append(
        postmortem.incident_id,
        f"Post-mortem declined: {reason}",
        actor=actor,
        source=source,
        data={"postmortem_id": postmortem.pk, "from": before, "to": postmortem.status, "reason": reason},
    )
    return postmortem


@transaction.atomic
def postmortem_reopen(*, postmortem_id: int, actor: User | None, source: str) -> PostMortem:
    """Re-open a declined post-mortem as a draft (its sections kept); logged. No-op unless declined."""
    postmortem = PostMortem.objects.select_for_update(of=("self",)).get(pk=postmortem_id)
    require_write(actor, postmortem)
    if postmortem.status != PostMortem.Status.DECLINED:
        return postmortem
    postmortem.reopen(at=timezone.now())
    postmortem.save()
    postmortem_timeline_append(
        postmortem.incident_id,
        "Post-mortem re-opened as a draft",
        actor=actor,
        source=source,
        data={"postmortem_id": postmortem.pk, "from": PostMortem.Status.DECLINED, "to": postmortem.status},
    )
    return postmortem


def postmortem_untouched(postmortem: PostMortem) -> bool:
    """Whether nobody wrote in the draft yet: no section but the copied timeline, no action item, no test."""
    written = any(getattr(postmortem, field).strip() for field in POSTMORTEM_SECTIONS if field != "timeline")
    return not written and not postmortem.action_items.exists() and not postmortem.regression_tests.exists()


def postmortem_decline_if_not_needed(*, incident: Incident, actor: User | None) -> PostMortem | None:
    """After a severity change: decline the incident's untouched draft if its severity no longer needs one.

    Returns the declined post-mortem, or None when nothing was declined (the
    severity still needs one, no draft, already moved on, or someone wrote in it).
    """
    if incident.severity in settings.SREDESK_POSTMORTEM_SEVERITIES:
        return None
    postmortem = PostMortem.objects.filter(incident=incident, status=PostMortem.Status.DRAFT).first()
    if postmortem is None or not postmortem_untouched(postmortem):
        return None
    needed = ", ".join(f"SEV{s}" for s in sorted(settings.SREDESK_POSTMORTEM_SEVERITIES))
    return postmortem_decline(
        postmortem_id=postmortem.pk,
        reason=f"Downgraded to {incident.get_severity_display()} before anyone wrote in it; "
        f"post-mortems are needed for {needed}.",
        actor=actor,
        source=Source.SYSTEM,
    )


def draft_needed(incident: Incident) -> tuple[bool, str]:
    """Whether a resolved incident earns a draft beyond its severity, and if not, why (a sentence).

    Incidents declared by people always do. One an integration opened does
    only if it lasted ``Integration.postmortem_min_duration_seconds`` (started
    to resolved) and, with ``postmortem_requires_ack``, a person acknowledged it.
    """
    integration = incident.integration
    if integration is None or incident.resolved_at is None:
        return True, ""
    lasted = (incident.resolved_at - incident.started_at).total_seconds()
    if lasted < integration.postmortem_min_duration_seconds:
        return False, (
            f"No post-mortem draft: the incident lasted {int(lasted)} s, under the "
            f"{integration.postmortem_min_duration_seconds} s that integration {integration.name} asks for."
        )
    if integration.postmortem_requires_ack and incident.acknowledged_at is None:
        return False, f"No post-mortem draft: nobody acknowledged it, and integration {integration.name} asks for that."
    return True, ""
