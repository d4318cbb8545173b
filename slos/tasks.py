"""Celery tasks: thin wrappers over ``slos.evaluate``."""

from celery import shared_task

from . import evaluate


@shared_task(name="slos.evaluate")
def slos_evaluate_task() -> dict:
    """Beat entry: recompute every SLO's state and send its burn alerts' changes. Returns the counts."""
    result = evaluate.evaluate()
    return {"evaluated": result.evaluated, "fired": result.fired, "resolved": result.resolved}
