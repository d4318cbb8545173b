"""Celery tasks: thin wrappers over ``reports.histograms`` and ``reports.weekly``."""

from celery import shared_task
from django.utils import timezone

from .histograms import histograms_observe
from .weekly import weekly_summaries_send


@shared_task(name="reports.histograms_observe")
def histograms_observe_task() -> int:
    """Beat entry: count new response and loop-closure durations into /metrics' histograms, once. Returns how many."""
    return histograms_observe(now=timezone.now())


@shared_task(name="reports.weekly_summaries")
def weekly_summaries_task() -> int:
    """Beat entry (hourly): last ISO week's summary to each team's channel, once per team and week. Returns rows
    planned."""
    return weekly_summaries_send(now=timezone.now())
