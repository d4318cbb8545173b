"""A safe, lenient JUnit XML parser: one CI upload in, test results with canonical ids out.

Pure Python, no database. The rules come from ``shared/FORMATS.md`` section (e)
"JUnit XML as real tools write it" and its "Canonical test id" part; the fixtures
that show each quirk are the files in ``shared/realdata/junit/``.

Shapes::

    parse_junit(source: bytes | BinaryIO, *, filename="", fmt=None, max_bytes=50 MiB) -> JUnitReport
    JUnitReport(producer: str, results: list[TestResult], totals: JUnitTotals)
    TestResult(test_id, outcome, flaky, attempts, classname, name, file, message,
               duration_seconds, properties, suite, line)

Safety: the size limit is checked before any byte is parsed (and enforced again
while reading, for streams that cannot tell their size); the XML goes through
defusedxml with DTDs, entity declarations and external references forbidden, so
"billion laughs" and XXE payloads are refused, never expanded; the document is
streamed with ``iterparse`` and every finished ``<testcase>`` (and suite-level
``<system-out>``/``<properties>``) is cleared and detached, so a large merged
report never sits in memory as one tree.

Canonical test ids (the ``::`` form of ``postmortems.testids``), per producer:

==========================  ===========================================================  ==========================
producer                    id                                                           rule from
==========================  ===========================================================  ==========================
pytest                      ``tests/test_lib.py::Class::test_x[params verbatim]``        FORMATS.md, pytest
                            (``file`` when present, else dotted classname -> path +       ``mangle_test_address``
                            ``.py``; trailing upper-case segments are classes)
surefire/gradle/testng      ``com.acme.FooTest::method`` (trailing ``()`` stripped,       FORMATS.md
                            ``[index]``/``(signature)`` kept)
go                          ``import/path::TestName/sub#01/sub``                          FORMATS.md, go-junit-report
jest                        ``<file or suite name>::describe › describe › title``         FORMATS.md, jest-junit
                            (classname == name used once; `` > `` and runs of spaces
                            between titles become `` › ``)
mocha                       xunit: ``<describe chain>::title``;                          mocha ``xunit`` reporter,
                            mocha-junit-reporter: ``<file or suite>::full title``        mocha-junit-reporter
phpunit, unknown            ``classname::name`` (empty classname: the innermost suite      FORMATS.md
                            name, then the upload's file name)
==========================  ===========================================================  ==========================

Every id then goes through :func:`postmortems.testids.canonical_test_id` (NFC; the part
before the first ``[`` is structure: trimmed parts, ``\\`` -> ``/`` and no leading ``./``
in the first part, a trailing ``()`` dropped; from ``[`` on, parameters are verbatim), so
what CI reports and what a user pastes are normalised by one function. Whitespace
inside names is kept as written: mocha has two different tests named
``... stringify a b`` and ``... stringify a  b``.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import BinaryIO, Literal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import iterparse

from postmortems.testids import canonical_test_id, relative_path

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
"""Default upload limit in bytes (50 MiB); the web layer passes ``settings.SREDESK_JUNIT_MAX_BYTES``."""

MESSAGE_MAX_CHARS = 500
"""A kept failure/skip message is its first non-empty line, cut to this many characters."""

PRODUCERS = ("pytest", "jest", "go", "surefire", "gradle", "testng", "phpunit", "mocha", "unknown")
_FMT_ALIASES = {
    "junit": "surefire",
    "maven": "surefire",
    "junit5": "surefire",
    "golang": "go",
    "go-junit-report": "go",
    "gotestsum": "go",
    "jest-junit": "jest",
    "xunit": "mocha",
    "mocha-junit-reporter": "mocha",
}

Outcome = Literal["passed", "failed", "error", "skipped", "xfail"]

# Outcome children of <testcase>, in the order they decide the outcome (FORMATS.md (e)).
_PRIMARY = {"failure": "failed", "error": "error", "skipped": "skipped"}
_FLAKY = {"flakyFailure", "flakyError"}  # Surefire rerun: failed first, passed on a rerun
_RERUN = {"rerunFailure", "rerunError"}  # Surefire rerun: still failing on every rerun
_SUITE_TAGS = {"testsuite", "testsuites"}
_JEST_SUITE_FAILED = "Test suite failed to run"
_ANSI = re.compile(r"\x1b?\[[0-9;]*m")  # colour codes, with or without the ESC the reader drops

# CI checkouts whose prefix is not part of the repository path (FORMATS.md (e), step 3).


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


# --------------------------------------------------------------------------- reading


@dataclass(slots=True)
class _Case:
    """One ``<testcase>`` element as read, before the producer is known."""

    classname: str
    name: str
    file: str
    line: int | None
    klass: str  # PHPUnit's ``class`` attribute
    suites: tuple[str, ...]
    outcome: Outcome
    message: str
    duration: float | None
    properties: dict[str, str]
    flaky: bool
    extra_runs: int  # Surefire flaky*/rerun* children: earlier runs of this same test


@dataclass(slots=True)
class _Signals:
    """What producer detection looks at (FORMATS.md (e), "Detect the producer")."""

    root_seen: bool = False
    root_name: str = ""
    suite_names: set[str] = field(default_factory=set)
    go_version: bool = False
    surefire_xsd: bool = False
    surefire_rerun: bool = False
    testng_comment: bool = False
    utc_timestamp: bool = False
    hostname: bool = False
    empty_properties: bool = False
    phpunit_attrs: bool = False
    jest_failed_suite: bool = False


class _TooLarge(Exception):
    pass


class _Reader:
    """The upload as iterparse reads it: at most ``limit`` bytes, and without C0 control characters.

    ``_TooLarge`` is raised past ``limit`` (for streams that could not tell their size up
    front). Control characters other than tab/newline/return are not allowed in XML 1.0
    but leak into real reports (ANSI colour codes from jest, raw test output from go), so
    they are dropped instead of failing the whole upload. In UTF-8 and other ASCII-based
    encodings those bytes are never part of a multi-byte character; a UTF-16/32 document
    (BOM or NUL in its first bytes) is passed through untouched.
    """

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        self._raw = raw
        self._left = limit
        self._filter: bool | None = None

    def read(self, size: int = -1) -> bytes:
        want = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        data = self._raw.read(want)
        self._left -= len(data)
        if self._left < 0:
            raise _TooLarge
        if self._filter is None and data:
            self._filter = not (data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4])
        return data.translate(None, _CONTROL_BYTES) if self._filter else data


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))


def _size_text(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MiB"


def _too_large(size: int | None, max_bytes: int) -> JUnitError:
    got = f"is {_size_text(size)}, over" if size is not None else "is over"
    return JUnitError(
        f"The report {got} the limit of {_size_text(max_bytes)} for one upload; upload one file per test "
        "task or module (e.g. each TEST-*.xml separately), or ask an admin to raise SREDESK_JUNIT_MAX_BYTES."
    )


def _open_limited(source: bytes | BinaryIO, max_bytes: int) -> _Reader:
    """Check the size before parsing; return a stream that cannot read past ``max_bytes``."""
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) > max_bytes:
            raise _too_large(len(source), max_bytes)
        return _Reader(io.BytesIO(source), max_bytes)
    if not hasattr(source, "read"):
        raise TypeError("parse_junit() takes the report as bytes or a binary file object.")
    size = getattr(source, "size", None)  # Django UploadedFile
    if not isinstance(size, int):
        size = _remaining_size(source)
    if size is not None and size > max_bytes:
        raise _too_large(size, max_bytes)
    return _Reader(source, max_bytes)


def _remaining_size(stream: BinaryIO) -> int | None:
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(here)
        return end - here
    except (AttributeError, OSError, ValueError):
        return None


def _local(tag: object) -> str:
    """Tag without an XML namespace (``{ns}testsuite`` -> ``testsuite``); comments have no str tag."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _scan(stream: _Reader, signals: _Signals) -> list[_Case]:
    """Stream the document: read each finished ``<testcase>``, collect detection signals, drop subtrees."""
    cases: list[_Case] = []
    stack: list[Element] = []
    suites: list[str] = []
    events = iterparse(stream, events=("start", "end", "comment"), forbid_dtd=True)
    for event, elem in events:
        if event == "comment":
            signals.testng_comment |= "org.testng" in (elem.text or "")
            continue
        tag = _local(elem.tag)
        if event == "start":
            if not stack:
                _check_root(tag)
                signals.root_seen = True
                signals.root_name = elem.get("name", "")
            if tag == "testsuite":
                suites.append(_text(elem.get("name")))
                _suite_signals(elem, signals)
            stack.append(elem)
            continue
        stack.pop()
        parent = _local(stack[-1].tag) if stack else ""
        if tag == "testcase" and parent in _SUITE_TAGS:
            cases.append(_read_case(elem, tuple(suites), signals))
        elif tag == "properties" and parent == "testsuite":
            signals.empty_properties |= len(elem) == 0
            signals.go_version |= any(p.get("name") == "go.version" for p in elem)
        elif tag == "testsuite":
            suites.pop()
        if parent in _SUITE_TAGS:
            # Finished child of a suite: drop it so the tree never grows with the file.
            # iterparse reports events a chunk late, so later siblings may already be attached:
            # remove by identity (the parent only ever holds the few not yet processed).
            elem.clear()
            with contextlib.suppress(ValueError):
                stack[-1].remove(elem)
    return cases


def _check_root(tag: str) -> None:
    if tag not in _SUITE_TAGS:
        raise _wrong_root(tag)


def _wrong_root(tag: str) -> JUnitError:
    if tag == "html":
        return JUnitError(
            "This is an HTML page, not a JUnit XML report; check that the CI step uploads the file "
            "the test runner wrote (e.g. pytest --junitxml=report.xml)."
        )
    return JUnitError(
        f"The XML root element is <{tag}>, but a JUnit report starts with <testsuites> or <testsuite>; "
        "upload the JUnit XML file your test runner wrote."
    )


def _suite_signals(elem: Element, signals: _Signals) -> None:
    name = elem.get("name")
    if name is not None and len(signals.suite_names) < 8:
        signals.suite_names.add(name)
    signals.surefire_xsd |= "surefire" in elem.get(
        "{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation", ""
    )
    signals.hostname |= elem.get("hostname") is not None
    signals.utc_timestamp |= elem.get("timestamp", "").endswith(" UTC")
    signals.phpunit_attrs |= elem.get("assertions") is not None


def _read_case(elem: Element, suites: tuple[str, ...], signals: _Signals) -> _Case:
    outcome: Outcome = "passed"
    message = ""
    decided = False
    flaky = False
    extra_runs = 0
    properties: dict[str, str] = {}
    for child in elem:
        tag = _local(child.tag)
        if tag in _PRIMARY and not decided:
            decided = True
            outcome = _PRIMARY[tag]
            if tag == "skipped" and child.get("type") == "pytest.xfail":
                outcome = "xfail"
            message = _first_line(child.get("message")) or _first_line(child.text)
        elif tag in _FLAKY | _RERUN:
            signals.surefire_rerun = True
            extra_runs += 1
            if tag in _FLAKY:
                flaky = True
            elif not decided:
                outcome = "failed"
            message = message or _first_line(child.get("message")) or _first_line(child.findtext("stackTrace"))
        elif tag == "properties":
            for prop in child:
                if _local(prop.tag) == "property" and prop.get("name"):
                    properties[_text(prop.get("name"))] = _text(prop.get("value", prop.text))
    classname = _text(elem.get("classname"))
    signals.jest_failed_suite |= classname == _JEST_SUITE_FAILED
    signals.phpunit_attrs |= elem.get("assertions") is not None or elem.get("class") is not None
    return _Case(
        classname=classname,
        name=_text(elem.get("name")),
        file=_text(elem.get("file")),
        line=_int(elem.get("line")),
        klass=_text(elem.get("class")),
        suites=suites,
        outcome=outcome,
        message=message,
        duration=parse_seconds(elem.get("time")),
        properties=properties,
        flaky=flaky,
        extra_runs=extra_runs,
    )


def _text(value: str | None) -> str:
    return unicodedata.normalize("NFC", value or "")


def _first_line(text: str | None) -> str:
    """First non-empty line, ANSI colour codes removed (jest), whitespace runs collapsed, capped at
    MESSAGE_MAX_CHARS. (Newlines inside an attribute reach us as spaces: XML normalises them.)"""
    for line in _ANSI.sub("", text or "").splitlines():
        line = " ".join(line.split())
        if line:
            return line[:MESSAGE_MAX_CHARS]
    return ""


def _int(value: str | None) -> int | None:
    try:
        return int((value or "").strip())
    except ValueError:
        return None


def parse_seconds(value: str | None) -> float | None:
    """A ``time`` attribute in seconds, read defensively; ``None`` when missing or unreadable.

    ``"0.045"`` -> 0.045; ``"1,234.5"`` (old Surefire, English locale) -> 1234.5;
    ``"1.234,5"`` and ``"0,5"`` (decimal comma locales) -> 1234.5 and 0.5; a lone comma
    is read as a decimal comma because sub-hour test times are far more common than
    whole-thousand ones. Negative, NaN and infinite values give ``None``.
    """
    text = (value or "").strip().replace(" ", "").replace("\u00a0", "")
    if not text:
        return None
    if "," in text and "." in text:
        decimal = "." if text.rfind(".") > text.rfind(",") else ","
        text = text.replace("," if decimal == "." else ".", "").replace(",", ".")
    elif text.count(",") > 1:
        text = text.replace(",", "")
    else:
        text = text.replace(",", ".")
    try:
        seconds = float(text)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


# --------------------------------------------------------------------------- producer


def _detect_producer(signals: _Signals, filename: str = "") -> str:
    """The tool that wrote the report, from content first, then the upload's file name.

    Content (FORMATS.md (e)): root ``name="jest tests"`` or a "Test suite failed to run"
    case -> jest; a suite named ``pytest`` -> pytest; a ``go.version`` property -> go;
    the Surefire xsd or ``flaky*``/``rerun*`` elements -> surefire; TestNG's
    "Generated by org.testng" comment or ``... UTC`` timestamps -> testng; an empty
    ``<properties/>`` with ``hostname`` -> gradle; ``assertions``/``class`` attributes ->
    phpunit; a ``Mocha Tests`` suite -> mocha. File name: ``TEST-*.xml`` -> surefire (or
    gradle), else a tool's name as a word in it (``merged-pulsar-testng-808-tests.xml``).
    """
    names = {signals.root_name.lower(), *(n.lower() for n in signals.suite_names)}
    base = os.path.basename(filename.replace("\\", "/"))
    if "jest tests" in names or signals.jest_failed_suite:
        return "jest"
    if "pytest" in names or "pytest tests" in names:
        return "pytest"
    if signals.go_version:
        return "go"
    if signals.surefire_xsd or signals.surefire_rerun:
        return "surefire"
    if signals.testng_comment or signals.utc_timestamp:
        return "testng"
    if signals.empty_properties and signals.hostname:
        return "gradle"
    if signals.phpunit_attrs:
        return "phpunit"
    if "mocha tests" in names:
        return "mocha"
    if base.startswith("TEST-"):
        return "surefire"
    words = set(re.split(r"[^a-z0-9]+", base.lower()))
    return next((p for p in PRODUCERS[:-1] if p in words), "unknown")


def _producer_hint(fmt: str | None) -> str | None:
    if not fmt:
        return None
    key = fmt.strip().lower()
    key = _FMT_ALIASES.get(key, key)
    if key not in PRODUCERS:
        raise JUnitError(f"Unknown report format {fmt!r}; use one of {', '.join(PRODUCERS)}, or leave it out.")
    return key


# --------------------------------------------------------------------------- canonical ids


def _fallback_scope(case: _Case, filename: str) -> str:
    """For a case without classname: the innermost named suite, else the upload's file name."""
    for suite in reversed(case.suites):
        if suite.strip():
            return suite
    return os.path.basename(filename.replace("\\", "/")) or "unknown"


def _pytest_id(case: _Case, filename: str) -> str:
    """``path/to/test_file.py::Class::test_name[params]`` (pytest's own node id).

    The classname is the node id's path with ``/`` -> ``.`` and ``.py`` removed, plus
    classes (pytest ``mangle_test_address``); the name carries the parameters verbatim.
    ``file`` (xunit1) decides where the module ends when the classname starts with it.
    A dotted classname that does not start with ``file`` (a test inherited from a base
    class in another file) is trusted over ``file``, because the node id is built from
    the collecting module; an undotted one (``record_xml_attribute("classname", ...)``)
    is not, and ``file`` is used.
    """
    segments = [s for s in case.classname.split(".") if s]
    n_classes = 0
    while n_classes < len(segments) - 1 and segments[-1 - n_classes][:1].isupper():
        n_classes += 1
    module = segments[: len(segments) - n_classes]
    classes = segments[len(segments) - n_classes :]
    path = "/".join(module) + ".py" if module else ""
    if case.file:
        file_path = relative_path(case.file)
        if path and file_path.endswith("/" + path):
            file_path = path  # absolute path outside a known CI workspace: keep the rootdir-relative part
        dotted = file_path.removesuffix(".py").replace("/", ".")
        if case.classname == dotted or case.classname.startswith(dotted + "."):
            path = file_path
            classes = [s for s in case.classname[len(dotted) :].split(".") if s]
        elif "." not in case.classname:
            path, classes = file_path, []
    return "::".join([path or _fallback_scope(case, filename), *classes, case.name])


def _java_id(case: _Case, filename: str) -> str:
    """``fully.qualified.Class::method``: Surefire, Gradle and TestNG (FORMATS.md (e)).

    A trailing ``()`` (JUnit Platform method names) is dropped; ``[index]`` and
    ``(String)`` signatures are kept; Kotlin/JUnit 5 display names keep their spaces.
    """
    method = case.name.strip().removesuffix("()")
    return f"{case.classname or _fallback_scope(case, filename)}::{method}"


def _go_id(case: _Case, filename: str) -> str:
    """``import/path::TestName/sub/sub``; go-junit-report flattens subtests into the name
    and go itself adds ``#01`` to duplicate subtest names, both kept."""
    return f"{case.classname or _fallback_scope(case, filename)}::{case.name}"


def _jest_titles(text: str) -> str:
    """Describe chain separators `` > ``, `` › `` and runs of spaces -> `` › ``."""
    return re.sub(r"\s*›\s*|\s+>\s+|\s{2,}", " › ", text.strip())


def _jest_id(case: _Case, filename: str) -> str:
    """``<file or suite name>::describe › title`` (jest-junit).

    jest-junit's default templates make ``classname`` and ``name`` the same string,
    used once. Otherwise ``classname`` is the describe chain and ``name`` the title
    (``Test 1 › Test 1.1`` + ``Failing test``), unless ``name`` already starts with it.
    A suite that failed to load is ``<file>::Test suite failed to run``.
    """
    head = relative_path(case.file or (case.suites[-1] if case.suites else ""))
    classname, name = case.classname.strip(), case.name.strip()
    if classname == _JEST_SUITE_FAILED:
        head = head or relative_path(name)
        tail = classname
    elif not classname or classname == name or name.startswith(classname + " "):
        tail = name
    else:
        tail = f"{classname} › {name}"
    return f"{head or _fallback_scope(case, filename)}::{_jest_titles(tail)}"


def _mocha_id(case: _Case, filename: str) -> str:
    """mocha ``xunit``: classname = describe chain, name = title -> ``chain::title``;
    mocha-junit-reporter: name = full title ending in classname (the title) ->
    ``<file or suite>::full title``."""
    classname, name = case.classname.strip(), case.name.strip()
    if classname and (name == classname or name.endswith(" " + classname)):
        head = relative_path(case.file) or _fallback_scope(case, filename)
        return f"{head}::{name}"
    return f"{classname or _fallback_scope(case, filename)}::{name}"


def _plain_id(case: _Case, filename: str) -> str:
    """``classname::name`` (PHPUnit, unknown tools); PHPUnit's dotted classname, or its
    ``class`` attribute with ``\\`` -> ``.``, so the id has no path separators to rewrite."""
    classname = case.classname or case.klass.replace("\\", ".")
    return f"{classname or _fallback_scope(case, filename)}::{case.name}"


_ID_RULES = {
    "pytest": _pytest_id,
    "surefire": _java_id,
    "gradle": _java_id,
    "testng": _java_id,
    "go": _go_id,
    "jest": _jest_id,
    "mocha": _mocha_id,
    "phpunit": _plain_id,
    "unknown": _plain_id,
}


def _build_test_id(case: _Case, producer: str, filename: str = "") -> str:
    """The producer's rule, before the shared normalisation of ``canonical_test_id``."""
    return _ID_RULES[producer](case, filename)


def _canonical(raw_id: str) -> str:
    try:
        return canonical_test_id(raw_id)
    except ValueError:
        # Only for ids canonical_test_id cannot represent (a name that starts with '[',
        # a '[' in a file path); the raw id still identifies the test within sredesk.
        return unicodedata.normalize("NFC", raw_id).strip()


# --------------------------------------------------------------------------- folding


def _is_teardown_error(case: _Case) -> bool:
    # pytest may report a teardown failure of an already-reported test as a further
    # <error message="failed on teardown with ..."> entry for the same test (FORMATS.md (e)).
    return case.outcome == "error" and case.message.startswith("failed on teardown with")


def _fold(cases: list[_Case], producer: str, filename: str) -> list[TestResult]:
    """Group cases by canonical id (first-seen order): the last attempt decides the outcome,
    and disagreeing attempts make the result flaky (FORMATS.md (e), step 5)."""
    grouped: dict[str, list[_Case]] = {}
    for case in cases:
        grouped.setdefault(_canonical(_build_test_id(case, producer, filename)), []).append(case)
    return [_result(test_id, attempts, producer) for test_id, attempts in grouped.items()]


def _result(test_id: str, cases: list[_Case], producer: str) -> TestResult:
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


def _totals(cases: list[_Case], results: list[TestResult]) -> JUnitTotals:
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


# --------------------------------------------------------------------------- entry point


def parse_junit(
    source: bytes | BinaryIO,
    *,
    filename: str = "",
    fmt: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> JUnitReport:
    """Parse one JUnit XML upload into results with canonical test ids.

    ``source``: the raw bytes, or a binary file object (read in chunks, never whole).
    ``filename``: the upload's name, a producer hint (``TEST-com.acme.FooTest.xml``).
    ``fmt``: the uploader's ``--format`` hint, overriding detection (one of ``PRODUCERS``
    or an alias such as ``junit``/``maven``/``golang``). ``max_bytes``: size limit,
    checked before parsing.

    Raises ``JUnitError`` with a sentence for the uploader: too large, empty, not
    well-formed XML, a DTD/entity/external reference (refused, never expanded), or a
    root element other than ``<testsuites>``/``<testsuite>``. A report with no test
    cases is not an error; it has no results.
    """
    hint = _producer_hint(fmt)
    stream = _open_limited(source, max_bytes)
    signals = _Signals()
    try:
        cases = _scan(stream, signals)
    except _TooLarge:
        raise _too_large(None, max_bytes) from None
    except DTDForbidden as exc:
        if (exc.name or "").lower() == "html":
            raise _wrong_root("html") from None
        raise JUnitError(
            "The file declares a DTD (<!DOCTYPE ...>), which sredesk refuses because DTD entities can expand "
            "into huge or secret-leaking payloads; JUnit reports never need one, so upload the file your "
            "test runner wrote without it."
        ) from None
    except (EntitiesForbidden, ExternalReferenceForbidden):
        raise JUnitError(
            "The file declares XML entities or refers to an external resource, which sredesk refuses because "
            "they can expand into huge or secret-leaking payloads; upload the report as your test runner wrote it."
        ) from None
    except ParseError as exc:
        raise _not_xml(exc, root_seen=signals.root_seen) from None
    producer = hint or _detect_producer(signals, filename)
    results = _fold(cases, producer, filename)
    return JUnitReport(producer=producer, results=results, totals=_totals(cases, results))


def _not_xml(exc: ParseError, *, root_seen: bool) -> JUnitError:
    line, column = getattr(exc, "position", (0, 0))
    if getattr(exc, "code", None) == 3:  # expat XML_ERROR_NO_ELEMENTS: the input ended
        if not root_seen:
            return JUnitError("The file is empty; upload the JUnit XML report your test runner wrote.")
        return JUnitError(
            f"The XML ends before the report is complete (line {line}, column {column}); the upload was cut off "
            "or the test run was killed while writing it, so upload the complete file."
        )
    reason = str(exc).split(":", 1)[0]
    return JUnitError(
        f"The file is not well-formed XML ({reason} at line {line}, column {column}); upload the JUnit XML "
        "report your test runner wrote, e.g. with pytest --junitxml=report.xml or jest-junit."
    )
