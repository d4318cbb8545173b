"""reports.figures against a fixture computed by hand (every number below is worked out in its comment)."""

import datetime as dt
import sqlite3

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Incident, Severity
from postmortems.models import PostMortem, RegressionTest
from reports.figures import report
from reports.period import Period
from sredesk.aggregates import SQLITE_PERCENTILE, _SQLitePercentile, percentile_cont
from tests.factories import (
    IncidentFactory,
    PostMortemFactory,
    RegressionTestFactory,
    ServiceFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db
UTC = dt.UTC
NOW = dt.datetime(2026, 11, 10, tzinfo=UTC)
PERIOD = Period(dt.datetime(2026, 11, 2, tzinfo=UTC), dt.datetime(2026, 11, 9, tzinfo=UTC))


def at(day: int, hour: int = 0, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def incident(service, severity, started, detected, ack=None, mitigated=None, resolved=None, team="service"):
    status = Incident.Status.RESOLVED if resolved else Incident.Status.ACKNOWLEDGED if ack else "triggered"
    return IncidentFactory(
        owning_team=service.team if team == "service" else team,
        primary_service=service,
        severity=severity,
        status=status,
        started_at=started,
        detected_at=detected,
        acknowledged_at=ack,
        mitigated_at=mitigated,
        resolved_at=resolved,
    )


def published(incident_, when) -> PostMortem:
    return PostMortemFactory(incident=incident_, status=PostMortem.Status.PUBLISHED, published_at=when)


def test_states(test: RegressionTest, *changes) -> None:
    """Move ``test`` through (state, instant) pairs, each saved (so kept in its history) as CI would."""
    for state, when in changes:
        test.state, test.state_changed_at = state, when
        test.save()


test_states.__test__ = False


@pytest.fixture
def world():
    pay = ServiceFactory(name="Payments API", slug="pay", team=TeamFactory(name="Payments", slug="payments"))
    search = ServiceFactory(name="Search", slug="search", team=TeamFactory(name="Search team", slug="search"))
    # Payments, SEV1 in the period: MTTA 600, 300, 1800 s; mitigate 2100, 3600 s; resolve 3600, 10800 s.
    i1 = incident(pay, Severity.SEV1, at(2, 10), at(2, 10, 5), at(2, 10, 15), at(2, 10, 35), at(2, 11))
    i2 = incident(pay, Severity.SEV1, at(3), at(3), at(3, 0, 5), at(3, 1), at(3, 3))
    incident(pay, Severity.SEV1, at(4), at(4, 0, 10), at(4, 0, 40))
    # Payments, SEV3: MTTA 120 s, resolve 1000 s (no mitigation recorded).
    i4 = incident(pay, Severity.SEV3, at(4, 12), at(4, 12), at(4, 12, 2), None, at(4, 12) + dt.timedelta(seconds=1000))
    # Before the period (detected 1 Nov 23:59): not counted; its post-mortem's test turns red in the period.
    i5 = incident(pay, Severity.SEV2, at(1, 23, 59), at(1, 23, 59), at(2), None, at(2, 1))
    i8 = incident(pay, Severity.SEV3, at(20, month=10), at(20, month=10), at(20, 1, month=10))
    # Search, SEV2: MTTA 60 s.
    i6 = incident(search, Severity.SEV2, at(6), at(6), at(6, 0, 1))
    # No team, no service: a last group.
    IncidentFactory(owning_team=None, primary_service=None, severity=Severity.SEV4, started_at=at(7), detected_at=at(7))

    # Payments post-mortems published in the period: P1, P2, P3.
    p1 = published(i1, at(2, 12))  # accepted 3 Nov 12:00: 86400 s after publication
    t1 = RegressionTestFactory(postmortem=p1, linked_at=at(2, 13))
    test_states(t1, ("verified", at(3, 12)))
    p2 = published(i2, at(3))  # accepted 3 Nov 06:00: 21600 s; red on 5 Nov 00:00, green 02:00 (7200 s)
    t2 = RegressionTestFactory(postmortem=p2, linked_at=at(3, 1))
    test_states(t2, ("verified", at(3, 6)), ("failing", at(5)), ("verified", at(5, 2)))
    t2.change_url = "https://git.example.test/pr/2"
    t2.save()  # an edit: a history row without a state change
    published(i4, at(4))  # P3: no test, owes one
    # P4 published before the period; its test goes missing on 6 Nov, then failing (one turn, still red).
    p4 = published(i5, at(20, month=10))
    t4 = RegressionTestFactory(postmortem=p4, linked_at=at(20, month=10))
    test_states(t4, ("verified", at(21, month=10)), ("missing", at(6)), ("failing", at(7)))
    # P5 declined in the period.
    PostMortemFactory(
        incident=i8, status=PostMortem.Status.DECLINED, declined_at=at(5), decline_reason="flapping alert"
    )
    # Search: published 6 Nov 00:00, its test verified on 5 Nov (before publication: 0 s).
    p6 = published(i6, at(6))
    t6 = RegressionTestFactory(postmortem=p6, linked_at=at(5))
    test_states(t6, ("verified", at(5, 1)))
    return {"pay": pay, "search": search}


def by_name(rows):
    return {row["group"]["name"]: row for row in rows}


def test_team_figures_match_the_hand_computed_ones(world):
    rows = by_name(report("team", PERIOD, now=NOW))
    assert list(rows) == ["Payments", "Search team", "(no team)"]
    pay = rows["Payments"]
    assert pay["group"] == {"kind": "team", "id": world["pay"].team_id, "slug": "payments", "name": "Payments"}
    assert pay["postmortems"] == {
        "published": 3,
        "declined": 1,
        "with_verified_test": 2,
        "owing_regression_test": 1,
        # median of 86400 and 21600 = 54000; p90 = 21600 + 0.9 × 64800 = 79920
        "published_to_verified_seconds": {"count": 2, "median": 54000.0, "p90": 79920.0},
    }
    # Two turns (t2 failing, t4 missing; t4's missing → failing is no new turn); t2 green 7200 s later.
    assert pay["regression_tests"] == {
        "turned_red": 2,
        "green_again": 1,
        "time_to_green_seconds": {"count": 1, "median": 7200.0, "p90": 7200.0},
    }
    sev1, sev2, sev3, sev4 = pay["incidents"]["by_severity"]
    assert pay["incidents"]["count"] == 4
    assert [s["severity"] for s in (sev1, sev2, sev3, sev4)] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert sev1["count"] == 3
    # MTTA 300, 600, 1800: mean 900, median 600, p90 600 + 0.8 × 1200 = 1560
    assert sev1["time_to_acknowledge_seconds"] == {"count": 3, "mean": 900.0, "median": 600.0, "p90": 1560.0}
    # mitigate 2100, 3600: p90 2100 + 0.9 × 1500 = 3450
    assert sev1["time_to_mitigate_seconds"] == {"count": 2, "mean": 2850.0, "median": 2850.0, "p90": 3450.0}
    # resolve 3600, 10800: p90 3600 + 0.9 × 7200 = 10080
    assert sev1["time_to_resolve_seconds"] == {"count": 2, "mean": 7200.0, "median": 7200.0, "p90": 10080.0}
    assert sev2["count"] == 0  # i5 was detected before the period
    assert sev2["time_to_acknowledge_seconds"] == {"count": 0, "mean": None, "median": None, "p90": None}
    assert sev3["time_to_acknowledge_seconds"] == {"count": 1, "mean": 120.0, "median": 120.0, "p90": 120.0}
    assert sev3["time_to_mitigate_seconds"]["count"] == 0
    assert sev3["time_to_resolve_seconds"]["median"] == 1000.0

    search = rows["Search team"]
    assert search["postmortems"]["published_to_verified_seconds"] == {"count": 1, "median": 0.0, "p90": 0.0}
    assert search["postmortems"]["with_verified_test"] == 1
    assert search["incidents"]["by_severity"][1]["time_to_acknowledge_seconds"]["median"] == 60.0
    assert rows["(no team)"]["incidents"]["by_severity"][3]["count"] == 1


def test_service_figures_and_one_service(world):
    rows = by_name(report("service", PERIOD, now=NOW))
    assert rows["Payments API"]["postmortems"]["published"] == 3
    assert rows["Payments API"]["regression_tests"]["turned_red"] == 2
    only = report("service", PERIOD, now=NOW, only=world["search"].pk)
    assert [row["group"]["slug"] for row in only] == ["search"]
    assert only[0]["incidents"]["count"] == 1


def test_the_previous_period_sees_what_came_before(world):
    rows = by_name(report("team", PERIOD.previous(), now=NOW))
    pay = rows["Payments"]
    # i8 detected 20 Oct 00:00 is not in 26 Oct..2 Nov; i5 at 1 Nov 23:59 is.
    assert pay["incidents"]["by_severity"][1]["count"] == 1
    assert pay["postmortems"]["published"] == 0


def test_query_count_is_flat_in_the_number_of_teams(world):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            report("team", PERIOD, now=NOW)
            report("service", PERIOD, now=NOW)
        return len(queries)

    before = count()
    for n in range(5):
        service = ServiceFactory()
        i = incident(service, Severity.SEV2, at(3), at(3), at(3, 0, 1), None, at(3, 2))
        test_states(RegressionTestFactory(postmortem=published(i, at(3, 3))), ("verified", at(4)))
    assert count() == before == 8


def test_sqlite_percentile_is_postgresqls_percentile_cont():
    values = [300.0, 1800.0, 600.0]
    assert percentile_cont(values, 0.5) == 600.0
    assert percentile_cont(values, 0.9) == pytest.approx(1560.0)
    assert percentile_cont([], 0.5) is None
    db = sqlite3.connect(":memory:")
    db.create_aggregate(SQLITE_PERCENTILE, 2, _SQLitePercentile)
    db.execute("CREATE TABLE t (g INTEGER, v REAL)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(1, 300), (1, 1800), (1, 600), (1, None), (2, 5)])
    rows = db.execute(f"SELECT g, {SQLITE_PERCENTILE}(v, 0.9) FROM t GROUP BY g ORDER BY g").fetchall()
    assert rows == [(1, pytest.approx(1560.0)), (2, 5.0)]
