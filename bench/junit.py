"""Benchmark: importing JUnit XML through ``postmortems.ci.ci_run_upload`` on PostgreSQL, against the bare parser.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/sredesk_bench .venv/bin/python bench/junit.py``
(works in the database ``sredesk_bench_junit``; see ``bench/common.py``).

Two files, each imported ``--repeat`` times per side, interleaved:

* the real ``junit/merged-pulsar-testng-808-tests.xml`` (TestNG, with retried
  tests), read from ``SREDESK_REALDATA_DIR`` (default ``../shared/realdata`` next to
  the repository; never copied into it); skipped with a note when it is absent;
* a generated pytest report of 20,000 test cases (written to a temporary
  directory): ~2% failures and 0.5% errors with a traceback and captured output,
  3% skipped, parametrised names, nested classes, and 10 cases whose property
  ``incident=INC-<n>`` auto-links them to a post-mortem.

Full path (measured): ``ci_run_upload(repository=..., branch="main", run_key=...,
content=<bytes>)``: size check, defusedxml streaming parse, producer detection,
canonical ids, folding, the TestRun/TestRunFile rows, one TestResult per id, the
auto-links, and the refresh of the repository's linked regression tests that the
file names (50 for the generated file, 20 for the real one: most pass and become
``verified``, a few fail and become ``failing``, which writes timeline events,
starts a reminder cycle and plans notifications; tasks go to a ``memory://`` broker).

Ceiling: the same bytes through ``defusedxml.ElementTree.iterparse`` alone
(classname::name, outcome, time, message), one TestRun row, and one TestResult row
per test case written with a raw ``executemany`` (``ON CONFLICT DO NOTHING`` for a
case repeated in the file), committed.

Reset before every run (untimed): TRUNCATE of the CI tables, the regression tests,
timeline events and notifications; the linked regression tests are created again.
Ratio = ceiling / full (higher is better); goal: at least 0.5 for the 20,000-case file.
"""

import io
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

REAL_FILE = "junit/merged-pulsar-testng-808-tests.xml"
GENERATED_CASES = 20_000
AUTO_LINKED = 10
RESET_TABLES = (
    "postmortems_testrun",
    "postmortems_testrunfile",
    "postmortems_testresult",
    "postmortems_regressiontest",
    "postmortems_historicalregressiontest",
    "incidents_timelineevent",
    "notifications_notification",
)

TRACEBACK = "\n".join(
    [
        "self = <tests.payments.test_retry.TestRetry object at 0x7f3a2c1e5d90>",
        "",
        "    def test_timeout_is_retried(self, gateway):",
        ">       assert gateway.charge(amount=100).status == 'ok'",
        "E       AssertionError: assert 'timeout' == 'ok'",
        "E         - ok",
        "E         + timeout",
        "",
        "tests/payments/test_retry.py:42: AssertionError",
    ]
    * 6
)


def realdata_file() -> Path | None:
    """The real Pulsar report, or None when the shared real data is not there."""
    base = Path(os.environ.get("SREDESK_REALDATA_DIR") or "../shared/realdata")
    if not base.is_absolute():
        base = common.REPO / base
    path = base / REAL_FILE
    return path if path.is_file() else None


def generate_pytest_report(path: Path, cases: int, incident_ids: list[int]) -> None:
    """A pytest ``--junitxml`` report of ``cases`` test cases (see the module docstring)."""
    from xml.sax.saxutils import escape, quoteattr

    traceback = escape(TRACEBACK)

    failures = errors = skipped = 0
    lines = []
    for n in range(cases):
        package = ("payments", "checkout", "ledger", "search", "auth")[n % 5]
        module = f"tests.{package}.test_module_{n // 100:03d}"
        classname = f"{module}.TestBehaviour{(n // 20) % 5}" if n % 3 else module
        name = f"test_case_{n}[eu-west-{n % 4}]" if n % 2 else f"test_case_{n}"
        body = ""
        if n < AUTO_LINKED:
            body = f'<properties><property name="incident" value="INC-{incident_ids[n]}"/></properties>'
        elif n % 50 == 7:
            failures += 1
            body = (
                f"<failure message={quoteattr('AssertionError: assert ' + repr('timeout') + ' == ' + repr('ok'))}>"
                f"{traceback}</failure><system-out>charging 100 EUR\nretry 1/3\n</system-out>"
            )
        elif n % 200 == 13:
            errors += 1
            body = f'<error message="failed on setup with &quot;ConnectionRefusedError&quot;">{traceback}</error>'
        elif n % 33 == 5:
            skipped += 1
            body = '<skipped type="pytest.skip" message="needs the sandbox gateway">tests/conftest.py:18</skipped>'
        lines.append(
            f'<testcase classname="{classname}" name="{name}" time="0.{n % 1000:03d}">{body}</testcase>'
            if body
            else f'<testcase classname="{classname}" name="{name}" time="0.{n % 1000:03d}" />'
        )
    head = (
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" '
        f'errors="{errors}" failures="{failures}" skipped="{skipped}" tests="{cases}" time="123.4" '
        'timestamp="2026-11-30T06:00:00.000000" hostname="ci-runner-3">'
    )
    path.write_text(head + "\n".join(lines) + "</testsuite></testsuites>\n", encoding="utf-8")


def create_fixtures():
    """A team, an owner, a repository whose CI reports, and 80 published post-mortems; returns (repo, post-mortems)."""
    import datetime as dt

    from django.utils import timezone

    from incidents.models import Incident
    from ownership.models import Repository, Service, Team, User
    from postmortems.models import PostMortem

    now = timezone.now()
    team = Team.objects.create(name="Payments", slug="payments", slack_channel="C0PAY")
    owner = User.objects.create(username="ana", email="ana@example.test", work_start=dt.time(0), work_end=dt.time(0))
    service = Service.objects.create(name="Payments API", slug="payments-api", team=team)
    repository = Repository.objects.create(name="acme/payments", default_branch="main")
    postmortems = []
    for n in range(80):
        started = now - dt.timedelta(days=10)
        incident = Incident.objects.create(
            title=f"Checkout errors {n}",
            severity=2,
            status=Incident.Status.RESOLVED,
            started_at=started,
            detected_at=started,
            resolved_at=started + dt.timedelta(hours=1),
            owning_team=team,
            primary_service=service,
        )
        postmortems.append(
            PostMortem.objects.create(
                incident=incident,
                owner=owner,
                status=PostMortem.Status.PUBLISHED,
                due_at=now - dt.timedelta(days=5),
                published_at=now - dt.timedelta(days=4),
                summary="Payments timed out for 40 minutes.",
            )
        )
    return repository, postmortems


def pick_linked(data: bytes, filename: str, count: int, *, absent: int) -> list[str]:
    """Canonical ids to link: mostly passing tests, some failing ones, and ``absent`` ids not in the file."""
    from postmortems import junit

    results = junit.parse_junit(data, filename=filename).results
    passing = [r.test_id for r in results if r.passed]
    failing = [r.test_id for r in results if r.outcome in ("failed", "error") and not r.flaky]
    n_failing = min(len(failing), max(1, count // 10))
    n_passing = count - n_failing - absent
    step = max(1, len(passing) // n_passing)
    ids = passing[::step][:n_passing] + failing[:n_failing]
    return ids + [f"tests/removed/test_gone.py::test_{i}" for i in range(absent)]


class Workload:
    """One file: how to reset, import it fully, and import it at the ceiling."""

    def __init__(self, label: str, path: Path, repository, postmortems, linked_ids: list[str]) -> None:
        self.label = label
        self.filename = path.name
        self.data = path.read_bytes()
        self.repository = repository
        self.postmortems = postmortems
        self.linked_ids = linked_ids
        self.runs = 0
        self.states = ""  # regression-test states after the first full import

    def reset(self) -> None:
        from postmortems.models import RegressionTest
        from postmortems.testids import test_key

        common.truncate(*RESET_TABLES)
        RegressionTest.objects.bulk_create(
            RegressionTest(postmortem=pm, repository=self.repository, test_id=test_id, test_key=test_key(test_id))
            for pm, test_id in zip(self.postmortems, self.linked_ids, strict=False)
        )
        self.runs += 1

    def full(self):
        from postmortems.ci import ci_run_upload

        return ci_run_upload(
            repository=self.repository,
            branch="main",
            run_key=f"bench-{self.runs}",
            commit="0" * 40,
            filename=self.filename,
            content=self.data,
        )

    def ceiling(self) -> int:
        """Bare parse + one row per test case, raw executemany (see the module docstring)."""
        from defusedxml.ElementTree import iterparse
        from django.db import connection, transaction
        from django.utils import timezone

        from postmortems.testids import test_key

        rows = []
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO postmortems_testrun (repository_id, run_key, branch, commit, url, complete, created_at)"
                " VALUES (%s, %s, 'main', %s, '', false, %s) RETURNING id",
                [self.repository.pk, f"ceiling-{self.runs}", "0" * 40, timezone.now()],
            )
            run_id = cursor.fetchone()[0]
            for _event, elem in iterparse(io.BytesIO(self.data), events=("end",), forbid_dtd=True):
                if elem.tag != "testcase":
                    continue
                outcome, message = "passed", ""
                for child in elem:
                    if child.tag in ("failure", "error", "skipped"):
                        outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
                        message = (child.get("message") or "")[:2000]
                        break
                time = elem.get("time")
                test_id = f"{elem.get('classname', '')}::{elem.get('name', '')}"
                rows.append(
                    (
                        run_id,
                        test_id,
                        test_key(test_id),  # every stored result carries its key, ceiling included
                        outcome,
                        float(time) if time else None,
                        message,
                    )
                )
                elem.clear()
            cursor.executemany(
                "INSERT INTO postmortems_testresult (test_run_id, test_id, test_key, outcome, flaky, attempts,"
                " duration_seconds, message) VALUES (%s, %s, %s, %s, false, 1, %s, %s) ON CONFLICT DO NOTHING",
                rows,
            )
        return len(rows)


def measure(workload: Workload, repeat: int) -> tuple[float, float, int, int]:
    """Median seconds of the full import and the ceiling; the ids the full path stored and cases the ceiling read."""
    seen: dict[str, int] = {}

    def check(side: str, value) -> None:
        count = value.tests if side == "full" else value
        if side == "full" and not value.new_file:
            sys.exit(f"junit: the full import of {workload.label} did not store the file; reset failed.")
        if side == "full" and not workload.states:
            workload.states = linked_states()
        if seen.setdefault(side, count) != count:
            sys.exit(f"junit: {side} import of {workload.label} read {count} tests, before {seen[side]}.")

    print(f"junit: {workload.label}, {len(workload.data):,} bytes", flush=True)
    times = common.alternate(
        {"full": workload.full, "ceiling": workload.ceiling}, repeat=repeat, reset=workload.reset, check=check
    )
    return common.median(times["full"]), common.median(times["ceiling"]), seen["full"], seen["ceiling"]


def linked_states() -> str:
    from django.db.models import Count

    from postmortems.models import RegressionTest

    counts = RegressionTest.objects.values_list("state").annotate(n=Count("id")).order_by("state")
    return "regression tests " + ", ".join(f"{n} {state}" for state, n in counts)


def main() -> None:
    args = common.arguments("Time ci_run_upload of JUnit files against the bare XML parser.", repeat=5)
    dbname = common.bootstrap("junit")
    print(f"junit: database {dbname}, {common.server_settings()}, {common.load_average()}", flush=True)
    common.reset_database()
    repository, postmortems = create_fixtures()
    try:
        real = realdata_file()
        if real is None:
            print(
                f"junit: {REAL_FILE} not found under SREDESK_REALDATA_DIR (default ../shared/realdata); "
                "the real-file figures are skipped."
            )
        else:
            ids = pick_linked(real.read_bytes(), real.name, 20, absent=2)
            workload = Workload(f"real {real.name}", real, repository, postmortems, ids)
            full, ceil, tests, cases = measure(workload, args.repeat)
            print(f"junit: real file: {tests} tests ({cases} test cases); after import: {workload.states}")
            print(common.summary("junit-808", full, ceil, ceil / full), flush=True)

        with tempfile.TemporaryDirectory(prefix="sredesk-bench-") as tmp:
            path = Path(tmp) / "report-pytest-20000.xml"
            incident_ids = [pm.incident_id for pm in postmortems[-AUTO_LINKED:]]
            generate_pytest_report(path, common.scaled(GENERATED_CASES, args.scale), incident_ids)
            ids = pick_linked(path.read_bytes(), path.name, 50, absent=5)
            workload = Workload(f"generated {path.name}", path, repository, postmortems, ids)
            full, ceil, tests, cases = measure(workload, args.repeat)
        print(f"junit: generated file: {tests} tests ({cases} test cases); after import: {workload.states}")
        print(f"junit: medians of {args.repeat} runs; {common.load_average()}")
    finally:
        if not args.keep_data:
            common.reset_database()
    common.print_last_line("junit", full, ceil, ceil / full)


if __name__ == "__main__":
    main()
