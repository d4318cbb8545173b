"""postmortems.junit: every real JUnit file in shared/realdata/junit, plus inline XML for safety and edge cases.

Run with SREDESK_REALDATA_DIR=/work/shared/realdata (the files are read in place, never copied).
"""

import io
import time
import unicodedata
from pathlib import Path

import pytest

from postmortems import junit
from postmortems.junit import JUnitError, parse_junit, parse_seconds, relative_path
from postmortems.testids import canonical_test_id

# file -> (producer, (tests, testcases, passed, failed, error, skipped, xfail, flaky))
EXPECTED = {
    "go-junit-report-001-pass-fail-skip.xml": ("go", (5, 5, 2, 1, 0, 2, 0, 0)),
    "go-junit-report-012-subtests.xml": ("go", (11, 11, 6, 4, 0, 1, 0, 0)),
    "go-junit-report-014-panic-errors.xml": ("go", (2, 2, 0, 0, 2, 0, 0, 0)),
    "go-junit-report-016-repeated-names.xml": ("go", (1, 3, 1, 0, 0, 0, 0, 0)),
    "go-junit-report-022-bench.xml": ("go", (3, 3, 3, 0, 0, 0, 0, 0)),
    "go-junit-report-105-panic-gojson.xml": ("go", (1, 1, 0, 0, 1, 0, 0, 0)),
    "gradle-TEST-com.Foo-output-per-test-expected.xml": ("gradle", (2, 2, 2, 0, 0, 0, 0, 0)),
    "gradle-TEST-com.foo.FooTest-expected.xml": ("gradle", (4, 4, 2, 1, 0, 1, 0, 0)),
    "jest-junit-empty-classname.xml": ("jest", (2, 2, 2, 0, 0, 0, 0, 0)),
    "jest-junit-failures-ancestors.xml": ("jest", (6, 6, 1, 4, 0, 1, 0, 0)),
    "jest-junit-suite-failed-to-run.xml": ("jest", (2, 2, 0, 0, 2, 0, 0, 0)),
    # 808 <testcase>s, 670 distinct ids: TestNG retries and data-provider invocations share a name.
    "merged-pulsar-testng-808-tests.xml": ("testng", (670, 808, 662, 1, 0, 3, 0, 5)),
    # 109 <testcase>s, 101 ids: mocha titles repeated inside one describe fold into attempts.
    "mocha-xunit-reporter-latex-utensils.xml": ("mocha", (101, 109, 101, 0, 0, 0, 0, 0)),
    "nested-testsuites.xml": ("unknown", (5, 5, 2, 3, 0, 0, 0, 0)),
    "phpunit-style-testsuite-in-testsuite.xml": ("phpunit", (5, 5, 5, 0, 0, 0, 0, 0)),
    "pytest-horovod-fail-file-line.xml": ("pytest", (5, 5, 3, 1, 0, 1, 0, 0)),
    "pytest-horovod-gloo-static-skips.xml": ("pytest", (24, 24, 12, 0, 0, 12, 0, 0)),
    "pytest-parametrized-xfail-properties.xml": ("pytest", (10, 10, 6, 2, 0, 1, 1, 0)),
    "pytest-single-line-two-failures.xml": ("pytest", (3, 3, 1, 2, 0, 0, 0, 0)),
    "surefire-TEST-CalcUtilsTest-kotlin-spaces.xml": ("surefire", (2, 2, 0, 2, 0, 0, 0, 0)),
    "surefire-TEST-EmailAddressTest-errors-failures.xml": ("surefire", (9, 9, 2, 2, 5, 0, 0, 0)),
    "surefire-flakyFailure-rerun.xml": ("surefire", (1, 1, 0, 0, 0, 0, 0, 1)),
    "testng-junitreport-pulsar-retried.xml": ("testng", (1, 2, 0, 1, 0, 0, 0, 1)),
}
NOT_JUNIT = {"go-junit-report-001-pass-fail-skip.input.txt"}  # raw `go test -v` output, the 001 report's input


@pytest.fixture(scope="module")
def junit_dir(realdata_dir) -> Path:
    return realdata_dir / "junit"


def parse_file(junit_dir: Path, name: str, **kwargs) -> junit.JUnitReport:
    with (junit_dir / name).open("rb") as fh:  # a file object: the streaming path
        return parse_junit(fh, filename=name, **kwargs)


def by_id(report: junit.JUnitReport) -> dict[str, junit.TestResult]:
    return report.by_id()


# --------------------------------------------------------------------------- every real file


def test_every_real_file_has_expectations(junit_dir):
    assert {p.name for p in junit_dir.iterdir()} == set(EXPECTED) | NOT_JUNIT


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_file_producer_and_counts(junit_dir, name):
    report = parse_file(junit_dir, name)
    producer, counts = EXPECTED[name]
    t = report.totals
    assert report.producer == producer
    assert (t.tests, t.testcases, t.passed, t.failed, t.error, t.skipped, t.xfail, t.flaky) == counts
    assert t.tests == len(report.results) == len(by_id(report))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_ids_round_trip_through_canonical_test_id(junit_dir, name):
    for result in parse_file(junit_dir, name).results:
        assert canonical_test_id(result.test_id) == result.test_id
        assert unicodedata.is_normalized("NFC", result.test_id)


@pytest.mark.parametrize(
    "name",
    sorted(EXPECTED),
)
def test_real_ids_come_from_the_tool_rules_alone(junit_dir, name, monkeypatch):
    """canonical_test_id is a no-op on every real id: the per-tool rules already produce canonical ids."""
    expected = [r.test_id for r in parse_file(junit_dir, name).results]
    monkeypatch.setattr(junit.ids, "canonical_test_id", lambda raw: raw)
    assert [r.test_id for r in parse_file(junit_dir, name).results] == expected


def test_raw_go_test_output_is_refused_with_a_sentence(junit_dir):
    with pytest.raises(JUnitError, match=r"not well-formed XML .*line 1, column \d+.*upload the JUnit XML"):
        parse_file(junit_dir, "go-junit-report-001-pass-fail-skip.input.txt")


def test_go_pass_fail_skip(junit_dir):
    results = by_id(parse_file(junit_dir, "go-junit-report-001-pass-fail-skip.xml"))
    assert list(results) == [
        "package/pass::TestPass",
        "package/pass::TestPassLog",
        "package/fail::TestOne",
        "package/skip::TestSkip",
        "package/skip::TestSkipNow",
    ]
    assert results["package/fail::TestOne"].outcome == "failed"
    assert results["package/fail::TestOne"].message == "Failed"
    assert results["package/skip::TestSkip"].outcome == "skipped"
    assert results["package/pass::TestPassLog"].duration_seconds == pytest.approx(0.1)
    assert results["package/pass::TestPass"].suite == "package/pass"


def test_go_subtests_keep_hierarchy_and_numbered_duplicates(junit_dir):
    results = by_id(parse_file(junit_dir, "go-junit-report-012-subtests.xml"))
    assert results["package/subtests::TestSubtests/Subtest"].passed
    assert results["package/subtests::TestSubtests/Subtest#01"].outcome == "failed"
    assert results["package/subtests::TestSubtests/Subtest#02"].outcome == "skipped"
    assert results["package/subtests::TestNestedSubtests/a#1/b#1/c#1"].passed
    # A parent fails with its child; each is a result of its own, a passing grandchild stays passed.
    assert results["package/subtests::TestFailingSubtestWithNestedSubtest"].outcome == "failed"
    assert results["package/subtests::TestFailingSubtestWithNestedSubtest/Subtest"].outcome == "failed"
    assert results["package/subtests::TestFailingSubtestWithNestedSubtest/Subtest/Subsubtest"].passed


def test_go_panic_becomes_an_error_named_failure(junit_dir):
    report = parse_file(junit_dir, "go-junit-report-014-panic-errors.xml")
    assert [(r.test_id, r.outcome, r.message) for r in report.results] == [
        ("package/panic::Failure", "error", "Runtime error"),
        ("package/panic2::Failure", "error", "Runtime error"),
    ]
    (gojson,) = parse_file(junit_dir, "go-junit-report-105-panic-gojson.xml").results
    assert (gojson.test_id, gojson.outcome) == ("package/name/panic::Failure", "error")


def test_go_count_repeats_are_attempts_of_one_test(junit_dir):
    (result,) = parse_file(junit_dir, "go-junit-report-016-repeated-names.xml").results
    assert (result.test_id, result.attempts, result.outcome, result.flaky) == (
        "package/repeated-names::TestRepeat",
        3,
        "passed",
        False,
    )


def test_go_benchmarks_are_test_cases(junit_dir):
    results = by_id(parse_file(junit_dir, "go-junit-report-022-bench.xml"))
    assert results["package/bench::BenchmarkTwo"].duration_seconds == pytest.approx(1.314)


def test_gradle_display_names_with_spaces(junit_dir):
    report = parse_file(junit_dir, "gradle-TEST-com.foo.FooTest-expected.xml")
    assert [r.test_id for r in report.results] == [
        "com.foo.FooTest::some test",
        "com.foo.FooTest::some test two",
        "com.foo.FooTest::some failing test",
        "com.foo.FooTest::some skipped test",
    ]
    failing = report.by_id()["com.foo.FooTest::some failing test"]
    assert (failing.outcome, failing.message) == ("failed", "failure message")
    per_test = parse_file(junit_dir, "gradle-TEST-com.Foo-output-per-test-expected.xml")
    assert [r.test_id for r in per_test.results] == ["com.Foo::m1", "com.Foo::m2"]


def test_jest_describe_chain_and_windows_suite_path(junit_dir):
    report = parse_file(junit_dir, "jest-junit-failures-ancestors.xml")
    assert [(r.test_id, r.outcome) for r in report.results] == [
        ("__tests__/main.test.js::Test 1 › Passing test", "passed"),
        ("__tests__/main.test.js::Test 1 › Test 1.1 › Failing test", "failed"),
        ("__tests__/main.test.js::Test 1 › Test 1.1 › Exception in target unit", "failed"),
        ("__tests__/main.test.js::Test 2 › Exception in test", "failed"),
        ("__tests__/second.test.js::Timeout test", "failed"),
        ("__tests__/second.test.js::Skipped test", "skipped"),
    ]
    # <failure> without a message attribute: its text's first line.
    assert report.results[1].message == "Error: expect(received).toBeTruthy()"


def test_jest_empty_classname_uses_the_suite_name(junit_dir):
    report = parse_file(junit_dir, "jest-junit-empty-classname.xml")
    assert [r.test_id for r in report.results] == [
        "widget.test.js::Load widget via link",
        "widget.test.js::Mount iframe",
    ]


def test_jest_suite_failed_to_run_is_an_error_of_the_file(junit_dir):
    report = parse_file(junit_dir, "jest-junit-suite-failed-to-run.xml")
    assert [(r.test_id, r.outcome, r.message) for r in report.results] == [
        ("libs/foo.spec.ts::Test suite failed to run", "error", "● Test suite failed to run"),
        ("libs/bar.spec.ts::Test suite failed to run", "error", "● Test suite failed to run"),
    ]


def test_testng_retry_is_one_flaky_failed_test(junit_dir):
    (result,) = parse_file(junit_dir, "testng-junitreport-pulsar-retried.xml").results
    assert result.test_id == "org.apache.pulsar.AddMissingPatchVersionTest::testVersionStrings"
    assert (result.outcome, result.flaky, result.attempts, result.passed) == ("failed", True, 2, False)
    assert result.message == "expected [1.2.1] but found [1.2.0]"
    assert result.duration_seconds == pytest.approx(0.116)


def test_merged_testng_report_streams_and_folds_retries(junit_dir):
    results = by_id(parse_file(junit_dir, "merged-pulsar-testng-808-tests.xml"))
    retried = results["org.apache.pulsar.AddMissingPatchVersionTest::testVersionStrings"]
    assert (retried.outcome, retried.flaky, retried.attempts) == ("failed", True, 2)
    # The merged file writes pass-then-skip: TestNG's skipped retry marker is not the result.
    commit = results["org.apache.pulsar.broker.transaction.buffer.TransactionStablePositionTest::commitTxnTest"]
    assert (commit.outcome, commit.flaky, commit.attempts, commit.passed) == ("passed", True, 2, False)
    # Data-provider invocations carry no parameters in TestNG's names: 32 runs of one id.
    negative = results["org.apache.pulsar.client.impl.NegativeAcksTest::testNegativeAcks"]
    assert (negative.attempts, negative.outcome, negative.flaky) == (32, "passed", False)
    assert results["org.apache.pulsar.PulsarBrokerStarterTest::testMainRunBookieNoConfig"].passed


def test_mocha_xunit_bare_root_keeps_backslashes_and_inner_spaces(junit_dir):
    report = parse_file(junit_dir, "mocha-xunit-reporter-latex-utensils.xml")
    results = report.by_id()
    assert report.results[0].test_id == "bibtexParser::parse a simple bib file"
    assert report.results[0].suite == "Mocha Tests"
    assert "latexParser parse::parse \\begin{center}..." in results
    assert 'latexParser parse 2::parse \\"\\i' in results
    # Two different tests whose titles differ only in a double space.
    assert "latexParser stringify::test latexParser.stringify a b" in results
    assert "latexParser stringify::test latexParser.stringify a  b" in results
    assert results["latexParser matchers latexParser findNodeAt::test latexParser.findNodeAt"].attempts == 3


def test_nested_suites_are_walked_with_their_path(junit_dir):
    report = parse_file(junit_dir, "nested-testsuites.xml")
    assert [(r.test_id, r.outcome, r.suite) for r in report.results] == [
        ("TestA::A", "failed", "All tests › tests › packet › TestA"),
        ("TestA::B", "passed", "All tests › tests › packet › TestA"),
        ("TestB::A", "passed", "All tests › tests › packet › TestB"),
        ("TestB::B", "failed", "All tests › tests › packet › TestB"),
        ("packet::A", "failed", "All tests › tests › packet"),
    ]


def test_phpunit_suites_in_suites(junit_dir):
    report = parse_file(junit_dir, "phpunit-style-testsuite-in-testsuite.xml")
    assert [(r.test_id, r.suite, r.line) for r in report.results] == [
        ("someName::TestCase1", "Project Test Suite › TestSuite1", 34),
        ("someName::TestCase2", "Project Test Suite › TestSuite1", 65),
        ("someName::TestCase3", "Project Test Suite › TestSuite2 › TestSuite2.1", 40),
        ("someName::TestCase4", "Project Test Suite › TestSuite2", 40),
        ("someName::TestCase5", "Project Test Suite", 40),
    ]
    assert report.results[0].duration_seconds == pytest.approx(1.32159)


def test_pytest_xunit1_file_decides_module_and_class(junit_dir):
    results = by_id(parse_file(junit_dir, "pytest-horovod-fail-file-line.xml"))
    failed = results["test/test_spark.py::SparkTests::test_rsh_events"]
    assert (failed.outcome, failed.file, failed.line) == ("failed", "test/test_spark.py", 819)
    # The message attribute's newlines arrive as spaces (XML attribute normalisation).
    assert failed.message.startswith("self = <test_spark.SparkTests testMethod=test_rsh_events> def test_rsh_events")
    skipped = results["test/test_spark.py::SparkTests::test_get_available_devices"]
    assert (skipped.outcome, skipped.message) == (
        "skipped",
        "get_available_devices only supported in Spark 3.0 and above",
    )
    gloo = by_id(parse_file(junit_dir, "pytest-horovod-gloo-static-skips.xml"))
    assert "test/integration/test_static_run.py::StaticRunTests::test_run_success_gloo_local_cmd" in gloo


def test_pytest_parametrized_xfail_and_properties(junit_dir):
    results = by_id(parse_file(junit_dir, "pytest-parametrized-xfail-properties.xml"))
    assert results["tests/test_lib.py::test_parameterized[param1]"].passed
    assert results["tests/test_lib.py::test_parameterized[param2]"].passed
    xfail = results["tests/test_lib.py::test_expected_failure"]
    assert (xfail.outcome, xfail.passed) == ("xfail", False)
    assert results["tests/test_lib.py::test_always_skip"].outcome == "skipped"
    assert results["tests/test_lib.py::test_error"].message == "Exception: error"
    assert results["tests/test_lib.py::test_with_record_property"].properties == {"example_key": "1"}
    # Suite-level properties are not test properties.
    assert results["tests/test_lib.py::test_always_pass"].properties == {}
    # record_xml_attribute overwrote classname and xunit2 has no file: nothing better to go on.
    assert "custom_classname.py::test_with_record_xml_attribute" in results


def test_pytest_single_line_report(junit_dir):
    report = parse_file(junit_dir, "pytest-single-line-two-failures.xml")
    assert [(r.test_id, r.outcome) for r in report.results] == [
        ("python/test_sample.py::test_which_succeeds", "passed"),
        ("python/test_sample.py::test_which_fails", "failed"),
        ("python/test_sample.py::test_with_error", "failed"),
    ]
    # "&#10;" in the attribute is a real newline (unlike a literal one): the first line is kept.
    assert report.results[1].message == "AssertionError: assert 'test' == 'xyz'"


def test_surefire_kotlin_names_with_spaces(junit_dir):
    report = parse_file(junit_dir, "surefire-TEST-CalcUtilsTest-kotlin-spaces.xml")
    assert [(r.test_id, r.message) for r in report.results] == [
        (
            "action.surefire.report.calc.CalcUtilsTest::test error handling",
            "unexpected exception type thrown; expected:<java.lang.IllegalStateException> "
            "but was:<java.lang.IllegalArgumentException>",
        ),
        # message="&#10;Expected: ...": the first non-empty line
        ("action.surefire.report.calc.CalcUtilsTest::test scale", "Expected: <100.10>"),
    ]


def test_surefire_errors_and_failures_keep_unicode(junit_dir):
    results = by_id(parse_file(junit_dir, "surefire-TEST-EmailAddressTest-errors-failures.xml"))
    prefix = "action.surefire.report.email.EmailAddressTest::"
    assert results[prefix + "shouldNotContainInternationalizedHostNames"].outcome == "error"
    assert results[prefix + "shouldNotContainInternationalizedHostNames"].message == (
        "Invalid email address 'user@ñandú.com.ar'"
    )
    assert results[prefix + "shouldBeStricterThanRfc2821"].message == "Invalid email address 😋 'Abc\\@def@example.com'"
    assert results[prefix + "shouldBeStricterThanRfc2822"].outcome == "failed"
    assert results[prefix + "shouldBeGoodEnoughForSalesforce"].passed


def test_surefire_flaky_failure_is_a_flaky_pass_not_a_pass(junit_dir):
    (result,) = parse_file(junit_dir, "surefire-flakyFailure-rerun.xml").results
    assert result.test_id == "io.sodadata.dependson.soda.integrations.msteams.MicrosoftTeamsCrudTest::createWebhook"
    assert (result.outcome, result.flaky, result.attempts, result.passed) == ("passed", True, 2, False)
    assert result.message == "Expected: <false>"


def test_the_whole_tree_is_never_held(junit_dir, monkeypatch):
    """The 808-test report is read in chunks and every finished element is detached from the tree."""
    roots = []
    real_iterparse = junit.reader.iterparse

    def spying_iterparse(source, **kwargs):
        for event, elem in real_iterparse(source, **kwargs):
            if not roots and event == "start":
                roots.append(elem)
            yield event, elem

    class ChunkCounter(io.RawIOBase):
        def __init__(self, raw):
            self.raw, self.reads = raw, []

        def readable(self):
            return True

        def read(self, size=-1):
            data = self.raw.read(size)
            self.reads.append(len(data))
            return data

    monkeypatch.setattr(junit.reader, "iterparse", spying_iterparse)
    with (junit_dir / "merged-pulsar-testng-808-tests.xml").open("rb") as fh:
        counter = ChunkCounter(fh)
        report = parse_junit(counter, filename="merged-pulsar-testng-808-tests.xml")
    assert report.totals.testcases == 808
    assert len(roots[0]) == 0 and not list(roots[0].iter("testcase"))
    assert len(counter.reads) > 5 and max(counter.reads) <= 64 * 1024


# --------------------------------------------------------------------------- safety

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<testsuite name="pytest">
  <testcase classname="tests.test_a" name="test_x"><failure message="&lol9;"/></testcase>
</testsuite>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuite name="pytest">
  <testcase classname="tests.test_a" name="test_x"><failure message="&xxe;"/></testcase>
</testsuite>
"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE testsuite SYSTEM "http://example.invalid/junit.dtd">
<testsuite name="pytest"><testcase classname="tests.test_a" name="test_x"/></testsuite>
"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, XXE, EXTERNAL_DTD], ids=["billion-laughs", "xxe", "external-dtd"])
def test_entity_and_dtd_payloads_are_refused_never_expanded(payload):
    started = time.monotonic()
    with pytest.raises(JUnitError, match=r"declares a DTD .* upload the file your test runner wrote") as err:
        parse_junit(payload)
    assert time.monotonic() - started < 1
    assert "lollol" not in str(err.value) and "root:" not in str(err.value)


def test_oversized_bytes_are_refused_before_parsing(monkeypatch):
    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed an oversized upload")

    monkeypatch.setattr(junit.reader, "iterparse", no_parsing)
    with pytest.raises(JUnitError, match=r"is 200 bytes, over the limit of 100 bytes .* SREDESK_JUNIT_MAX_BYTES"):
        parse_junit(b"x" * 200, max_bytes=100)


def test_oversized_seekable_file_is_refused_before_reading():
    stream = io.BytesIO(b"<testsuite>" + b" " * 5000 + b"</testsuite>")
    with pytest.raises(JUnitError, match="over the"):
        parse_junit(stream, max_bytes=1000)
    assert stream.tell() == 0


def test_upload_size_attribute_is_checked_first():
    class Upload(io.BytesIO):
        size = 60 * 1024 * 1024  # what Django's UploadedFile reports

        def seekable(self):
            return False

    with pytest.raises(JUnitError, match=r"is 60 MiB, over the limit of 50 MiB for one upload"):
        parse_junit(Upload(b"<testsuite/>"))


def test_oversized_stream_of_unknown_size_stops_while_reading():
    class Pipe(io.RawIOBase):
        def __init__(self):
            self.sent = 0

        def readable(self):
            return True

        def read(self, size=-1):
            size = 4096 if size is None or size < 0 else size
            chunk = (b"<testsuite>" if self.sent == 0 else b"<!-- padding -->" * 256)[:size]
            self.sent += len(chunk)
            return chunk

    pipe = Pipe()
    with pytest.raises(JUnitError, match=r"The report is over the limit of 16,384 bytes"):
        parse_junit(pipe, max_bytes=16 * 1024)
    assert pipe.sent < 64 * 1024


@pytest.mark.parametrize(
    ("payload", "sentence"),
    [
        (b"", r"The file is empty"),
        (b"   \n", r"The file is empty"),
        (b"this is not xml", r"not well-formed XML \(.*line 1, column 0\); upload the JUnit XML report"),
        (b'{"tests": 3}', r"not well-formed XML"),
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", r"This is an HTML page, not a JUnit XML"),
        (b"<html><body>502 Bad Gateway</body></html>", r"This is an HTML page, not a JUnit XML"),
        (b"<report><test/></report>", r"root element is <report>, but a JUnit report starts with <testsuites>"),
        (b'<testsuite name="x"><testcase name="a">', r"ends before the report is complete .* cut off"),
    ],
)
def test_unreadable_uploads_raise_a_sentence(payload, sentence):
    with pytest.raises(JUnitError, match=sentence):
        parse_junit(payload)


def test_unknown_format_hint_is_refused():
    with pytest.raises(JUnitError, match="Unknown report format 'nunit'; use one of pytest, jest"):
        parse_junit(b"<testsuites/>", fmt="nunit")


def test_text_is_not_accepted_as_a_source():
    with pytest.raises(TypeError, match="bytes or a binary file"):
        parse_junit("<testsuites/>")


def test_empty_report_has_no_results():
    report = parse_junit(b'<testsuites name="jest tests" tests="0"></testsuites>')
    assert (report.producer, report.results, report.totals.tests) == ("jest", [], 0)


# --------------------------------------------------------------------------- shapes and ids, inline


def test_br27_pytest_params_with_colons_and_unicode_match_exactly():
    report = parse_junit(
        """<testsuite name="pytest" tests="3" failures="0" errors="0" skipped="0">
        <testcase classname="tests.test_pay.TestRefund" name="test_refund[1::2-ü]" time="0.01"/>
        <testcase classname="tests.test_pay.TestRefund" name="test_refund[1::2-ü-extra]" time="0.01">
          <failure message="boom">x</failure></testcase>
        <testcase classname="tests.test_pay.TestRefund" name="test_refund" time="0.01"/>
        </testsuite>""".encode()
    )
    linked = canonical_test_id("tests/test_pay.py::TestRefund::test_refund[1::2-ü]")
    results = report.by_id()
    assert list(results) == [
        "tests/test_pay.py::TestRefund::test_refund[1::2-ü]",
        "tests/test_pay.py::TestRefund::test_refund[1::2-ü-extra]",
        "tests/test_pay.py::TestRefund::test_refund",
    ]
    assert results[linked].passed
    assert results["tests/test_pay.py::TestRefund::test_refund[1::2-ü-extra]"].outcome == "failed"


def test_decomposed_unicode_becomes_nfc():
    name = unicodedata.normalize("NFD", "test_café[é]")
    xml = f'<testsuite name="pytest"><testcase classname="tests.test_ü" name="{name}"/></testsuite>'
    (result,) = parse_junit(unicodedata.normalize("NFD", xml).encode()).results
    assert result.test_id == "tests/test_ü.py::test_café[é]"
    assert unicodedata.is_normalized("NFC", result.test_id)


@pytest.mark.parametrize(
    "document",
    [
        # (a) bare <testsuite> with a namespace and the xsi attribute
        '<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="x.xsd"'
        ' name="pkg.RegTest">{case}</testsuite>',
        # (a') a default namespace on every element
        '<testsuite xmlns="urn:example:junit" name="pkg.RegTest">{case}</testsuite>',
        # (b) <testsuites><testsuite>
        '<testsuites><testsuite name="pkg.RegTest">{case}</testsuite></testsuites>',
        # (c) nested suites
        '<testsuites><testsuite name="outer"><testsuite name="inner">{case}</testsuite></testsuite></testsuites>',
    ],
)
def test_br28_document_shapes_all_find_the_failure(document):
    case = '<testcase classname="pkg.RegTest" name="test_issue_123"><failure message="boom"/></testcase>'
    report = parse_junit(document.format(case=case).encode())
    (result,) = report.results
    assert (result.test_id, result.outcome, report.totals.failed) == ("pkg.RegTest::test_issue_123", "failed", 1)


def pytest_report(*cases: str, root_attrs: str = 'name="pytest"') -> junit.JUnitReport:
    return parse_junit(f"<testsuites><testsuite {root_attrs}>{''.join(cases)}</testsuite></testsuites>".encode())


@pytest.mark.parametrize(
    ("attrs", "test_id"),
    [
        (
            'classname="tests.test_a.TestOuter.TestInner" name="test_x[1-2]"',
            "tests/test_a.py::TestOuter::TestInner::test_x[1-2]",
        ),
        ('classname="tests.API.test_x.TestFoo" name="test_y"', "tests/API/test_x.py::TestFoo::test_y"),
        ('classname="test_root" name="test_y[a b/c]"', "test_root.py::test_y[a b/c]"),
        ('classname="tests.unit.test_a" file="tests\\unit\\test_a.py" name="test_w"', "tests/unit/test_a.py::test_w"),
        (
            'classname="tests.test_a.TestA" file="/home/runner/work/pay/pay/tests/test_a.py" name="test_v"',
            "tests/test_a.py::TestA::test_v",
        ),
        (
            'classname="tests.test_a.TestA" file="/srv/ci/checkout/tests/test_a.py" name="test_v"',
            "tests/test_a.py::TestA::test_v",
        ),
        # a test inherited from a base class: file is where it is defined, the node id is the collecting module
        ('classname="tests.test_a.TestA" file="tests/base.py" name="test_u"', "tests/test_a.py::TestA::test_u"),
        ('classname="custom" file="tests/test_a.py" name="test_t"', "tests/test_a.py::test_t"),
    ],
)
def test_pytest_ids(attrs, test_id):
    (result,) = pytest_report(f"<testcase {attrs}/>").results
    assert result.test_id == test_id
    assert canonical_test_id(result.test_id) == test_id


def test_pytest_teardown_error_entry_is_not_a_second_attempt():
    report = pytest_report(
        '<testcase classname="tests.test_a" name="test_x"/>',
        '<testcase classname="tests.test_a" name="test_x">'
        '<error message="failed on teardown with &quot;AssertionError&quot;">trace</error></testcase>',
    )
    (result,) = report.results
    assert (result.outcome, result.flaky, result.attempts) == ("error", False, 1)
    assert result.message == 'failed on teardown with "AssertionError"'


def test_properties_carry_an_incident_link():
    (result,) = pytest_report(
        '<testcase classname="tests.test_pay" name="test_retry">'
        '<properties><property name="incident" value="INC-42"/><property name="owner">payments</property>'
        "</properties></testcase>"
    ).results
    assert result.properties == {"incident": "INC-42", "owner": "payments"}


@pytest.mark.parametrize(
    ("outcomes", "final", "flaky"),
    [
        (["", ""], "passed", False),
        (["", "<failure/>"], "failed", True),
        (["<failure/>", ""], "passed", True),
        (["<error/>", "<error/>"], "error", False),
    ],
)
def test_go_count_attempts_last_wins_and_disagreement_is_flaky(outcomes, final, flaky):
    cases = "".join(f'<testcase classname="example.com/pay" name="TestRetry/eu">{o}</testcase>' for o in outcomes)
    xml = (
        '<testsuites><testsuite name="example.com/pay">'
        f'<properties><property name="go.version" value="go1.22"/></properties>{cases}</testsuite></testsuites>'
    )
    report = parse_junit(xml.encode())
    (result,) = report.results
    assert report.producer == "go"
    assert (result.test_id, result.outcome, result.flaky, result.attempts) == (
        "example.com/pay::TestRetry/eu",
        final,
        flaky,
        2,
    )
    assert result.passed is (final == "passed" and not flaky)


def test_surefire_rerun_failures_are_failed_attempts():
    xml = b"""<testsuite name="com.acme.PayTest"><testcase classname="com.acme.PayTest" name="retries">
      <failure message="first" type="java.lang.AssertionError">t</failure>
      <rerunFailure message="second" type="java.lang.AssertionError"><stackTrace>t</stackTrace></rerunFailure>
      <rerunError message="third" type="java.io.IOException"><stackTrace>t</stackTrace></rerunError>
    </testcase></testsuite>"""
    report = parse_junit(xml)
    (result,) = report.results
    assert report.producer == "surefire"
    assert (result.outcome, result.flaky, result.attempts, result.message) == ("failed", False, 3, "first")


@pytest.mark.parametrize(
    ("name", "method"),
    [("testIoException()", "testIoException"), ("test(String)[1]", "test(String)[1]"), ("[2] eu, 30s", "[2] eu, 30s")],
)
def test_java_method_names(name, method):
    xml = f'<testsuite name="com.acme.PayTest"><testcase classname="com.acme.PayTest" name="{name}"/></testsuite>'
    (result,) = parse_junit(xml.encode(), filename="build/test-results/test/TEST-com.acme.PayTest.xml").results
    assert result.test_id == f"com.acme.PayTest::{method}"


@pytest.mark.parametrize(
    ("attrs", "test_id"),
    [
        ('classname="checkout  retries" name="checkout  retries"', "src/pay.test.ts::checkout › retries"),
        ('classname="checkout > retries" name="checkout > retries"', "src/pay.test.ts::checkout › retries"),
        ('classname="checkout" name="retries"', "src/pay.test.ts::checkout › retries"),
        ('classname="checkout" name="checkout retries"', "src/pay.test.ts::checkout retries"),
    ],
)
def test_jest_ids(attrs, test_id):
    xml = (
        '<testsuites name="jest tests"><testsuite name="checkout">'
        f'<testcase {attrs} file="/home/runner/work/pay/pay/src/pay.test.ts"/></testsuite></testsuites>'
    )
    (result,) = parse_junit(xml.encode()).results
    assert result.test_id == test_id


def test_mocha_junit_reporter_full_title():
    xml = (
        '<testsuites name="Mocha Tests"><testsuite name="Root Suite"/><testsuite name="checkout" file="./test/pay.js">'
        '<testcase name="checkout retries on timeout" classname="retries on timeout"/></testsuite></testsuites>'
    )
    (result,) = parse_junit(xml.encode()).results
    assert result.test_id == "checkout::checkout retries on timeout"


@pytest.mark.parametrize(
    ("filename", "fmt", "producer", "test_id"),
    [
        ("report.xml", None, "unknown", "tests.test_a::test_x"),
        ("report.xml", "pytest", "pytest", "tests/test_a.py::test_x"),
        ("TEST-tests.test_a.xml", None, "surefire", "tests.test_a::test_x"),
        ("pytest-results.xml", None, "pytest", "tests/test_a.py::test_x"),
        ("pytest-results.xml", "junit", "surefire", "tests.test_a::test_x"),
    ],
)
def test_format_hint_overrides_and_filename_helps(filename, fmt, producer, test_id):
    xml = b'<testsuite name="all"><testcase classname="tests.test_a" name="test_x"/></testsuite>'
    report = parse_junit(xml, filename=filename, fmt=fmt)
    assert (report.producer, report.results[0].test_id) == (producer, test_id)


def test_messages_keep_first_line_capped_and_drop_ansi_colours():
    long = "x" * 2000
    xml = (
        '<testsuites name="jest tests"><testsuite name="a.test.js">'
        '<testcase classname="" name="colour"><failure>\x1b[31mexpected\x1b[39m 1\nsecond line</failure></testcase>'
        f'<testcase classname="" name="long"><failure message="{long}"/></testcase>'
        "</testsuite></testsuites>"
    )
    colour, capped = parse_junit(xml.encode()).results  # raw ESC bytes: not XML 1.0, dropped by the reader
    assert colour.message == "expected 1"
    assert len(capped.message) == junit.MESSAGE_MAX_CHARS


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("0.045", 0.045),
        ("1,234.5", 1234.5),
        ("1.234,5", 1234.5),
        ("0,5", 0.5),
        ("1,234,567", 1234567.0),
        (" 12 ", 12.0),
        ("", None),
        (None, None),
        ("fast", None),
        ("-1", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_time_is_read_defensively(raw, seconds):
    assert parse_seconds(raw) == (pytest.approx(seconds) if seconds is not None else None)


def test_missing_time_gives_no_duration():
    (result,) = pytest_report('<testcase classname="tests.test_a" name="test_x"/>').results
    assert result.duration_seconds is None


@pytest.mark.parametrize(
    ("path", "relative"),
    [
        ("/home/runner/work/pay/pay/tests/test_a.py", "tests/test_a.py"),
        ("D:\\a\\pay\\pay\\tests\\test_a.py", "tests/test_a.py"),
        ("/builds/acme/pay/tests/test_a.py", "tests/test_a.py"),
        ("/__w/pay/pay/src/a.test.ts", "src/a.test.ts"),
        ("./tests/test_a.py", "tests/test_a.py"),
        ("/srv/elsewhere/tests/test_a.py", "/srv/elsewhere/tests/test_a.py"),
    ],
)
def test_ci_workspace_prefixes_are_stripped(path, relative):
    assert relative_path(path) == relative


def test_params_with_spaced_colons_stay_verbatim():
    (result,) = pytest_report('<testcase classname="tests.test_a" name="test_x[a :: b]"/>').results
    assert result.test_id == "tests/test_a.py::test_x[a :: b]"
    assert canonical_test_id(result.test_id) == result.test_id


def test_params_with_double_colon_pairs_round_trip():
    (result,) = pytest_report('<testcase classname="tests.test_a" name="test_x[a::::b]"/>').results
    assert canonical_test_id(result.test_id) == result.test_id == "tests/test_a.py::test_x[a::::b]"


# --------------------------------------------------------------------------- where canonical_test_id disagrees
# Each is the id the parser's rules build; canonical_test_id (postmortems/testids.py) alters or refuses it,
# or does not map what a user pastes onto it. strict=True: these turn red once testids.py handles them.


def test_junit5_display_name_starting_with_index_round_trips():
    # Gradle/JUnit Platform writes parameterised display names such as "[1] eu, 30s" as the name.
    xml = b'<testsuite name="com.acme.PayTest"><testcase classname="com.acme.PayTest" name="[1] eu, 30s"/></testsuite>'
    (result,) = parse_junit(xml, fmt="gradle").results
    assert canonical_test_id(result.test_id) == result.test_id


def test_jest_file_with_brackets_in_its_path_round_trips():
    # Next.js dynamic routes: src/app/[id]/page.test.tsx
    xml = (
        b'<testsuites name="jest tests"><testsuite name="page">'
        b'<testcase classname="page" name="renders" file="src/app/[id]/page.test.tsx"/></testsuite></testsuites>'
    )
    (result,) = parse_junit(xml).results
    assert result.test_id == "src/app/[id]/page.test.tsx::page › renders"
    assert canonical_test_id(result.test_id) == result.test_id


def test_jest_title_ending_in_parentheses_stays_verbatim():
    xml = (
        '<testsuites name="jest tests"><testsuite name="a.test.js">'
        '<testcase classname="" name="calls api()"/></testsuite></testsuites>'
    )
    (result,) = parse_junit(xml.encode()).results
    assert result.test_id == "a.test.js::calls api()"


@pytest.mark.parametrize(
    ("pasted", "parser_id"),
    [
        ("src/pay.test.ts::checkout > retries", "src/pay.test.ts::checkout › retries"),
        ("/home/runner/work/pay/pay/tests/test_a.py::test_x", "tests/test_a.py::test_x"),
        ("App\\Tests\\PayTest::testRetry", "App.Tests.PayTest::testRetry"),
    ],
)
def test_pasted_forms_match_parser_ids(pasted, parser_id):
    assert canonical_test_id(pasted) == parser_id


def test_django_upload_is_read_as_a_stream(junit_dir):
    from django.core.files.uploadedfile import SimpleUploadedFile

    name = "surefire-TEST-EmailAddressTest-errors-failures.xml"
    upload = SimpleUploadedFile(name, (junit_dir / name).read_bytes(), content_type="application/xml")
    report = parse_junit(upload, filename=upload.name)
    assert (report.producer, report.totals.tests) == ("surefire", 9)
    with pytest.raises(JUnitError, match="over the limit of 1,000 bytes"):
        parse_junit(SimpleUploadedFile(name, (junit_dir / name).read_bytes()), max_bytes=1000)


# --- Documents built to take the parser's time (issue 12 item 5) ----------------------------------


class ReadCounter(io.BytesIO):
    """A report stream that remembers how far the parser read before it gave up."""

    read_bytes = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.read_bytes += len(chunk)
        return chunk

    def seekable(self):
        return False  # as a network stream: the size is not known up front


@pytest.mark.parametrize(
    "document",
    [
        # 21 MB of suites nested 400,000 deep, each test case then copying the whole suite path.
        b"<testsuites>" + b'<testsuite name="s">' * 400_000 + b'<testcase classname="a" name="b"/>' * 2000
        + b"</testsuite>" * 400_000 + b"</testsuites>",
        # Elements nested 2,000,000 deep inside one test case.
        b'<testsuites><testsuite name="pytest"><testcase classname="a" name="b">' + b"<x>" * 2_000_000
        + b"</x>" * 2_000_000 + b"</testcase></testsuite></testsuites>",
    ],
    ids=["suites-400k-deep", "elements-2M-deep"],
)  # fmt: skip
def test_a_deeply_nested_document_is_refused_at_the_depth_limit_not_read_to_the_end(document):
    stream = ReadCounter(document)
    with pytest.raises(JUnitError, match=f"more than {junit.reader.MAX_DEPTH} deep"):
        parse_junit(stream, max_bytes=len(document))
    assert stream.read_bytes < 256 * 1024, "the parser read on past the point where the nesting was too deep"


def test_a_document_of_too_many_elements_is_refused_once_it_has_that_many(monkeypatch):
    monkeypatch.setattr(junit.reader, "MAX_ELEMENTS", 10_000)
    document = b'<testsuites><testsuite name="pytest"><testcase classname="a" name="b">' + b"<x/>" * 1_000_000
    document += b"</testcase></testsuite></testsuites>"
    stream = ReadCounter(document)
    with pytest.raises(JUnitError, match="more than 10,000 XML elements"):
        parse_junit(stream, max_bytes=len(document))
    assert stream.read_bytes < 200_000


def test_every_real_report_is_within_the_depth_and_element_limits(junit_dir):
    for path in sorted(junit_dir.glob("*.xml")):
        parse_file(junit_dir, path.name)  # raises JUnitError if a limit refused a real report
