"""The shapes a parsed JUnit upload comes out as, and the error an unreadable one raises.

``parse_junit`` (``postmortems.junit``) returns a :class:`JUnitReport`; its results are
:class:`TestResult` s, one per canonical test id with all attempts folded together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
"""Default upload limit in bytes (50 MiB); the web layer passes ``settings.SREDESK_JUNIT_MAX_BYTES``."""

MESSAGE_MAX_CHARS = 500
"""A kept failure/skip message is its first non-empty line, cut to this many characters."""

Outcome = Literal["passed", "failed", "error", "skipped", "xfail"]


class JUnitError(ValueError):
    """The upload cannot be read as a JUnit report; ``str(err)`` is a sentence to show the uploader."""


@dataclass(frozen=True, slots=True)
class TestResult:
    """One test in one report, all its attempts folded together.

    - ``test_id``: canonical ``::`` id (see the module docstring).
    - ``outcome``: the last attempt's outcome; for TestNG the last attempt that is not
      its "skipped" retry marker; a pytest teardown error folds into its test's run.
    - ``flaky``: attempts disagreed (go ``-count``, TestNG retry) or Surefire recorded
      ``<flakyFailure>``/``<flakyError>``. A flaky result never counts as passed.
    - ``attempts``: runs the report shows (repeated ``<testcase>`` elements plus
      Surefire ``flaky*``/``rerun*`` children).
    - ``classname``, ``name``, ``file``: raw attributes of the deciding attempt, kept so
      ids can be recomputed if the rules change.
    - ``message``: first non-empty line of that attempt's failure/error/skip message
      (or of a flaky failure), at most ``MESSAGE_MAX_CHARS`` characters.
    - ``duration_seconds``: sum of the attempts' ``time`` attributes, in seconds;
      ``None`` when none had one.
    - ``properties``: test-case ``<properties>`` (pytest ``record_property``,
      jest-junit), e.g. ``{"incident": "INC-42"}``; suite-level ones are not included.
    - ``suite``: ``<testsuite>`` names, outermost first, joined by `` › ``.
    - ``line``: the ``line`` attribute (pytest xunit1, PHPUnit), if any.
    """

    __test__ = False  # not a pytest test class, despite the name

    test_id: str
    outcome: Outcome
    flaky: bool
    attempts: int
    classname: str
    name: str
    file: str
    message: str
    duration_seconds: float | None
    properties: dict[str, str]
    suite: str
    line: int | None = None

    @property
    def passed(self) -> bool:
        """True only for a clean pass: a flaky pass does not verify a regression test."""
        return self.outcome == "passed" and not self.flaky


@dataclass(frozen=True, slots=True)
class JUnitTotals:
    """Counts computed from the ``<testcase>`` elements, never from suite attributes.

    ``tests``: distinct canonical ids (= ``len(results)``); ``testcases``: ``<testcase>``
    elements read (repeats included). ``passed``: results whose ``.passed`` is true (a
    flaky pass is not counted here); ``failed``/``error``/``skipped``/``xfail``: results by
    final outcome; ``flaky``: results marked flaky, whatever their final outcome.
    ``duration_seconds``: sum of every ``<testcase time>``, in seconds.
    """

    tests: int
    testcases: int
    passed: int
    failed: int
    error: int
    skipped: int
    xfail: int
    flaky: int
    duration_seconds: float


@dataclass(frozen=True, slots=True)
class JUnitReport:
    """A parsed upload: the detected (or hinted) ``producer``, one result per canonical id in
    order of first appearance, and ``totals``."""

    producer: str
    results: list[TestResult]
    totals: JUnitTotals

    def by_id(self) -> dict[str, TestResult]:
        """Results keyed by canonical test id, for matching linked regression tests."""
        return {r.test_id: r for r in self.results}
