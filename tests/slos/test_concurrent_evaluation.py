"""The kind of BR-19 for the SLO evaluation: two beats (or a redelivered task) evaluating the same instant at once
page once. Burn alerts enter through alert ingestion, whose identity and unique constraints make the second a repeat."""

import datetime as dt
import threading

import pytest
from django.db import connection

from incidents.models import Alert, Incident
from slos.evaluate import evaluate
from slos.models import BurnAlert, SLOState
from tests.factories import ServiceFactory, SLOFactory
from tests.slos.helpers import created, fill

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_evaluations_at_once_open_one_incident_with_one_alert(requires_postgres):
    slo = created(SLOFactory(service=ServiceFactory()), NOW - dt.timedelta(days=31))
    fill(slo, NOW - dt.timedelta(hours=1), 12, total=1000, bad=500)
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def run() -> None:
        try:
            start.wait(timeout=30)
            evaluate(NOW)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert Incident.objects.count() == 1
    fired = Alert.objects.filter(status=Alert.Status.FIRING)
    rules = list(fired.values_list("labels__rule", flat=True))
    assert len(rules) == len(set(rules))  # each rule fired once
    assert BurnAlert.objects.filter(slo=slo, firing=True).count() == fired.count() > 0
    assert SLOState.objects.filter(slo=slo).count() == 1
