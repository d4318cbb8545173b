"""Benchmark: planning one reminder sweep over 100,000 post-mortems, 10% of them due, on PostgreSQL.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/sredesk_bench .venv/bin/python bench/sweep.py [--scale N]``
(works in the database ``sredesk_bench_sweep``; see ``bench/common.py``).

Data at ``--scale 1`` (every count below times N otherwise; INSERT ... SELECT generate_series, a few
seconds a 100,000): 200 teams, each with a lead
and a primary service, 2,000 owners, all with round-the-clock working hours;
100,000 resolved incidents with one post-mortem each (Markdown sections filled):

* 10,000 due: published 0, 1, 3, 7, 14 or 21 days ago (cadence steps 0 to 5), with no
  regression test, a ``linked`` one that CI has not verified, or a ``failing`` one
  (reminder cycle 1: a ``test_regressed`` reminder);
* 90,000 not due: complete (with or without a verified test), published with a
  verified test, published with a linked test on a service whose CI does not report
  (accepted), drafts due in 5 days, published but snoozed.

Each service has one evaluated SLO; the budget of services 1, 21, 41, … is exhausted, so
the post-mortems of their incidents (half of the due ones) are under the default
error-budget policy (``slos.policy``: reminded one cadence step sooner).

Measured: ``postmortems.reminders.reminders_plan_due(now=...)``, which creates the
10,000 due ``Reminder`` rows and their ``ReminderDelivery`` rows (outbox to the
owner, and to the team lead from step 2: about 16,700), one committed transaction
per window of ``SREDESK_REMINDER_PLAN_CHUNK`` post-mortem ids. Planning enqueues nothing
(``reminders_release`` does that later, and is not measured); the broker is
``memory://`` all the same. Its INFO log line per
reminder is formatted but written to /dev/null.

Ceiling: the same rows from two raw ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``
statements (reminders, then deliveries) in one committed transaction, the cadence
computed in SQL. Both sides must produce identical rows (checked on every run).

Reset before every run (untimed): TRUNCATE of the reminder tables. Each side runs
``--repeat`` times, interleaved; medians are compared. Goal: ratio (sweep / ceiling)
at most 2.

Printed besides (not compared): one whole ``reminders_sweep`` (the beat's tick: planning,
release of the deliveries due, digests, the figures for /metrics) with its
peak Python memory under tracemalloc, and the time ``/metrics`` takes to answer over the data.
"""

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

N_POSTMORTEMS = 100_000
N_TEAMS = 200
N_OWNERS = 2_000
STEP_DAYS = [0, 1, 3, 7, 14, 21]  # days since the debt began, for the due tenth: cadence steps 0..5

SECTION = "The payment gateway's retry budget was exhausted by a slow downstream dependency. "
TIMELINE = "- 10:02 UTC alert fired; 10:07 acknowledged; 10:31 mitigated by rolling back. "

LOAD_SQL = [
    """
    INSERT INTO ownership_team (id, name, slug, slack_channel)
    SELECT g, 'Team ' || g, 'team-' || g, 'C0TEAM' || g FROM generate_series(1, %(teams)s) g
    """,
    # Users 1..teams are the team leads, the rest are owners; all reachable around the clock.
    """
    INSERT INTO ownership_user (id, password, is_superuser, username, first_name, last_name, email, is_staff,
                                is_active, date_joined, timezone, work_start, work_end, working_days, slack_user_id)
    SELECT g, '!', false, 'person' || g, 'Person', g::text, 'person' || g || '@example.test', false,
           true, %(now)s, 'UTC', '00:00', '00:00', '1234567', ''
    FROM generate_series(1, %(teams)s + %(owners)s) g
    """,
    """
    INSERT INTO ownership_membership (team_id, user_id, role)
    SELECT CASE WHEN g <= %(teams)s THEN g ELSE (g %% %(teams)s) + 1 END, g,
           CASE WHEN g <= %(teams)s THEN 'lead' ELSE 'member' END
    FROM generate_series(1, %(teams)s + %(owners)s) g
    """,
    # Services 1..teams: CI reports tests; teams+1..2*teams: it does not (a linked test is enough).
    """
    INSERT INTO ownership_service (id, name, slug, description, team_id, tier, runbook_url, dashboard_url,
                                   alerts_url, ci_reports_tests, version)
    SELECT g, 'Service ' || g, 'service-' || g, '', ((g - 1) %% %(teams)s) + 1, 2, '', '', '', g <= %(teams)s, 1
    FROM generate_series(1, 2 * %(teams)s) g
    """,
    """
    INSERT INTO ownership_repository (id, name, url, default_branch, ci_token_hash, extra_counted_branches)
    VALUES (1, 'acme/platform', 'https://git.example.test/acme/platform', 'main', '', '')
    """,
    """
    INSERT INTO incidents_incident (id, title, summary, severity, status, started_at, detected_at, mitigated_at,
                                    resolved_at, primary_service_id, owning_team_id, created_at, updated_at,
                                    alert_group_key, version)
    SELECT g, 'Checkout errors ' || g, 'Customers saw 502s.', 2, 'resolved',
           %(now)s - interval '90 days', %(now)s - interval '90 days' + interval '5 minutes',
           %(now)s - interval '90 days' + interval '30 minutes', %(now)s - interval '90 days' + interval '1 hour',
           (g %% %(teams)s) + 1 + CASE WHEN g %% 10 = 7 THEN %(teams)s ELSE 0 END, (g %% %(teams)s) + 1,
           %(now)s, %(now)s, '', 1
    FROM generate_series(1, %(n)s) g
    """,
    # r = g % 10 decides the group (see the module docstring); for the due tenth (r = 0),
    # di picks how long ago the debt began and v the variant: 2 = regressed test, cycle 1.
    """
    INSERT INTO postmortems_postmortem (id, incident_id, owner_id, status, due_at, published_at, completed_at,
                                        reminder_cycle, reminder_cycle_started_at, snoozed_until, snooze_reason,
                                        summary, impact, trigger, root_cause, detection, resolution, went_well,
                                        went_wrong, got_lucky, timeline, source_url, created_at, updated_at,
                                        decline_reason, version)
    SELECT g, g, %(teams)s + 1 + (g %% %(owners)s),
           CASE WHEN r IN (1, 2, 3) THEN 'complete' WHEN r = 8 THEN 'draft' ELSE 'published' END,
           CASE WHEN r = 8 THEN %(now)s + interval '5 days' ELSE %(now)s - interval '80 days' END,
           CASE WHEN r = 8 THEN NULL
                WHEN r = 0 AND v <> 2 THEN since
                ELSE %(now)s - interval '85 days' END,
           CASE WHEN r IN (1, 2, 3) THEN %(now)s - interval '20 days' END,
           CASE WHEN r = 0 AND v = 2 THEN 1 ELSE 0 END,
           CASE WHEN r = 0 AND v = 2 THEN since END,
           CASE WHEN r = 9 THEN %(now)s + interval '3 days' END,
           CASE WHEN r = 9 THEN 'waiting for the vendor' ELSE '' END,
           %(section)s, %(section)s, %(section)s, repeat(%(section)s, 3), %(section)s, %(section)s,
           %(section)s, %(section)s, '', repeat(%(timeline)s, 8), '', %(now)s - interval '85 days', %(now)s, '', 1
    FROM (
        SELECT g, g %% 10 AS r, (g / 60) %% 4 AS v,
               %(now)s - make_interval(days => (%(step_days)s::int[])[(g / 10) %% 6 + 1]) - interval '1 hour' AS since
        FROM generate_series(1, %(n)s) g
    ) s
    """,
    # Regression tests: r=0 v=1 linked (CI has not verified it: still due), r=0 v=2 failing,
    # r in 1,2,4,5,6 verified, r=7 linked on a service whose CI does not report (accepted).
    """
    INSERT INTO postmortems_regressiontest (postmortem_id, repository_id, test_id, test_key, change_url, state,
                                            state_changed_at, linked_at)
    SELECT g, 1, 'tests/test_pm_' || g || '.py::test_regression',
           encode(sha256(convert_to('tests/test_pm_' || g || '.py::test_regression', 'UTF8')), 'hex'), '',
           CASE WHEN r = 0 AND v = 1 THEN 'linked' WHEN r = 0 THEN 'failing' WHEN r = 7 THEN 'linked'
                ELSE 'verified' END,
           %(now)s - interval '30 days', %(now)s - interval '30 days'
    FROM (SELECT g, g %% 10 AS r, (g / 60) %% 4 AS v FROM generate_series(1, %(n)s) g) s
    WHERE (r = 0 AND v IN (1, 2)) OR r IN (1, 2, 4, 5, 6, 7)
    """,
    # One SLO per service, evaluated; services 1, 21, 41, ... have exhausted budgets, so their post-mortems are under
    # the (default) error-budget policy: one cadence step sooner.
    """
    INSERT INTO slos_slo (id, slug, name, description, target, window_kind, window_days, timezone, sli_kind,
                          bucket_seconds, good_query, total_query, min_severity, measured_since, min_coverage,
                          alert_min_bad_events, absent_after_seconds, paused, created_at, updated_at, service_id)
    SELECT g, 'availability', 'Availability ' || g, '', 0.999, 'rolling', 30, 'UTC', 'events_pushed', 300, '', '',
           2, %(now)s - interval '60 days', 0.9, 10, 900, false, %(now)s, %(now)s, g
    FROM generate_series(1, 2 * %(teams)s) g
    """,
    """
    INSERT INTO slos_slostate (slo_id, computed_at, status, window_start, window_end, elapsed_seconds,
                               covered_seconds, coverage, good, total, attainment, budget_total, budget_left,
                               budget_left_fraction, burn_rates, note)
    SELECT g, %(now)s, CASE WHEN g %% 20 = 1 THEN 'exhausted' ELSE 'ok' END, %(now)s - interval '30 days', %(now)s,
           2592000, 2592000, 1, CASE WHEN g %% 20 = 1 THEN 998000 ELSE 999600 END, 1000000,
           CASE WHEN g %% 20 = 1 THEN 0.998 ELSE 0.9996 END, 1000, CASE WHEN g %% 20 = 1 THEN -1000 ELSE 600 END,
           CASE WHEN g %% 20 = 1 THEN -1.0 ELSE 0.6 END, '{}', ''
    FROM generate_series(1, 2 * %(teams)s) g
    """,
]

# The ceiling: what reminders_plan_due decides, in two statements. The cadence (the
# product's cadence_step) and the error-budget policy (slos.policy: an SLO of the primary service, not paused,
# with data, at or below its team's threshold, steps the policy's count sooner) run in SQL from the same settings.
CEILING_REMINDERS = """
WITH owing AS MATERIALIZED (
    SELECT p.id,
           CASE WHEN p.status IN ('draft', 'in_review') THEN 'overdue_draft'
                WHEN rg.postmortem_id IS NOT NULL THEN 'test_regressed'
                ELSE 'no_regression_test' END AS kind,
           CASE WHEN p.status IN ('draft', 'in_review') THEN 0 ELSE p.reminder_cycle END AS cycle,
           CASE WHEN p.status IN ('draft', 'in_review') THEN p.due_at
                WHEN rg.postmortem_id IS NOT NULL THEN COALESCE(p.reminder_cycle_started_at, p.published_at)
                WHEN p.reminder_cycle > 0 THEN p.reminder_cycle_started_at
                ELSE p.published_at END AS since,
           CASE WHEN COALESCE(bp.enabled, true) AND EXISTS (
                    SELECT 1 FROM slos_slostate st JOIN slos_slo s ON s.id = st.slo_id
                    WHERE s.service_id = i.primary_service_id AND NOT s.paused
                      AND st.status IN ('ok', 'at_risk', 'exhausted')
                      AND st.budget_left_fraction <= COALESCE(bp.threshold, 0))
                THEN COALESCE(bp.reminder_steps_sooner, 1) ELSE 0 END AS sooner
    FROM postmortems_postmortem p
    JOIN incidents_incident i ON i.id = p.incident_id
    LEFT JOIN ownership_service sv ON sv.id = i.primary_service_id
    LEFT JOIN slos_budgetpolicy bp ON bp.team_id = sv.team_id
    LEFT JOIN (SELECT DISTINCT postmortem_id FROM postmortems_regressiontest
               WHERE state IN ('failing', 'missing')) rg ON rg.postmortem_id = p.id
    WHERE (p.snoozed_until IS NULL OR p.snoozed_until <= %(now)s)
      AND ((p.status IN ('draft', 'in_review') AND p.due_at <= %(now)s)
           OR (p.status IN ('published', 'complete')
               AND (p.status = 'published' OR rg.postmortem_id IS NOT NULL)
               AND NOT EXISTS (SELECT 1 FROM postmortems_regressiontest t
                               WHERE t.postmortem_id = p.id
                                 AND (t.state = 'verified'
                                      OR (t.state = 'linked' AND sv.ci_reports_tests IS FALSE)))))
), stepped AS MATERIALIZED (
    SELECT o.*, CASE WHEN e.elapsed < (%(offsets)s::float8[])[1] THEN NULL
                     WHEN e.elapsed < (%(offsets)s::float8[])[%(n_offsets)s]
                         THEN (SELECT count(*) FROM unnest(%(offsets)s::float8[]) x WHERE x <= e.elapsed)::int - 1
                     ELSE %(n_offsets)s - 1
                          + floor((e.elapsed - (%(offsets)s::float8[])[%(n_offsets)s]) / %(repeat)s)::int
                END AS step
    FROM owing o CROSS JOIN LATERAL (SELECT EXTRACT(EPOCH FROM %(now)s - o.since)::float8 AS elapsed) e
    WHERE o.since IS NOT NULL
)
INSERT INTO postmortems_reminder (postmortem_id, kind, subject_key, cycle, step, due_at, created_at)
SELECT id, kind, '', cycle, step + sooner,
       since + make_interval(secs => CASE WHEN step < %(n_offsets)s - 1 THEN (%(offsets)s::float8[])[step + 1]
                                          ELSE (%(offsets)s::float8[])[%(n_offsets)s]
                                               + (step - (%(n_offsets)s - 1)) * %(repeat)s END),
       %(now)s
FROM stepped
WHERE step IS NOT NULL AND step + sooner < %(max_steps)s
ON CONFLICT DO NOTHING
"""

# Outbox to the owner (else the lead), and to the lead too from SREDESK_REMINDER_LEAD_FROM_STEP.
# not_before = now: every person in this data set works around the clock.
CEILING_DELIVERIES = """
INSERT INTO postmortems_reminderdelivery (reminder_id, recipient_user_id, recipient_team_id, channel, address,
                                          status, attempts, created_at, queued_at, claimed_at, sent_at,
                                          last_error, external_ref, not_before)
SELECT r.id, u.id, NULL, 'outbox', 'user:' || u.username, 'pending', 0, %(now)s, NULL, NULL, NULL, '', '', %(now)s
FROM postmortems_reminder r
JOIN postmortems_postmortem p ON p.id = r.postmortem_id
JOIN incidents_incident i ON i.id = p.incident_id
LEFT JOIN ownership_membership m ON m.team_id = i.owning_team_id AND m.role = 'lead'
CROSS JOIN LATERAL (VALUES (COALESCE(p.owner_id, m.user_id)),
                           (CASE WHEN r.step >= %(lead_from)s AND p.owner_id IS NOT NULL
                                      AND m.user_id <> p.owner_id THEN m.user_id END)) AS who (user_id)
JOIN ownership_user u ON u.id = who.user_id
WHERE r.created_at = %(now)s
ON CONFLICT DO NOTHING
"""

SNAPSHOT_SQL = """
SELECT r.postmortem_id, r.kind, r.subject_key, r.cycle, r.step, r.due_at, r.created_at,
       d.recipient_user_id, d.recipient_team_id, d.channel, d.address, d.status, d.not_before, d.created_at
FROM postmortems_reminder r LEFT JOIN postmortems_reminderdelivery d ON d.reminder_id = r.id
ORDER BY 1, 2, 3, 4, 5, 8, 9, 10, 11
"""


def load(now: dt.datetime, scale: float) -> None:
    from django.db import connection, transaction

    params = {
        "now": now,
        "n": common.scaled(N_POSTMORTEMS, scale),
        "teams": common.scaled(N_TEAMS, scale),
        "owners": common.scaled(N_OWNERS, scale),
        "step_days": STEP_DAYS,
        "section": SECTION,
        "timeline": TIMELINE,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in LOAD_SQL:
            cursor.execute(statement, params)
        for table in ("ownership_team", "ownership_user", "ownership_membership", "ownership_service",
                      "ownership_repository", "incidents_incident", "postmortems_postmortem",
                      "postmortems_regressiontest", "slos_slo"):  # fmt: skip
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    common.vacuum_analyze(
        "ownership_user",
        "ownership_membership",
        "ownership_service",
        "incidents_incident",
        "postmortems_postmortem",
        "postmortems_regressiontest",
        "slos_slo",
        "slos_slostate",
        "postmortems_reminder",
        "postmortems_reminderdelivery",
    )


def ceiling(now: dt.datetime) -> int:
    from django.conf import settings
    from django.db import connection, transaction

    params = {
        "now": now,
        "offsets": [float(o) for o in settings.SREDESK_REMINDER_CADENCE_SECONDS],
        "n_offsets": len(settings.SREDESK_REMINDER_CADENCE_SECONDS),
        "repeat": float(settings.SREDESK_REMINDER_REPEAT_SECONDS),
        "max_steps": settings.SREDESK_REMINDER_MAX_PER_PERSON,
        "lead_from": settings.SREDESK_REMINDER_LEAD_FROM_STEP,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(CEILING_REMINDERS, params)
        created = cursor.rowcount
        cursor.execute(CEILING_DELIVERIES, params)
    return created


def snapshot() -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(SNAPSHOT_SQL)
        return cursor.fetchall()


def whole_sweep(now: dt.datetime, expected: int) -> None:
    """One whole beat tick (``reminders_sweep``: plan, release, re-queue, digest, figures) from an empty ledger,
    timed; then planning again from an empty ledger under tracemalloc for its peak Python memory (the part that
    grows with the backlog: release enqueues at most 10,000 deliveries a tick); then ``/metrics`` answered over
    the same data. Printed, not compared (the ratio above is the planning's)."""
    import tracemalloc

    from django.test import Client

    from postmortems.reminders import plan_due, reminders_sweep

    common.truncate("postmortems_reminder", "postmortems_reminderdelivery")
    seconds, result = common.timed(lambda: reminders_sweep(now=now))
    if result.planned != expected or result.failed:
        sys.exit(f"sweep: the whole sweep planned {result.planned} (failed {result.failed}), expected {expected}")
    print(
        f"sweep: whole reminders_sweep: {seconds:.1f} s (planned {result.planned:,}, released {result.released:,} "
        f"deliveries to the broker, digests {result.digests})",
        flush=True,
    )
    common.truncate("postmortems_reminder", "postmortems_reminderdelivery")
    tracemalloc.start()
    seconds, planned = common.timed(lambda: plan_due(now=now))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"sweep: planning {planned.planned:,} reminders: Python peak {peak / 2**20:.0f} MiB (tracemalloc; "
        f"{seconds:.1f} s under it)",
        flush=True,
    )
    client = Client()
    client.get("/metrics")  # warm-up: imports, URL resolver
    seconds, response = common.timed(lambda: client.get("/metrics"))
    if response.status_code != 200:
        sys.exit(f"sweep: /metrics answered {response.status_code}")
    print(f"sweep: /metrics answered in {seconds:.2f} s over this data", flush=True)


def main() -> None:
    args = common.arguments("Time reminders_plan_due over 100,000 post-mortems against raw SQL.", repeat=3)
    n_postmortems = common.scaled(N_POSTMORTEMS, args.scale)
    dbname = common.bootstrap("sweep")

    from django.utils import timezone

    from postmortems.reminders import reminders_plan_due

    now = timezone.now().replace(microsecond=0)
    print(f"sweep: database {dbname}, {common.server_settings()}, {common.load_average()}", flush=True)
    common.reset_database()
    seconds, _ = common.timed(lambda: load(now, args.scale))
    print(f"sweep: loaded {n_postmortems:,} post-mortems ({n_postmortems // 10:,} due) in {seconds:.1f} s", flush=True)

    expected = n_postmortems // 10
    reference: dict[str, list[tuple]] = {}

    def check(side: str, created: int) -> None:
        if created != expected:
            sys.exit(f"sweep: {side} created {created} reminders, expected {expected}; the data set or SQL is wrong.")
        rows = snapshot()
        reference.setdefault(side, rows)
        other = reference.get("ceiling" if side == "sweep" else "sweep")
        if rows != reference[side] or (other is not None and rows != other):
            sys.exit(f"sweep: {side} planned different reminder or delivery rows than the other side; not comparable.")

    try:
        times = common.alternate(
            {"sweep": lambda: reminders_plan_due(now=now), "ceiling": lambda: ceiling(now)},
            repeat=args.repeat,
            reset=lambda: common.truncate("postmortems_reminder", "postmortems_reminderdelivery"),
            check=check,
        )
        deliveries = len(reference["sweep"])
        reference.clear()
        whole_sweep(now, expected)
    finally:
        if not args.keep_data:
            common.reset_database()

    sweep, ceil = common.median(times["sweep"]), common.median(times["ceiling"])
    print(f"sweep: {expected:,} reminders, {deliveries:,} deliveries per run; both sides planned identical rows")
    print(f"sweep: medians of {args.repeat} runs; {common.load_average()}")
    common.print_last_line("sweep", sweep, ceil, sweep / ceil)


if __name__ == "__main__":
    main()
