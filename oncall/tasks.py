"""Celery tasks: thin wrappers over ``oncall.escalation``, ``oncall.handoffs``, ``oncall.gaps``, ``oncall.swaps``."""

from celery import shared_task
from django.utils import timezone

from .escalation import escalations_plan
from .gaps import gaps_report
from .handoffs import handoffs_plan
from .swaps import swaps_expire


@shared_task(name="oncall.escalations_plan")
def escalations_plan_task() -> int:
    """Beat entry (every ``SREDESK_ESCALATION_PLAN_SECONDS``): write the pages due now (each once; see
    ``oncall.escalation``), then plan the hand-off and "on call in 24 h" notices now due (each once; see
    ``oncall.handoffs``; their keys make a repeat plan nothing). Returns how many pages it wrote."""
    now = timezone.now()
    pages = escalations_plan(now=now)
    handoffs_plan(now=now)
    return pages


@shared_task(name="oncall.schedules_sweep")
def schedules_sweep_task() -> int:
    """Beat entry (every 5 minutes): tell each team about its schedules' gaps in the next 14 days, once per
    (schedule, gap start) (``oncall.gaps``), and mark expired the swaps whose window began untaken
    (``oncall.swaps``). Idempotent. Returns how many gap notices it planned."""
    now = timezone.now()
    swaps_expire(now=now)
    return gaps_report(now=now)
