"""Regression-test states from CI runs: what each linked test's state is, and bringing it there.

A regression test's state is a pure function of the repository's counting
runs (``Repository.counts_branch``), recomputed by ``regression_test_refresh``:

* the latest counting run that ran the test decides: a clean pass makes it
  ``verified``; a failure, an error or a flaky result (attempts that
  disagree: one of them did not pass) makes it ``failing`` — flaky never
  counts as passing; a run that only skipped it (skipped, xfail) says
  nothing about it and changes nothing (``docs/regression-tests.md`` has the
  table per producer);
* a *complete* counting run newer than that one which lacks the test makes it
  ``missing`` (an incomplete run cannot, since more files may come);
* with no counting run seen, it stays ``linked``.

Recomputing instead of applying deltas makes uploads idempotent and order-free:
a retried upload, a run uploaded before the test was linked, or files arriving
out of order all end in the same state. ``failing`` and ``missing`` notify the
post-mortem's owner and the owning team: the regression guard itself regressed.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from incidents.models import Source, TimelineEvent
from incidents.timeline import timeline_append, timeline_entry
from ownership.models import Repository
from sredesk.lookups import chunks

from .models import PostMortem, RegressionTest, TestResult, TestRun
from .testids import test_key


def counting_runs(repository: Repository):
    """The repository's runs whose branch counts, newest first."""
    runs = TestRun.objects.filter(repository=repository)
    branches = [
        repository.default_branch,
        *[b.strip() for b in repository.extra_counted_branches.split(",") if b.strip()],
    ]
    return runs.filter(branch__in=branches).order_by("-created_at", "-id")


def _decide(current: str, runs: list[TestRun], results: dict[int, tuple[str, bool]]) -> tuple[str, TestRun | None]:
    """The state a test should be in, from the counting ``runs`` (newest first) and its ``results`` by run id."""
    present = [run for run in runs if run.pk in results]
    decisive = next(
        (
            run
            for run in present
            if results[run.pk][0] not in (TestResult.Outcome.SKIPPED, TestResult.Outcome.XFAIL)
            or results[run.pk][1]  # flaky: an attempt failed, whatever the last one did
        ),
        None,
    )
    missing_run = next((run for run in runs if run.complete and run.pk not in results), None)
    if missing_run is not None and (
        not present or (missing_run.created_at, missing_run.pk) > (present[0].created_at, present[0].pk)
    ):
        return RegressionTest.State.MISSING, missing_run
    if decisive is None:
        return (current if current != RegressionTest.State.MISSING else RegressionTest.State.LINKED), None
    outcome, flaky = results[decisive.pk]
    if outcome == TestResult.Outcome.PASSED and not flaky:
        return RegressionTest.State.VERIFIED, decisive
    return RegressionTest.State.FAILING, decisive


def regression_tests_states(tests: list[RegressionTest]) -> dict[int, tuple[str, TestRun | None]]:
    """The state each test should be in now, by test pk: two queries per repository, whatever the run sizes."""
    states = {}
    by_repository: dict[int, list[RegressionTest]] = {}
    for test in tests:
        by_repository.setdefault(test.repository_id, []).append(test)
    for group in by_repository.values():
        runs = list(counting_runs(group[0].repository))
        results: dict[str, dict[int, tuple[str, bool]]] = {}
        rows = TestResult.objects.filter(  # the runs as a subquery: a repository's runs grow with every CI build
            test_run_id__in=counting_runs(group[0].repository).values("pk"), test_key__any={t.test_key for t in group}
        ).values_list("test_key", "test_run_id", "outcome", "flaky")
        for key, run_id, outcome, flaky in rows:
            results.setdefault(key, {})[run_id] = (outcome, flaky)
        for test in group:
            states[test.pk] = _decide(test.state, runs, results.get(test.test_key, {}))
    return states


def regression_test_state(test: RegressionTest) -> tuple[str, TestRun | None]:
    """The state ``test`` should be in now, and the run that decides it (see the module docstring)."""
    return regression_tests_states([test])[test.pk]


def regression_test_refresh(test: RegressionTest) -> bool:
    """Bring ``test`` to the state its counting runs give; returns whether it changed (``regression_tests_refresh``)."""
    return regression_tests_refresh([test.pk]) == 1


# Tests locked, recomputed and written per transaction: statements and lock time stay bounded however many of a
# repository's tests one upload changes.
REFRESH_CHUNK = 1000


def regression_tests_refresh(test_ids: list[int]) -> int:
    """Bring these regression tests to the states their counting runs give; returns how many changed.

    The tests are locked, their states recomputed under the lock and the
    changed ones written together (history kept), in a few queries per
    ``REFRESH_CHUNK`` tests, each chunk in its own transaction. Each change
    is logged on its incident's timeline; a change to ``failing`` or
    ``missing`` starts a new reminder cycle and is announced after commit to
    the post-mortem's owner and the owning team (once: the side-effect
    worker, ``incidents.effects``).
    """
    return sum(_refresh(ids) for ids in chunks(sorted(set(test_ids)), REFRESH_CHUNK))


def _refresh(test_ids: list[int]) -> int:
    if not test_ids:
        return 0
    with transaction.atomic():
        tests = list(
            RegressionTest.objects.select_for_update(of=("self",))
            .select_related("repository", "postmortem__incident")
            .filter(pk__any=test_ids)
            .order_by("pk")
        )
        states = regression_tests_states(tests)
        now = timezone.now()
        changed, events, owing_again = [], [], set()
        for test in tests:
            state, run = states[test.pk]
            if state == test.state:
                continue
            before = test.get_state_display().lower()
            test.state, test.state_run, test.state_changed_at = state, run, now
            changed.append(test)
            where = f" in {run}" if run else ""
            regressed = state in (RegressionTest.State.FAILING, RegressionTest.State.MISSING)
            if regressed:
                owing_again.add(test.postmortem_id)
            events.append(
                timeline_entry(
                    test.postmortem.incident_id,
                    TimelineEvent.Kind.POSTMORTEM,
                    f"Regression test {test.test_id}: {before} → {test.get_state_display().lower()}{where}",
                    source=Source.SYSTEM,
                    at=now,
                    data={"regression_test_id": test.pk, "state": state, "test_run_id": run.pk if run else None},
                    # The post-mortem's owner and the owning team hear of it after commit (incidents.effects).
                    announce=f"regression test {test.get_state_display().lower()}" if regressed else "",
                )
            )
        if not changed:
            return 0
        bulk_update_with_history(
            changed, RegressionTest, ["state", "state_run", "state_changed_at"], batch_size=REFRESH_CHUNK
        )
        timeline_append(*events)
        if owing_again:
            # The post-mortem owes a working test again: a new reminder cycle starts now.
            PostMortem.objects.filter(pk__any=owing_again).update(
                reminder_cycle=F("reminder_cycle") + 1, reminder_cycle_started_at=now
            )
    return len(changed)


def repository_refresh(repository: Repository, test_ids: set[str] | None = None) -> int:
    """Refresh the repository's regression tests (those named in ``test_ids``, or all); returns how many changed.

    States are computed ``REFRESH_CHUNK`` tests at a time (looked up by key,
    or walked by id); only a test whose state changes is then locked,
    recomputed and saved.
    """
    tests = RegressionTest.objects.filter(repository=repository).select_related("repository").order_by("pk")
    changed = 0
    if test_ids is not None:
        for keys in chunks(sorted({test_key(t) for t in test_ids}), REFRESH_CHUNK):
            changed += _refresh_changed(list(tests.filter(test_key__any=keys)))
        return changed
    after = 0
    while batch := list(tests.filter(pk__gt=after)[:REFRESH_CHUNK]):
        after = batch[-1].pk
        changed += _refresh_changed(batch)
    return changed


def _refresh_changed(tests: list[RegressionTest]) -> int:
    states = regression_tests_states(tests)
    return regression_tests_refresh([t.pk for t in tests if states[t.pk][0] != t.state])
