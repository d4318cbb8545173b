"""A safe, lenient JUnit XML parser: one CI upload in, test results with canonical ids out.

Pure Python, no database. The rules come from ``shared/FORMATS.md`` section (e)
"JUnit XML as real tools write it" and its "Canonical test id" part; the fixtures
that show each quirk are the files in ``shared/realdata/junit/``.

Shapes::

    parse_junit(source: bytes | BinaryIO, *, filename="", fmt=None, max_bytes=50 MiB) -> JUnitReport
    JUnitReport(producer: str, results: list[TestResult], totals: JUnitTotals)
    TestResult(test_id, outcome, flaky, attempts, classname, name, file, message,
               duration_seconds, properties, suite, line)

Modules: ``report`` (the shapes above and ``JUnitError``), ``reader`` (size limit,
streaming, one ``Case`` per ``<testcase>``), ``producers`` (which tool wrote it), ``ids``
(canonical id per producer), ``folding`` (attempts of one id -> one result).

Safety: the size limit is checked before any byte is parsed (and enforced again
while reading, for streams that cannot tell their size); the XML goes through
defusedxml with DTDs, entity declarations and external references forbidden, so
"billion laughs" and XXE payloads are refused, never expanded; nesting deeper than
``reader.MAX_DEPTH`` or more than ``reader.MAX_ELEMENTS`` elements stop the parse at once; the document is
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

from typing import BinaryIO
from xml.etree.ElementTree import ParseError

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from postmortems.testids import relative_path

from .folding import fold, totals
from .producers import PRODUCERS, detect_producer, producer_hint
from .reader import Signals, TooLarge, open_limited, parse_seconds, scan, too_large, wrong_root
from .report import DEFAULT_MAX_BYTES, MESSAGE_MAX_CHARS, JUnitError, JUnitReport, JUnitTotals, Outcome, TestResult

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MESSAGE_MAX_CHARS",
    "PRODUCERS",
    "JUnitError",
    "JUnitReport",
    "JUnitTotals",
    "Outcome",
    "TestResult",
    "parse_junit",
    "parse_seconds",
    "producer_hint",
    "relative_path",
]


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
    hint = producer_hint(fmt)
    stream = open_limited(source, max_bytes)
    signals = Signals()
    try:
        cases = scan(stream, signals)
    except TooLarge:
        raise too_large(None, max_bytes) from None
    except DTDForbidden as exc:
        if (exc.name or "").lower() == "html":
            raise wrong_root("html") from None
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
    producer = hint or detect_producer(signals, filename)
    results = fold(cases, producer, filename)
    return JUnitReport(producer=producer, results=results, totals=totals(cases, results))


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
