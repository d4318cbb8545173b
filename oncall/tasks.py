"""Celery tasks: thin wrappers over ``oncall.escalation``."""

from celery import shared_task
from django.utils import timezone

from .escalation import escalations_plan


@shared_task(name="oncall.escalations_plan")
def escalations_plan_task() -> int:
    """Beat entry: write the pages due now (each once; see ``oncall.escalation``). Returns how many."""
    return escalations_plan(now=timezone.now())
