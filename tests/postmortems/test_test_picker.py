"""What the Slack test picker offers (``postmortems.selectors.recent_test_results``): canonical ids seen in recent
CI runs of the post-mortem's repositories, searched as you type, one per test, never more than asked for."""

import pytest

from postmortems import selectors
from postmortems.ci_models import TestResult, TestRun
from postmortems.selectors import postmortem_repositories, recent_test_results
from tests.factories import PostMortemFactory, RepositoryFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def run(repository, key: str, *test_ids: str) -> TestRun:
    test_run = TestRun.objects.create(repository=repository, run_key=key, branch="main", complete=True)
    for test_id in test_ids:
        TestResult.objects.create(test_run=test_run, test_id=test_id, outcome="passed")
    return test_run


def test_ids_of_the_services_repositories_searched_as_you_type(monkeypatch):
    ours, theirs = RepositoryFactory(name="acme/payments"), RepositoryFactory(name="acme/other")
    service = ServiceFactory()
    service.repositories.add(ours)
    postmortem = PostMortemFactory()
    postmortem.incident.services.add(service)
    monkeypatch.setattr(selectors, "RECENT_RUNS_PER_REPOSITORY", 2)
    run(ours, "old", "tests/test_old.py::test_gone")  # beyond the 2 newest runs
    run(ours, "r1", "tests/payments/test_retry.py::test_timeout_is_retried[eu]", "tests/test_a.py::test_a")
    run(ours, "r2", "tests/payments/test_retry.py::test_timeout_is_retried[eu]", "tests/test_b.py::test_b")
    run(theirs, "x", "tests/payments/test_retry.py::test_other_team")

    repos = list(postmortem_repositories(postmortem).values_list("pk", flat=True))
    assert repos == [ours.pk]
    everything = recent_test_results(repository_ids=repos, typed="")
    assert [r.test_id for r in everything] == [
        "tests/payments/test_retry.py::test_timeout_is_retried[eu]",
        "tests/test_a.py::test_a",
        "tests/test_b.py::test_b",
    ]
    assert everything[0].test_run.run_key == "r2"  # the newest sighting
    assert [r.test_id for r in recent_test_results(repository_ids=repos, typed="RETRY")] == [
        "tests/payments/test_retry.py::test_timeout_is_retried[eu]"
    ]
    assert len(recent_test_results(repository_ids=repos, typed="test", limit=2)) == 2
    assert recent_test_results(repository_ids=[], typed="") == []
