"""Issue 13, kind of BR-15/BR-22: whichever writer commits first, the lifecycle times stay in order.

started ≤ detected ≤ acknowledged ≤ resolved and detected ≤ mitigated ≤ resolved,
for times from alerts, people, the API and the admin. A person's explicit time
out of order is refused naming the field; an alert's (or a defaulted) time is
placed at the nearest instant the order allows (``incidents.times``).
"""

import datetime as dt
import json
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import Incident, Source
from tests.factories import IncidentFactory, member_of
from tests.incidents.payloads import am_alert, am_payload

pytestmark = pytest.mark.django_db

S = Incident.Status
ORDER = [
    ("started_at", "detected_at"),
    ("detected_at", "acknowledged_at"),
    ("detected_at", "mitigated_at"),
    ("detected_at", "resolved_at"),
    ("acknowledged_at", "resolved_at"),
    ("mitigated_at", "resolved_at"),
]


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def split(name: str, value: dt.datetime) -> dict[str, str]:
    """The admin's date and time inputs for ``value`` (the operator reads UTC)."""
    utc = value.astimezone(dt.UTC)
    return {f"{name}_0": utc.strftime("%Y-%m-%d"), f"{name}_1": utc.strftime("%H:%M:%S")}


def assert_in_order(incident: Incident) -> None:
    incident.refresh_from_db()
    for earlier, later in ORDER:
        a, b = getattr(incident, earlier), getattr(incident, later)
        assert a is None or b is None or a <= b, f"{earlier} {a} > {later} {b}"
    moves = list(incident.timeline.filter(kind="status_change").order_by("id").values_list("at", flat=True))
    assert moves == sorted(moves), "the timeline's moves are out of order"


def fire(hook, minutes_ago: int = 10) -> Incident:
    """An alert that started ``minutes_ago`` minutes ago opens an incident (detected then)."""
    starts = timezone.now() - dt.timedelta(minutes=minutes_ago)
    assert hook.post(am_payload(am_alert("aaaa000000000001", starts=iso(starts)))).status_code == 200
    return Incident.objects.get()


def resolve_body(incident: Incident, minutes_ago: int) -> dict:
    """The alert's resolution, ended ``minutes_ago`` minutes ago (its ``endsAt``)."""
    ends = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return am_payload(am_alert("aaaa000000000001", "resolved", starts=iso(incident.started_at), ends=iso(ends)))


# --- one writer after the other (every database) ------------------------------------------------------


@pytest.mark.parametrize("move", ["acknowledge", "mitigate"])
def test_an_alert_resolution_ending_before_a_persons_move_is_recorded_after_it(hook, move):
    """The alert ended 5 minutes ago; a person acknowledged (or mitigated) just now, before the resolution
    arrived: the resolution is recorded at the person's time, never before it, and the alert's own time is kept
    on the timeline."""
    incident = fire(hook)
    person = member_of(incident.owning_team)
    services.TRANSITIONS[move](incident_id=incident.pk, actor=person, source=Source.WEB)

    assert hook.post(resolve_body(incident, minutes_ago=5)).status_code == 200

    incident.refresh_from_db()
    moved_at = incident.acknowledged_at if move == "acknowledge" else incident.mitigated_at
    assert incident.status == S.RESOLVED and incident.resolved_at == moved_at
    assert_in_order(incident)
    resolution = incident.timeline.get(data__to="resolved")
    assert resolution.at == moved_at
    if move == "acknowledge":  # the alert's own end is kept beside the time recorded
        assert dt.datetime.fromisoformat(resolution.data["requested_at"]) < moved_at


def test_a_defaulted_time_never_precedes_what_is_recorded():
    """A click with no time given ("now") that lands after another writer recorded a later instant (a clock
    running fast elsewhere) is placed at that instant, not refused."""
    incident = IncidentFactory(started_at=timezone.now() - dt.timedelta(hours=1))
    ahead = timezone.now() + dt.timedelta(seconds=30)  # what a web node with a fast clock recorded
    Incident.objects.filter(pk=incident.pk).update(status=S.ACKNOWLEDGED, acknowledged_at=ahead)

    services.incident_resolve(incident_id=incident.pk, actor=member_of(incident.owning_team), source=Source.SLACK)

    incident.refresh_from_db()
    assert incident.resolved_at == ahead
    assert_in_order(incident)


@pytest.mark.parametrize(
    ("source", "outcome"), [(Source.ALERT, "placed"), (Source.API, "refused"), (Source.ADMIN, "refused")]
)
def test_declare_places_an_alerts_detection_before_its_start_and_refuses_a_persons(source, outcome):
    detected = timezone.now() - dt.timedelta(minutes=30)
    started = detected + dt.timedelta(minutes=5)
    declare = {"title": "Checkout errors", "severity": 3, "actor": None, "source": source}
    if outcome == "refused":
        with pytest.raises(ValidationError) as refused:
            services.incident_declare(**declare, started_at=started, detected_at=detected)
        assert "started_at" in refused.value.message_dict["detected_at"][0]
        assert not Incident.objects.exists()
        return
    incident = services.incident_declare(**declare, started_at=started, detected_at=detected)
    assert (incident.started_at, incident.detected_at) == (started, started)


def test_the_admin_refuses_a_new_incident_started_after_its_detection_and_cannot_move_times_later(operator_client):
    add = reverse("admin:incidents_incident_add")
    detected = timezone.now() - dt.timedelta(hours=1)
    form = {
        "title": "Back-dated",
        "summary": "",
        "severity": 2,
        **split("detected_at", detected),
        **split("started_at", detected + dt.timedelta(minutes=10)),
        "side_effects-TOTAL_FORMS": 0, "side_effects-INITIAL_FORMS": 0,
        "cards-TOTAL_FORMS": 0, "cards-INITIAL_FORMS": 0,
        "timeline-TOTAL_FORMS": 0, "timeline-INITIAL_FORMS": 0,
        "alerts-TOTAL_FORMS": 0, "alerts-INITIAL_FORMS": 0,
    }  # fmt: skip

    refused = operator_client.post(add, form)
    assert refused.status_code == 200 and "must be at or after started_at" in refused.content.decode()
    assert not Incident.objects.exists()

    form.update(split("started_at", detected - dt.timedelta(minutes=10)))
    assert operator_client.post(add, form).status_code == 302
    incident = Incident.objects.get()
    assert incident.timeline.get().source == Source.ADMIN  # declared through the service
    change = operator_client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    assert 'name="detected_at_0"' not in change and 'name="started_at_0"' not in change


# --- the database enforces the whole order ------------------------------------------------------------


def test_the_database_refuses_a_resolution_before_the_acknowledgement():
    now = timezone.now()
    incident = IncidentFactory(started_at=now - dt.timedelta(hours=1), detected_at=now - dt.timedelta(hours=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(
            status=S.RESOLVED, acknowledged_at=now - dt.timedelta(minutes=5), resolved_at=now - dt.timedelta(minutes=10)
        )


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_existing_resolutions_up_to_their_acknowledgement():
    executor = MigrationExecutor(connection)
    before = [("incidents", "0009_drop_indexes_covered_by_composites")]
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps.get_model("incidents", "Incident")
        t0 = timezone.now() - dt.timedelta(hours=2)
        bad = old.objects.create(
            title="Stored by the race", status="resolved", started_at=t0, detected_at=t0,
            acknowledged_at=t0 + dt.timedelta(minutes=20), mitigated_at=t0 + dt.timedelta(minutes=4),
            resolved_at=t0 + dt.timedelta(minutes=5),
        )  # fmt: skip
        fine = old.objects.create(
            title="In order", status="resolved", started_at=t0, detected_at=t0,
            acknowledged_at=t0 + dt.timedelta(minutes=1), resolved_at=t0 + dt.timedelta(minutes=5),
        )  # fmt: skip
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    bad, fine = Incident.objects.get(pk=bad.pk), Incident.objects.get(pk=fine.pk)
    assert bad.resolved_at == bad.acknowledged_at == t0 + dt.timedelta(minutes=20)
    assert bad.mitigated_at == t0 + dt.timedelta(minutes=4)
    assert fine.resolved_at == t0 + dt.timedelta(minutes=5)


# --- two real concurrent transactions (PostgreSQL) ----------------------------------------------------


def _blocked_on_a_lock(timeout: float = 10.0) -> bool:
    """Whether another backend of this database waits for a row lock (polled from this test's connection)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("move", ["acknowledge", "mitigate"])
def test_a_persons_move_committing_just_before_an_alerts_resolution_keeps_the_order(requires_postgres, hook, move):
    """The person's transaction holds the incident's row while the webhook's resolution (its alert ended 5
    minutes ago, read before the person's move was visible) waits for it; the person commits first."""
    incident = fire(hook)
    person = member_of(incident.owning_team)
    moved, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    statuses: list[int] = []

    def person_moves() -> None:
        try:
            with transaction.atomic():
                services.TRANSITIONS[move](incident_id=incident.pk, actor=person, source=Source.WEB)
                moved.set()
                release.wait(timeout=20)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            moved.set()
        finally:
            close_old_connections()
            connection.close()

    def alert_resolves() -> None:
        try:
            response = Client().post(
                hook.url,
                data=json.dumps(resolve_body(incident, minutes_ago=5)),
                content_type="application/json",
                headers={"Authorization": f"Bearer {hook.token}"},
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    first = threading.Thread(target=person_moves)
    first.start()
    assert moved.wait(timeout=20) and not errors, errors
    second = threading.Thread(target=alert_resolves)
    second.start()
    assert _blocked_on_a_lock(), "the alert's resolution never waited for the person's transaction"
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)

    assert not errors and statuses == [200], (errors, statuses)
    incident.refresh_from_db()
    assert incident.status == S.RESOLVED
    assert incident.resolved_at == (incident.acknowledged_at if move == "acknowledge" else incident.mitigated_at)
    assert_in_order(incident)
