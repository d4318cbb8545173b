"""The database itself refuses incidents whose timestamps are out of order."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from incidents.models import Incident, TimelineEvent
from tests.factories import IncidentFactory

T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)


def minutes(n: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"started_at": minutes(10), "detected_at": minutes(0)},
        {"detected_at": minutes(10), "acknowledged_at": minutes(5), "status": "acknowledged"},
        {"detected_at": minutes(10), "mitigated_at": minutes(5), "status": "mitigated"},
        {"detected_at": minutes(10), "resolved_at": minutes(5), "status": "resolved"},
        {"detected_at": minutes(0), "mitigated_at": minutes(30), "resolved_at": minutes(20), "status": "resolved"},
        {"detected_at": minutes(0), "status": "resolved"},
        {"detected_at": minutes(0), "status": "acknowledged"},
        {"detected_at": minutes(0), "severity": 9},
    ],
    ids=[
        "detected-before-started",
        "acknowledged-before-detected",
        "mitigated-before-detected",
        "resolved-before-detected",
        "resolved-before-mitigated",
        "resolved-without-time",
        "acknowledged-without-time",
        "sev9",
    ],
)
def test_database_refuses_out_of_order_incident(fields):
    values = {"started_at": T0, **fields}
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(title="Checkout errors", **values)
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_database_refuses_an_update_that_breaks_the_order():
    incident = IncidentFactory(started_at=T0, detected_at=minutes(5))
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(resolved_at=minutes(1), status="resolved")
    incident.refresh_from_db()
    assert incident.resolved_at is None


@pytest.mark.django_db
def test_recovery_before_acknowledgement_is_allowed():
    """Impact can end before anyone acknowledges: mitigated (even resolved) with no acknowledgement, and a
    mitigation recorded before the acknowledgement, are both stored as given."""
    unacknowledged = IncidentFactory(
        started_at=T0, detected_at=minutes(1), mitigated_at=minutes(3), resolved_at=minutes(4), status="resolved"
    )
    mitigated_first = IncidentFactory(
        started_at=T0,
        detected_at=minutes(1),
        mitigated_at=minutes(3),
        acknowledged_at=minutes(5),
        resolved_at=minutes(10),
        status="resolved",
    )

    unacknowledged.refresh_from_db()
    mitigated_first.refresh_from_db()
    assert (unacknowledged.status, unacknowledged.acknowledged_at, unacknowledged.resolved_at) == (
        "resolved",
        None,
        minutes(4),
    )
    assert unacknowledged.mtta_seconds is None and unacknowledged.mttr_seconds == 240
    assert (mitigated_first.mitigated_at, mitigated_first.acknowledged_at) == (minutes(3), minutes(5))
    assert mitigated_first.time_to_mitigate_seconds == 180 and mitigated_first.mtta_seconds == 240


@pytest.mark.django_db
def test_timeline_events_are_append_only():
    incident = IncidentFactory()
    event = TimelineEvent.objects.create(incident=incident, kind=TimelineEvent.Kind.NOTE, message="Rolled back")
    event.message = "Rewritten history"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    event.refresh_from_db()
    assert event.message == "Rolled back"
