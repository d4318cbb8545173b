"""Canonical test ids per producer (the table in ``postmortems.junit``'s docstring).

Each producer's rule builds a raw ``::`` id from a :class:`~postmortems.junit.reader.Case`;
:func:`canonical` then applies the one normalisation users' pasted ids also get
(:func:`postmortems.testids.canonical_test_id`).
"""

from __future__ import annotations

import os
import re
import unicodedata

from postmortems.testids import canonical_test_id, relative_path

from .reader import JEST_SUITE_FAILED, Case


def _fallback_scope(case: Case, filename: str) -> str:
    """For a case without classname: the innermost named suite, else the upload's file name."""
    for suite in reversed(case.suites):
        if suite.strip():
            return suite
    return os.path.basename(filename.replace("\\", "/")) or "unknown"


def _pytest_id(case: Case, filename: str) -> str:
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


def _java_id(case: Case, filename: str) -> str:
    """``fully.qualified.Class::method``: Surefire, Gradle and TestNG (FORMATS.md (e)).

    A trailing ``()`` (JUnit Platform method names) is dropped; ``[index]`` and
    ``(String)`` signatures are kept; Kotlin/JUnit 5 display names keep their spaces.
    """
    method = case.name.strip().removesuffix("()")
    return f"{case.classname or _fallback_scope(case, filename)}::{method}"


def _go_id(case: Case, filename: str) -> str:
    """``import/path::TestName/sub/sub``; go-junit-report flattens subtests into the name
    and go itself adds ``#01`` to duplicate subtest names, both kept."""
    return f"{case.classname or _fallback_scope(case, filename)}::{case.name}"


def _jest_titles(text: str) -> str:
    """Describe chain separators `` > ``, `` › `` and runs of spaces -> `` › ``."""
    return re.sub(r"\s*›\s*|\s+>\s+|\s{2,}", " › ", text.strip())


def _jest_id(case: Case, filename: str) -> str:
    """``<file or suite name>::describe › title`` (jest-junit).

    jest-junit's default templates make ``classname`` and ``name`` the same string,
    used once. Otherwise ``classname`` is the describe chain and ``name`` the title
    (``Test 1 › Test 1.1`` + ``Failing test``), unless ``name`` already starts with it.
    A suite that failed to load is ``<file>::Test suite failed to run``.
    """
    head = relative_path(case.file or (case.suites[-1] if case.suites else ""))
    classname, name = case.classname.strip(), case.name.strip()
    if classname == JEST_SUITE_FAILED:
        head = head or relative_path(name)
        tail = classname
    elif not classname or classname == name or name.startswith(classname + " "):
        tail = name
    else:
        tail = f"{classname} › {name}"
    return f"{head or _fallback_scope(case, filename)}::{_jest_titles(tail)}"


def _mocha_id(case: Case, filename: str) -> str:
    """mocha ``xunit``: classname = describe chain, name = title -> ``chain::title``;
    mocha-junit-reporter: name = full title ending in classname (the title) ->
    ``<file or suite>::full title``."""
    classname, name = case.classname.strip(), case.name.strip()
    if classname and (name == classname or name.endswith(" " + classname)):
        head = relative_path(case.file) or _fallback_scope(case, filename)
        return f"{head}::{name}"
    return f"{classname or _fallback_scope(case, filename)}::{name}"


def _plain_id(case: Case, filename: str) -> str:
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


def build_test_id(case: Case, producer: str, filename: str = "") -> str:
    """The producer's rule, before the shared normalisation of ``canonical_test_id``."""
    return _ID_RULES[producer](case, filename)


def canonical(raw_id: str) -> str:
    try:
        return canonical_test_id(raw_id)
    except ValueError:
        # Only for ids canonical_test_id cannot represent (a name that starts with '[',
        # a '[' in a file path); the raw id still identifies the test within sredesk.
        return unicodedata.normalize("NFC", raw_id).strip()
