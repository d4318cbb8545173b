"""Who is on call, for every service at 1,000 schedules: ``GET /api/v1/oncall/`` and ``/metrics`` vs the bare
final-schedule computation they rest on, in one run.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/sredesk_bench .venv/bin/python bench/oncall.py``
(works in the database ``sredesk_bench_oncall``; see ``bench/common.py``).

Data (``--scale`` multiplies it): 1,000 schedules of 100 teams in ten IANA zones, each with a weekly layer of
four people around the clock and a higher daytime layer (Monday to Friday 09:00-18:00, daily turns) of three,
one override in the next two weeks; 1,000 services, each paged by one schedule, and 20 paged by a person.

Measured, in this process through Django's test client (no HTTP server: the figure is sredesk's own work):

* ``GET /api/v1/oncall/`` (every service: who is paged now, from which shift, who is next). Its statements are
  counted at a tenth of the schedules and at all of them: they must be the same number (flat);
* the gap sweep, ``oncall.gaps.gaps_report`` (beat, every 5 minutes): every schedule's final schedule over
  [now - 1 day, now + 14 days), no gap to tell here, and the gap seconds stored per schedule for ``/metrics``;
* ``GET /metrics``, which reads those stored figures (its statements are counted at both sizes too: flat);
* the ceiling: ``oncall.selectors.schedules_final`` of every schedule over the same 14 days, called directly
  (the one computation both answers need: four queries and the rotation's arithmetic), nothing serialized.

Runs alternate (api, metrics, ceiling, ...) ``--repeat`` times; medians count. Last line:
``oncall: <api s> vs <ceiling s> ratio=<api / ceiling>`` (goal: at most 2; the lines before it give the sweep's
and /metrics').
"""

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

NAME = "oncall"
GOAL = 2.0
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Europe/London",
         "America/Los_Angeles", "Asia/Kolkata", "America/Sao_Paulo", "Africa/Johannesburg"]  # fmt: skip


def set_up(schedules: int, now: dt.datetime) -> None:
    """Bulk-create the people, teams, schedules, layers, members, overrides and services (see the docstring)."""
    from oncall.models import Layer, LayerMember, Override, Schedule
    from ownership.models import Responsibility, Service, Team, User

    common.reset_database()
    teams = Team.objects.bulk_create([Team(name=f"Team {i}", slug=f"team-{i}") for i in range(max(1, schedules // 10))])
    people = User.objects.bulk_create([User(username=f"person-{i}") for i in range(max(8, schedules // 2))])
    rows = Schedule.objects.bulk_create([
        Schedule(team=teams[i % len(teams)], name=f"Schedule {i}", slug=f"schedule-{i}", timezone=ZONES[i % len(ZONES)])
        for i in range(schedules)
    ])  # fmt: skip
    anchor = (now - dt.timedelta(days=60)).date()
    layers = Layer.objects.bulk_create([
        layer for s in rows for layer in (
            Layer(schedule=s, name="Primary", priority=0, turn_unit="weeks", turn_length=1, anchor_date=anchor,
                  handoff_time=dt.time(9)),
            Layer(schedule=s, name="Office hours", priority=1, turn_unit="days", turn_length=1, anchor_date=anchor,
                  handoff_time=dt.time(9), restrict_days="12345", restrict_start=dt.time(9), restrict_end=dt.time(18)),
        )
    ])  # fmt: skip
    since = now - dt.timedelta(days=90)
    members = []
    for n, layer in enumerate(layers):
        size = 4 if layer.priority == 0 else 3
        members += [LayerMember(layer=layer, user=people[(n * 7 + k) % len(people)], position=k, active_from=since)
                    for k in range(size)]  # fmt: skip
    LayerMember.objects.bulk_create(members)
    Override.objects.bulk_create([
        Override(schedule=s, user=people[i % len(people)], start=now + dt.timedelta(days=2, hours=i % 24),
                 end=now + dt.timedelta(days=2, hours=i % 24 + 6))
        for i, s in enumerate(rows)
    ])  # fmt: skip
    services = Service.objects.bulk_create([
        Service(name=f"service-{i}", slug=f"service-{i}", team=s.team) for i, s in enumerate(rows)
    ] + [Service(name=f"solo-{i}", slug=f"solo-{i}", team=teams[0]) for i in range(20)])  # fmt: skip
    Responsibility.objects.bulk_create(
        [Responsibility(service=services[i], role="paged", schedule=s) for i, s in enumerate(rows)]
        + [Responsibility(service=svc, role="paged", user=people[0]) for svc in services[len(rows):]]
    )  # fmt: skip
    common.vacuum_analyze("oncall_schedule", "oncall_layer", "oncall_layermember", "oncall_override",
                          "ownership_service", "ownership_responsibility")  # fmt: skip


def main() -> None:
    args = common.arguments(__doc__.split("\n\n")[0], repeat=5)
    dbname = common.bootstrap(NAME)
    print(f"bench/oncall.py: database {dbname}; {common.server_settings()}; {common.load_average()}", flush=True)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from oncall.gaps import gaps_report
    from oncall.models import Schedule, ScheduleGapState
    from oncall.selectors import schedules_final
    from ownership.models import Service, User

    now = timezone.now().replace(microsecond=0)
    schedules = common.scaled(1000, args.scale)
    client = Client()

    def api() -> int:
        response = client.get("/api/v1/oncall/")
        assert response.status_code == 200, response.content[:300]
        return len(response.json())

    def sweep() -> int:
        gaps_report(now=timezone.now())
        return ScheduleGapState.objects.count()

    def metrics() -> int:
        response = client.get("/metrics")
        assert response.status_code == 200, response.content[:300]
        return response.content.count(b"sredesk_oncall_gap_seconds{")

    def ceiling() -> int:
        ids = list(Schedule.objects.values_list("pk", flat=True))
        return len(schedules_final(ids, start=timezone.now(), end=timezone.now() + dt.timedelta(days=14)))

    def statements(side) -> int:
        with CaptureQueriesContext(connection) as captured:
            side()
        return len(captured)

    try:
        counts, scrape_counts = {}, {}
        for size in (max(1, schedules // 10), schedules):
            set_up(size, now)
            client.force_login(User.objects.get(username="person-0"))
            api()  # warm: URL resolver, imports
            counts[size] = statements(api)
            sweep()
            metrics()  # warm
            scrape_counts[size] = statements(metrics)
        flat = len(set(counts.values())) == 1 and len(set(scrape_counts.values())) == 1
        print(f"  GET /api/v1/oncall/ statements: {counts}; GET /metrics statements: {scrape_counts} "
              f"({'flat' if flat else 'NOT FLAT'}); {Service.objects.count()} services", flush=True)  # fmt: skip
        sides = {"api": api, "sweep": sweep, "metrics": metrics, "ceiling": ceiling}
        expected = {"api": Service.objects.count(), "sweep": schedules, "metrics": schedules, "ceiling": schedules}

        def check(side, value):
            assert value == expected[side], f"{side} answered {value} rows, expected {expected[side]}"

        times = common.alternate(sides, repeat=args.repeat, reset=lambda: None, check=check)
    finally:
        if not args.keep_data:
            common.reset_database()
    api_s, sweep_s, metrics_s, ceiling_s = (
        common.median(times[side]) for side in ("api", "sweep", "metrics", "ceiling")
    )
    print(f"  medians: api {api_s:.3f} s, gap sweep {sweep_s:.3f} s (computes and stores), /metrics "
          f"{metrics_s:.3f} s (reads the stored gaps), ceiling {ceiling_s:.3f} s at {schedules} schedules; "
          f"goal api/ceiling <= {GOAL}; {common.load_average()}")  # fmt: skip
    print(f"  sweep: {sweep_s:.3f} s vs {ceiling_s:.3f} s ratio={sweep_s / ceiling_s:.2f}")
    print(f"  metrics: {metrics_s:.3f} s vs {ceiling_s:.3f} s ratio={metrics_s / ceiling_s:.2f}")
    if not flat:
        sys.exit("GET /api/v1/oncall/ or /metrics statements grow with the number of schedules")
    common.print_last_line(NAME, api_s, ceiling_s, api_s / ceiling_s)


if __name__ == "__main__":
    main()
