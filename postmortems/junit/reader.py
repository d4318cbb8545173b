"""Reading a JUnit upload: size-limited, control characters dropped, streamed with defusedxml.

Pure Python. :func:`scan` turns the document into :class:`Case` s (one per
``<testcase>`` element, before the producer is known) and fills :class:`Signals`
for producer detection; every finished ``<testcase>`` (and suite-level
``<system-out>``/``<properties>``) is cleared and detached, so a large merged report
never sits in memory as one tree. Quirks handled here are FORMATS.md (e) "Structure
variants".
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import BinaryIO
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import iterparse

from .report import MESSAGE_MAX_CHARS, JUnitError, Outcome

# Outcome children of <testcase>, in the order they decide the outcome (FORMATS.md (e)).
_PRIMARY = {"failure": "failed", "error": "error", "skipped": "skipped"}
_FLAKY = {"flakyFailure", "flakyError"}  # Surefire rerun: failed first, passed on a rerun
_RERUN = {"rerunFailure", "rerunError"}  # Surefire rerun: still failing on every rerun
_SUITE_TAGS = {"testsuite", "testsuites"}
_NOT_RUN = {"skipped", "xfail"}
JEST_SUITE_FAILED = "Test suite failed to run"

MAX_DEPTH = 32
"""Deepest element nesting read. Real reports nest 2 to 7 deep (``nested-testsuites.xml`` the deepest
of the real files); a 21 MB document nested far deeper held a gunicorn worker past its 30 s timeout."""

MAX_ELEMENTS = 1_000_000
"""Most elements read from one report. The 808-test merged Pulsar report has 1,000; a 20,000-case pytest
report about 20,000. Python's iterparse spends about 6 µs per element, so this bounds any upload to
seconds (a flat 2,000,000-element file took 25 s before this limit)."""
_ANSI = re.compile(r"\x1b?\[[0-9;]*m")  # colour codes, with or without the ESC the reader drops


@dataclass(slots=True)
class Case:
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
class Signals:
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


class TooLarge(Exception):
    """Raised by the reader past its byte limit; ``parse_junit`` turns it into ``too_large``'s error."""


class _Reader:
    """The upload as iterparse reads it: at most ``limit`` bytes, and without C0 control characters.

    ``TooLarge`` is raised past ``limit`` (for streams that could not tell their size up
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
            raise TooLarge
        if self._filter is None and data:
            self._filter = not (data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4])
        return data.translate(None, _CONTROL_BYTES) if self._filter else data


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))


def _size_text(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MiB"


def too_large(size: int | None, max_bytes: int) -> JUnitError:
    """The uploader's error for a report over ``max_bytes`` (``size`` when known)."""
    got = f"is {_size_text(size)}, over" if size is not None else "is over"
    return JUnitError(
        f"The report {got} the limit of {_size_text(max_bytes)} for one upload; upload one file per test "
        "task or module (e.g. each TEST-*.xml separately), or ask an admin to raise SREDESK_JUNIT_MAX_BYTES."
    )


def open_limited(source: bytes | BinaryIO, max_bytes: int) -> _Reader:
    """Check the size before parsing; return a stream that cannot read past ``max_bytes``."""
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) > max_bytes:
            raise too_large(len(source), max_bytes)
        return _Reader(io.BytesIO(source), max_bytes)
    if not hasattr(source, "read"):
        raise TypeError("parse_junit() takes the report as bytes or a binary file object.")
    size = getattr(source, "size", None)  # Django UploadedFile
    if not isinstance(size, int):
        size = _remaining_size(source)
    if size is not None and size > max_bytes:
        raise too_large(size, max_bytes)
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


def scan(stream: _Reader, signals: Signals) -> list[Case]:
    """Stream the document: read each finished ``<testcase>``, collect detection signals, drop subtrees.

    Raises ``JUnitError`` as soon as the document nests deeper than ``MAX_DEPTH``
    or has more than ``MAX_ELEMENTS`` elements.
    """
    cases: list[Case] = []
    stack: list[Element] = []
    suites: list[str] = []
    elements = 0
    events = iterparse(stream, events=("start", "end", "comment"), forbid_dtd=True)
    for event, elem in events:
        if event == "comment":
            signals.testng_comment |= "org.testng" in (elem.text or "")
            continue
        tag = _local(elem.tag)
        if event == "start":
            elements += 1
            if len(stack) >= MAX_DEPTH or elements > MAX_ELEMENTS:
                raise _too_complex(len(stack) >= MAX_DEPTH)
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


def _too_complex(deep: bool) -> JUnitError:
    if deep:
        return JUnitError(
            f"The XML nests elements more than {MAX_DEPTH} deep; JUnit reports nest a few levels "
            "(suites, test cases, their results), so this is not a report sredesk can read."
        )
    return JUnitError(
        f"The report has more than {MAX_ELEMENTS:,} XML elements; upload one file per test task or module "
        "(e.g. each TEST-*.xml separately)."
    )


def _check_root(tag: str) -> None:
    if tag not in _SUITE_TAGS:
        raise wrong_root(tag)


def wrong_root(tag: str) -> JUnitError:
    """The uploader's error for a document whose root is ``<tag>`` (an HTML page gets its own)."""
    if tag == "html":
        return JUnitError(
            "This is an HTML page, not a JUnit XML report; check that the CI step uploads the file "
            "the test runner wrote (e.g. pytest --junitxml=report.xml)."
        )
    return JUnitError(
        f"The XML root element is <{tag}>, but a JUnit report starts with <testsuites> or <testsuite>; "
        "upload the JUnit XML file your test runner wrote."
    )


def _suite_signals(elem: Element, signals: Signals) -> None:
    name = elem.get("name")
    if name is not None and len(signals.suite_names) < 8:
        signals.suite_names.add(name)
    signals.surefire_xsd |= "surefire" in elem.get(
        "{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation", ""
    )
    signals.hostname |= elem.get("hostname") is not None
    signals.utc_timestamp |= elem.get("timestamp", "").endswith(" UTC")
    signals.phpunit_attrs |= elem.get("assertions") is not None


def _read_case(elem: Element, suites: tuple[str, ...], signals: Signals) -> Case:
    outcome: Outcome = "passed"
    message = ""
    decided = False
    flaky = False
    extra_runs = 0
    properties: dict[str, str] = {}
    for child in elem:
        tag = _local(child.tag)
        if tag in _PRIMARY and (not decided or (outcome in _NOT_RUN and tag != "skipped")):
            # The first outcome decides, except that a failure or error after a skip wins: pytest writes a
            # skipped test whose teardown then failed as <skipped/><error message="failed on teardown ..."/>.
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
    signals.jest_failed_suite |= classname == JEST_SUITE_FAILED
    signals.phpunit_attrs |= elem.get("assertions") is not None or elem.get("class") is not None
    return Case(
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
