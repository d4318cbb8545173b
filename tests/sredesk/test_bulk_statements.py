"""Django's bulk operations on PostgreSQL stay under its 65,535 parameters a statement (``sredesk.postgresql``).

Django batches ``bulk_update`` and the ``IN`` lists of cascading deletes only where the backend reports a
limit, and its PostgreSQL backend reports none (``bulk_create`` binds one array per column there since
Django 5.2): an update of thousands of rows, or a cascade over as many, was one statement past the limit.
"""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from incidents.models import TimelineEvent
from sredesk.postgresql.base import MAX_PARAMETERS
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_a_bulk_update_past_the_parameter_limit_is_split_into_statements_under_it(requires_postgres):
    incident = IncidentFactory()
    at = timezone.now()
    events = [
        TimelineEvent(incident=incident, kind=TimelineEvent.Kind.NOTE, message=f"note {n}", at=at + dt.timedelta(n))
        for n in range(6_000)
    ]
    sizes: list[int] = []

    def record(execute, sql, params, many, context):
        sizes.append(len(params or ()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        TimelineEvent.objects.bulk_create(events)
        TimelineEvent.objects.filter(incident=incident).update(message="")
        # A WHEN/THEN pair per field and row, and the row's id: 11 parameters a row, 66,000 in all.
        TimelineEvent.objects.bulk_update(events, ["message", "at", "kind", "source", "announcement"])

    assert TimelineEvent.objects.filter(incident=incident, message__startswith="note ").count() == 6_000
    assert sum(sizes) > 65_535  # the work really was past the limit
    assert max(sizes) <= 65_535
    assert connection.ops.bulk_batch_size(["a"] * 10, range(100_000)) == MAX_PARAMETERS // 10
