"""The kind of BR-42 for the SLO evaluation: the burn alert is an optional side effect of recomputing the state.
When sending it fails, the state is still stored, and the next evaluation sends the alert, once."""

import datetime as dt

from incidents.models import Incident
from slos import alerts
from slos.evaluate import evaluate
from slos.models import BurnAlert, SLOState, Status
from tests.factories import ServiceFactory, SLOFactory
from tests.slos.helpers import created, fill

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


def test_a_failing_alert_send_leaves_the_state_stored_and_is_sent_by_the_next_evaluation(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    slo = created(SLOFactory(service=ServiceFactory()), NOW - dt.timedelta(days=31))
    fill(slo, NOW - dt.timedelta(hours=1), 12, total=1000, bad=500)
    real = alerts.send_changes

    def down(*args, **kwargs):
        raise ConnectionError("ingestion down")

    monkeypatch.setattr(alerts, "send_changes", down)
    with django_capture_on_commit_callbacks(execute=True):
        result = evaluate(NOW)
    assert result.fired == 0
    assert SLOState.objects.get(slo=slo).status != Status.OK  # the state is recomputed and stored regardless
    assert not Incident.objects.exists() and not BurnAlert.objects.filter(firing=True).exists()

    monkeypatch.setattr(alerts, "send_changes", real)
    with django_capture_on_commit_callbacks(execute=True):
        assert evaluate(NOW + dt.timedelta(minutes=1)).fired >= 1
    with django_capture_on_commit_callbacks(execute=True):
        assert evaluate(NOW + dt.timedelta(minutes=2)).fired == 0
    assert Incident.objects.count() == 1
