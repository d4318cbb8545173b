"""CI refreshes at any size: no statement grows with a repository's runs or regression tests.

A repository gains a run with every CI build; an upload that marks a run complete refreshes every
regression test of the repository. Both used to be bound as one parameter each (past 65,535 PostgreSQL
refuses the statement and the upload fails). ``REFRESH_CHUNK`` is lowered here so that a few dozen tests
span several chunks.
"""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from postmortems import ci_states
from postmortems.models import RegressionTest, TestResult, TestRun
from postmortems.testids import test_key
from tests.factories import PostMortemFactory, RegressionTestFactory, RepositoryFactory

pytestmark = pytest.mark.django_db


def largest_statement(action) -> int:
    """The most bound parameters of any statement ``action()`` runs (an array counts as one)."""
    sizes = [0]

    def record(execute, sql, params, many, context):
        sizes.append(len(params or ()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        action()
    return max(sizes)


def repository_with(tests: int, runs: int):
    """A repository with ``tests`` linked regression tests and ``runs`` counting runs in which all of them passed."""
    repository = RepositoryFactory()
    postmortem = PostMortemFactory(published=True)
    linked = [RegressionTestFactory(postmortem=postmortem, repository=repository) for _ in range(tests)]
    start = timezone.now() - dt.timedelta(days=1)
    made = TestRun.objects.bulk_create(
        TestRun(repository=repository, run_key=f"build-{n}", branch="main", created_at=start + dt.timedelta(minutes=n))
        for n in range(runs)
    )
    TestResult.objects.bulk_create(
        TestResult(test_run=run, test_id=t.test_id, test_key=test_key(t.test_id), outcome="passed")
        for run in made
        for t in linked
    )
    return repository


def test_refreshing_a_repository_binds_as_many_parameters_for_many_runs_and_tests_as_for_few(monkeypatch):
    monkeypatch.setattr(ci_states, "REFRESH_CHUNK", 5, raising=False)
    few = repository_with(tests=6, runs=2)
    many = repository_with(tests=30, runs=40)

    small = largest_statement(lambda: ci_states.repository_refresh(few))
    large = largest_statement(lambda: ci_states.repository_refresh(many))

    assert set(RegressionTest.objects.values_list("state", flat=True)) == {"verified"}
    assert large == small, f"largest statement: {small} parameters for 6 tests and 2 runs, {large} for 30 and 40"
    ids = {t.test_id for t in RegressionTest.objects.filter(repository=many)}
    RegressionTest.objects.update(state="linked")
    assert largest_statement(lambda: ci_states.repository_refresh(many, ids)) == small
    assert RegressionTest.objects.filter(state="verified").count() == 30
