"""Celery tasks: thin wrappers over ``oncall.escalation`` and ``oncall.handoffs``."""

from celery import shared_task
from django.utils import timezone

from .escalation import escalations_plan
from .handoffs import handoffs_plan


@shared_task(name="oncall.escalations_plan")
def escalations_plan_task() -> int:
    """Beat entry: write the pages due now (each once; see ``oncall.escalation``). Returns how many."""
    return escalations_plan(now=timezone.now())


@shared_task(name="oncall.handoffs_plan")
def handoffs_plan_task() -> int:
    """Beat entry: hand-off and "on call in 24 h" notices now due (each once; see ``oncall.handoffs``)."""
    return handoffs_plan(now=timezone.now())
