"""``sredesk.sql``: hand-written SELECT/INSERT must read and write what the ORM does, on SQLite and PostgreSQL."""

import datetime as dt

import pytest
from django.db import connection

from incidents.models import Alert, Integration, TimelineEvent, WebhookDelivery
from sredesk import sql
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2024, 3, 10, 1, 30, 15, 123456, tzinfo=dt.UTC)


@pytest.fixture
def integration() -> Integration:
    integration = Integration(kind="alertmanager", name="am", severity_map={"critical": 1})
    integration.set_new_token()
    integration.save()
    return integration


def alert_row(integration: Integration, fingerprint: str, **changes) -> dict:
    row = {
        "integration_id": integration.pk,
        "fingerprint": fingerprint,
        "starts_at": T0,
        "ends_at": None,
        "status": "firing",
        "name": "Disk full",
        "labels": {"alertname": "DiskFull", "zone": "é"},
        "annotations": {},
        "generator_url": "",
        "group_key": "{}:{}",
        "incident_id": None,
        "first_seen_at": T0,
        "last_seen_at": T0,
        "times_seen": 1,
    }
    return row | changes


def test_insert_adapts_values_like_the_orm_and_returns_ids_in_row_order(integration):
    rows = [alert_row(integration, f"fp{i}", starts_at=T0 + dt.timedelta(minutes=i)) for i in (3, 1, 2)]
    ids = sql.insert(Alert, rows, returning="id")

    stored = {alert.pk: alert for alert in Alert.objects.all()}
    assert [stored[pk].fingerprint for pk in ids] == ["fp3", "fp1", "fp2"]
    alert = stored[ids[1]]
    assert (alert.starts_at, alert.labels, alert.ends_at) == (T0 + dt.timedelta(minutes=1), rows[1]["labels"], None)
    assert sql.insert(Alert, []) == []


def test_select_reads_a_subset_of_fields_in_any_order_as_the_orm_reads_them(integration):
    incident = IncidentFactory()
    [pk] = sql.insert(Alert, [alert_row(integration, "fp", incident_id=incident.pk)], returning="id")
    # Asked for in another order than the model declares them (a bug once: values landed in the wrong fields).
    [alert] = sql.select(Alert, "id = %s", [pk], fields=("labels", "times_seen", "name", "starts_at", "id"))
    expected = Alert.objects.get(pk=pk)
    assert (alert.pk, alert.name, alert.labels, alert.starts_at, alert.times_seen) == (
        expected.pk,
        "Disk full",
        {"alertname": "DiskFull", "zone": "é"},
        T0,
        1,
    )
    assert alert.get_deferred_fields() >= {"status", "incident_id"}
    assert alert.incident == incident  # a deferred field loads on access, as with .only()


def test_select_whole_rows_with_a_tail_and_converted_types(integration):
    [found] = sql.select(Integration, "public_id = %s AND enabled", [integration.public_id.hex], tail="LIMIT 1")
    assert found == integration
    assert (found.public_id, found.severity_map, found.enabled) == (integration.public_id, {"critical": 1}, True)
    assert found.check_token("wrong") is False
    assert sql.select(Integration, "name = %s", ["nobody"]) == []


def test_binary_and_json_columns_round_trip(integration):
    body = b'{"alerts": []}\x00\xff'
    row = {
        "integration_id": integration.pk,
        "received_at": T0,
        "body": body,
        "headers": {"User-Agent": "Alertmanager/0.27"},
        "outcome": "duplicate",
        "error": "",
        "result": {"alerts": {"repeated": 1}},
        "event_id": "",
    }
    [pk] = sql.insert(WebhookDelivery, [row], returning="id")
    stored = WebhookDelivery.objects.get(pk=pk)
    assert (bytes(stored.body), stored.headers, stored.result) == (body, row["headers"], row["result"])


def test_conflicting_rows_are_skipped_and_returning_names_those_inserted(integration, monkeypatch):
    """``ignore_conflicts`` (ON CONFLICT DO NOTHING) on each form of the statement: the JSON document (alerts)
    and VALUES lists cut to ``MAX_PARAMS`` (a binary column; lowered here so five rows take three statements)."""
    sql.insert(Alert, [alert_row(integration, "fp1")])
    rows = [alert_row(integration, fp) for fp in ("fp1", "fp2", "fp1", "fp3")]
    got = sql.insert(Alert, rows, returning=("id", "fingerprint"), ignore_conflicts=True)
    assert sorted(fp for _, fp in got) == ["fp2", "fp3"] and Alert.objects.count() == 3
    assert {pk for pk, _ in got} == set(Alert.objects.exclude(fingerprint="fp1").values_list("pk", flat=True))

    def delivery(event_id: str) -> dict:
        return {
            "integration_id": integration.pk,
            "received_at": T0,
            "body": b"{}",
            "headers": {},
            "outcome": "accepted",
            "error": "",
            "result": {},
            "event_id": event_id,
        }

    sql.insert(WebhookDelivery, [delivery("e1")])
    monkeypatch.setattr(sql, "MAX_PARAMS", 2 * len(delivery("")))
    got = sql.insert(
        WebhookDelivery,
        [delivery(e) for e in ("e1", "e2", "e3", "e4", "e5")],
        returning=("event_id",),
        ignore_conflicts=True,
    )
    assert got == [("e2",), ("e3",), ("e4",), ("e5",)]
    assert WebhookDelivery.objects.count() == 5


def test_an_unknown_field_is_refused_before_any_sql():
    with pytest.raises(LookupError, match="TimelineEvent has no concrete field 'nope'"):
        sql.insert(TimelineEvent, [{"nope": 1}])


def test_postgresql_prepares_the_statements_a_connection_repeats(requires_postgres, integration):
    """SREDESK_DB_PREPARED_STATEMENTS (on by default): PostgreSQL plans a repeated statement once per connection."""
    for _ in range(6):  # psycopg prepares a statement on its 5th run
        sql.select(Integration, "public_id = %s AND enabled", [integration.public_id])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%_integration%"])
        assert cursor.fetchone()[0] == 1


def test_postgresql_storage_of_the_busiest_webhook_tables(requires_postgres):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'incidents_alert'")
        assert cursor.fetchone()[0] == ["fillfactor=70"]
        cursor.execute(
            "SELECT attcompression FROM pg_attribute WHERE attrelid = 'incidents_webhookdelivery'::regclass "
            "AND attname = 'body'"
        )
        assert cursor.fetchone()[0] == "l"  # lz4


def test_many_rows_go_in_at_once_with_their_json_and_times(integration):
    """From MANY_ROWS rows without RETURNING, PostgreSQL takes them through COPY; SQLite through VALUES."""
    rows = [alert_row(integration, f"fp{i:04d}", labels={"n": str(i), "zone": "é"}) for i in range(sql.MANY_ROWS + 5)]
    assert sql.insert(Alert, rows) == []
    stored = {alert.fingerprint: alert for alert in Alert.objects.all()}
    assert len(stored) == sql.MANY_ROWS + 5
    assert (stored["fp0007"].labels, stored["fp0007"].starts_at) == ({"n": "7", "zone": "é"}, T0)
