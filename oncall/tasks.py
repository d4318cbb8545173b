"""Celery tasks: thin wrappers over ``oncall.escalation``, ``oncall.handoffs`` and ``oncall.swaps``."""

from celery import shared_task
from django.utils import timezone

from .escalation import escalations_plan
from .handoffs import handoffs_plan
from .swaps import swaps_expire


@shared_task(name="oncall.escalations_plan")
def escalations_plan_task() -> int:
    """Beat entry (every ``SREDESK_ESCALATION_PLAN_SECONDS``): write the pages due now (each once; see
    ``oncall.escalation``), then plan the hand-off and "on call in 24 h" notices now due (each once; see
    ``oncall.handoffs``; their keys make a repeat plan nothing), and mark expired the swaps asked and not taken
    before their window began (``oncall.swaps``). Returns how many pages it wrote."""
    now = timezone.now()
    pages = escalations_plan(now=now)
    handoffs_plan(now=now)
    swaps_expire(now=now)
    return pages
