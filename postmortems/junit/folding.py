"""Folding attempts: the ``<testcase>`` elements of one canonical id become one result.

FORMATS.md (e) "Duplicates" and step 5: the last attempt decides the outcome and
disagreeing attempts make the result flaky; a pytest teardown error is part of its
test's run; TestNG's "skipped" retry markers are not attempts that decide.
"""

from __future__ import annotations

from dataclasses import replace

from .ids import build_test_id, canonical
from .reader import Case
from .report import JUnitTotals, Outcome, TestResult


def _is_teardown_error(case: Case) -> bool:
    # pytest may report a teardown failure of an already-reported test as a further
    # <error message="failed on teardown with ..."> entry for the same test (FORMATS.md (e)).
    # pytest >= 5 writes 'failed on teardown with "..."', older pytest 'test teardown failure'.
    return case.outcome == "error" and case.message.startswith(("failed on teardown with", "test teardown failure"))


def fold(cases: list[Case], producer: str, filename: str) -> list[TestResult]:
    """Group cases by canonical id (first-seen order): the last attempt decides the outcome,
    and disagreeing attempts make the result flaky (FORMATS.md (e), step 5)."""
    grouped: dict[str, list[Case]] = {}
    for case in cases:
        grouped.setdefault(canonical(build_test_id(case, producer, filename)), []).append(case)
    return [_result(test_id, attempts, producer) for test_id, attempts in grouped.items()]


def _result(test_id: str, cases: list[Case], producer: str) -> TestResult:
    runs = list(cases)
    if producer == "pytest" and len(runs) > 1 and _is_teardown_error(runs[-1]):
        # One run whose teardown failed after its call was reported, not two attempts.
        call, teardown = runs[-2], runs[-1]
        outcome: Outcome = "error" if call.outcome == "passed" else call.outcome
        runs[-2:] = [replace(call, outcome=outcome, message=call.message or teardown.message)]
    last = runs[-1]
    if producer == "testng":
        # TestNG's JUnitReportReporter marks a retried attempt "skipped" and does not keep
        # attempt order (the merged Pulsar report has pass-then-skip), so the real result
        # is the last attempt that was not skipped (FORMATS.md (e), "Duplicates").
        last = next((c for c in reversed(runs) if c.outcome != "skipped"), last)
    outcomes = {c.outcome for c in runs}
    flaky = any(c.flaky for c in runs) or len(outcomes) > 1
    durations = [c.duration for c in cases if c.duration is not None]
    properties: dict[str, str] = {}
    for case in cases:
        properties.update(case.properties)
    message = last.message or next((c.message for c in reversed(runs) if c.message), "")
    return TestResult(
        test_id=test_id,
        outcome=last.outcome,
        flaky=flaky,
        attempts=sum(1 + c.extra_runs for c in runs),
        classname=last.classname,
        name=last.name,
        file=last.file,
        message=message,
        duration_seconds=sum(durations) if durations else None,
        properties=properties,
        suite=" › ".join(s for s in last.suites if s),
        line=last.line,
    )


def totals(cases: list[Case], results: list[TestResult]) -> JUnitTotals:
    def count(outcome: str) -> int:
        return sum(r.outcome == outcome for r in results)

    return JUnitTotals(
        tests=len(results),
        testcases=len(cases),
        passed=sum(r.passed for r in results),
        failed=count("failed"),
        error=count("error"),
        skipped=count("skipped"),
        xfail=count("xfail"),
        flaky=sum(r.flaky for r in results),
        duration_seconds=sum(c.duration or 0.0 for c in cases),
    )
