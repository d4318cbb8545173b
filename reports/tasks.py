"""Celery tasks: thin wrappers over ``reports.histograms``."""

from celery import shared_task
from django.utils import timezone

from .histograms import histograms_observe


@shared_task(name="reports.histograms_observe")
def histograms_observe_task() -> int:
    """Beat entry: count new response and loop-closure durations into /metrics' histograms, once. Returns how many."""
    return histograms_observe(now=timezone.now())
