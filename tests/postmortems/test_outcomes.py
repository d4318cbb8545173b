"""Several outcomes for one test in one report: every row of docs/regression-tests.md's table, per producer.

Issue 13 item 5 (the kind of BR-28): a test that passed and then errored in
teardown was taken as flaky and ignored, so a regression test stayed
``verified`` while failing. Each row starts from a ``verified`` regression test
and uploads a newer counting run in the producer's real shape: pytest's by
running pytest itself, the others from the real files in
``shared/realdata/junit`` (FORMATS.md (e)), adjusted where a row needs an
attempt the file does not have (said per row).
"""

import pytest

from postmortems.ci import ci_run_upload
from postmortems.regression_tests import regression_test_link, regression_test_verify_by_hand
from tests.factories import PostMortemFactory, RepositoryFactory
from tests.postmortems.producers import run_pytest

pytestmark = pytest.mark.django_db

PYTEST_MODULE = """
import pytest


@pytest.fixture
def teardown_fails():
    yield
    raise RuntimeError("teardown boom")


@pytest.fixture
def setup_fails():
    raise RuntimeError("setup boom")


def test_pass():
    assert True


def test_failure():
    assert False


def test_setup_error(setup_fails):
    pass


def test_pass_then_teardown_error(teardown_fails):
    assert True


def test_failure_then_teardown_error(teardown_fails):
    assert False


@pytest.mark.skip(reason="later")
def test_skip():
    pass


def test_skip_then_teardown_error(teardown_fails):
    pytest.skip("inside")


@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False


@pytest.mark.xfail(reason="known")
def test_xpass():
    assert True


@pytest.mark.xfail(reason="known", strict=True)
def test_xpass_strict():
    assert True
"""

# pytest before 5.0 reported a teardown error of a passed test as a second entry, "test teardown failure".
OLD_PYTEST_TEARDOWN = b"""<?xml version="1.0" encoding="utf-8"?><testsuite errors="1" failures="0" name="pytest"
skips="0" tests="2" time="0.05"><testcase classname="test_regression" file="test_regression.py" line="9"
name="test_pass_then_teardown_error" time="0.001"></testcase><testcase classname="test_regression"
file="test_regression.py" line="9" name="test_pass_then_teardown_error" time="0.002"><error
message="test teardown failure">RuntimeError: teardown boom</error></testcase></testsuite>"""


@pytest.fixture(scope="module")
def pytest_report(tmp_path_factory) -> bytes:
    return run_pytest(tmp_path_factory.mktemp("pytest"), PYTEST_MODULE)


def real(realdata_dir, name: str) -> bytes:
    return (realdata_dir / "junit" / name).read_bytes()


def surefire_rerun_failure(realdata_dir) -> bytes:
    """Surefire's shape when every rerun failed too: <failure> plus <rerunFailure> (the flaky file, turned)."""
    xml = real(realdata_dir, "surefire-flakyFailure-rerun.xml").decode()
    failure = '<failure message="still failing" type="java.lang.AssertionError"/>'
    xml = xml.replace("<flakyFailure", failure + "<rerunFailure")
    return xml.replace("</flakyFailure>", "</rerunFailure>").encode()


def gradle_retried(realdata_dir) -> bytes:
    """Gradle's test-retry plugin: the failed attempt, then the same test again, passing (an extra <testcase>)."""
    xml = real(realdata_dir, "gradle-TEST-com.foo.FooTest-expected.xml").decode()
    retry = '<testcase name="some failing test" classname="com.foo.FooTest" time="0.01"/>'
    return xml.replace("</testsuite>", retry + "</testsuite>", 1).encode()


def go_count_mixed(realdata_dir) -> bytes:
    """go test -count=3 where the second run failed: 016's three attempts, one of them with a <failure>."""
    xml = real(realdata_dir, "go-junit-report-016-repeated-names.xml").decode()
    head, sep, tail = xml.partition("</testcase>")
    second = tail.replace("></testcase>", '><failure message="Failed" type=""></failure></testcase>', 1)
    if second == tail:  # self-closing attempts
        second = tail.replace('time="0.000"/>', 'time="0.000"><failure message="Failed"></failure></testcase>', 1)
    return (head + sep + second).encode()


# (row id, producer shape, test id, expected state after a verified test meets it)
ROWS = [
    ("pytest-pass", "pytest", "test_regression.py::test_pass", "verified"),
    ("pytest-failure", "pytest", "test_regression.py::test_failure", "failing"),
    ("pytest-setup-error", "pytest", "test_regression.py::test_setup_error", "failing"),
    ("pytest-pass-then-teardown-error", "pytest", "test_regression.py::test_pass_then_teardown_error", "failing"),
    ("pytest-failure-then-teardown-error", "pytest", "test_regression.py::test_failure_then_teardown_error", "failing"),
    ("pytest-skip", "pytest", "test_regression.py::test_skip", "verified"),
    ("pytest-skip-then-teardown-error", "pytest", "test_regression.py::test_skip_then_teardown_error", "failing"),
    ("pytest-xfail", "pytest", "test_regression.py::test_xfail", "verified"),
    ("pytest-xpass", "pytest", "test_regression.py::test_xpass", "verified"),
    ("pytest-xpass-strict", "pytest", "test_regression.py::test_xpass_strict", "failing"),
    ("pytest-old-teardown-entry", "old-pytest", "test_regression.py::test_pass_then_teardown_error", "failing"),
    ("surefire-pass", "surefire-errors-failures.xml",
     "action.surefire.report.email.EmailAddressTest::shouldBeGoodEnoughForSalesforce", "verified"),
    ("surefire-failure", "surefire-errors-failures.xml",
     "action.surefire.report.email.EmailAddressTest::shouldNotMissComponents", "failing"),
    ("surefire-error", "surefire-errors-failures.xml",
     "action.surefire.report.email.EmailAddressTest::shouldNotBeBlank", "failing"),
    ("surefire-flakyFailure", "surefire-flaky.xml",
     "io.sodadata.dependson.soda.integrations.msteams.MicrosoftTeamsCrudTest::createWebhook", "failing"),
    ("surefire-rerunFailure", "surefire-rerun",
     "io.sodadata.dependson.soda.integrations.msteams.MicrosoftTeamsCrudTest::createWebhook", "failing"),
    ("gradle-pass", "gradle.xml", "com.foo.FooTest::some test", "verified"),
    ("gradle-failure", "gradle.xml", "com.foo.FooTest::some failing test", "failing"),
    ("gradle-skip", "gradle.xml", "com.foo.FooTest::some skipped test", "verified"),
    ("gradle-retried-then-passed", "gradle-retry", "com.foo.FooTest::some failing test", "failing"),
    ("go-count-all-pass", "go-016.xml", "package/repeated-names::TestRepeat", "verified"),
    ("go-count-one-failed", "go-count-mixed", "package/repeated-names::TestRepeat", "failing"),
    ("go-failure", "go-001.xml", "package/fail::TestOne", "failing"),
    ("go-skip", "go-001.xml", "package/skip::TestSkip", "verified"),
    ("go-panic", "go-014.xml", "package/panic::Failure", "failing"),
    ("jest-pass", "jest.xml", "__tests__/main.test.js::Test 1 › Passing test", "verified"),
    ("jest-failure", "jest.xml", "__tests__/main.test.js::Test 1 › Test 1.1 › Failing test", "failing"),
    ("jest-skip", "jest.xml", "__tests__/second.test.js::Skipped test", "verified"),
    ("jest-suite-failed-to-run", "jest-suite.xml", "libs/foo.spec.ts::Test suite failed to run", "failing"),
    ("testng-retried-then-failed", "testng.xml",
     "org.apache.pulsar.AddMissingPatchVersionTest::testVersionStrings", "failing"),
    ("testng-retried-then-passed", "testng-merged.xml",
     "org.apache.pulsar.broker.transaction.buffer.TransactionStablePositionTest::commitTxnTest", "failing"),
    ("mocha-pass", "mocha.xml", "bibtexParser::parse a simple bib file", "verified"),
]  # fmt: skip

FILES = {
    "surefire-errors-failures.xml": "surefire-TEST-EmailAddressTest-errors-failures.xml",
    "surefire-flaky.xml": "surefire-flakyFailure-rerun.xml",
    "gradle.xml": "gradle-TEST-com.foo.FooTest-expected.xml",
    "go-016.xml": "go-junit-report-016-repeated-names.xml",
    "go-001.xml": "go-junit-report-001-pass-fail-skip.xml",
    "go-014.xml": "go-junit-report-014-panic-errors.xml",
    "jest.xml": "jest-junit-failures-ancestors.xml",
    "jest-suite.xml": "jest-junit-suite-failed-to-run.xml",
    "testng.xml": "testng-junitreport-pulsar-retried.xml",
    "testng-merged.xml": "merged-pulsar-testng-808-tests.xml",
    "mocha.xml": "mocha-xunit-reporter-latex-utensils.xml",
}


def report_for(shape: str, request, realdata_dir) -> tuple[bytes, str]:
    if shape == "pytest":
        return request.getfixturevalue("pytest_report"), "report.xml"
    if shape == "old-pytest":
        return OLD_PYTEST_TEARDOWN, "report.xml"
    made = {"surefire-rerun": surefire_rerun_failure, "gradle-retry": gradle_retried, "go-count-mixed": go_count_mixed}
    if shape in made:
        name = {"surefire-rerun": "TEST-x.xml", "gradle-retry": "TEST-com.foo.FooTest.xml"}.get(shape, "report.xml")
        return made[shape](realdata_dir), name
    return real(realdata_dir, FILES[shape]), FILES[shape]


@pytest.mark.parametrize(("shape", "test_id", "expected"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_a_verified_regression_test_meets_one_run(request, realdata_dir, shape, test_id, expected):
    repository = RepositoryFactory(default_branch="main")
    postmortem = PostMortemFactory(published=True)
    test, _ = regression_test_link(postmortem=postmortem, repository=repository, test_id=test_id, actor=None)
    regression_test_verify_by_hand(regression_test_id=test.pk, reason="seen passing before", actor=None)
    content, filename = report_for(shape, request, realdata_dir)

    result = ci_run_upload(repository=repository, branch="main", commit="later", content=content, filename=filename)

    assert result.tests > 0
    test.refresh_from_db()
    assert test.state == expected


def test_every_row_of_the_table_is_tested():
    """docs/regression-tests.md lists exactly the rows above, so the table and the tests cannot drift apart."""
    from pathlib import Path

    from django.conf import settings

    doc = (Path(settings.BASE_DIR) / "docs" / "regression-tests.md").read_text()
    rows = {line.split("|")[1].strip().strip("`") for line in doc.splitlines() if line.startswith("| `")}
    assert rows == {row[0] for row in ROWS}
