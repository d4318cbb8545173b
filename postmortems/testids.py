"""Canonical regression-test ids: the ``::`` form every ecosystem maps onto.

==============  ===================================================  =========================================
ecosystem       canonical id                                          what users paste that is normalised
==============  ===================================================  =========================================
pytest          ``tests/test_pay.py::TestRetry::test_timeout[eu]``   ``./tests/test_pay.py::...``, ``tests\\x.py::t``
JUnit / Gradle  ``com.acme.CheckoutTest::retriesOnTimeout``          ``com.acme.CheckoutTest#retriesOnTimeout``,
                                                                      ``com.acme.CheckoutTest.retriesOnTimeout()``
Go              ``example.com/pay::TestRetry/eu``                    (none)
jest            ``src/pay.test.ts::checkout › retries``              (none)
==============  ===================================================  =========================================

The part before the first ``::`` is a file path, import path or class; what
follows are the nested names, parameters kept verbatim inside ``[...]``.
"""

import hashlib
import re
import unicodedata

MAX_TEST_ID_CHARS = 65_536
"""Longest test id a person may type (forms, API). CI ids are bounded only by the upload's size: a real
pytest parametrized id of 1,138 characters was refused when ids were limited to 1,000 (issue 12)."""


def test_key(test_id: str) -> str:
    """The fixed-size key (SHA-256 of the UTF-8 id, 64 hex digits) that indexes and uniques an id of any length.

    PostgreSQL cannot keep a btree entry over about 2,700 bytes, so ids are
    stored whole as text and looked up and kept unique by this key.
    """
    return hashlib.sha256(test_id.encode("utf-8", "surrogatepass")).hexdigest()


test_key.__test__ = False  # not a pytest test

# A Java-style "a.b.Class.method" or "a.b.Class#method", optionally with "()".
_JAVA_METHOD = re.compile(r"^(?P<cls>(?:[\w$]+\.)*[A-Z][\w$]*)[.#](?P<method>[\w$]+)(?:\(\))?$")


_WORKSPACE_PREFIX = re.compile(
    r"""^(?:
        /home/runner/work/[^/]+/[^/]+/            # GitHub Actions, Linux
      | /Users/runner/work/[^/]+/[^/]+/           # GitHub Actions, macOS
      | [A-Za-z]:/a/[^/]+/[^/]+/                  # GitHub Actions (D:\a\repo\repo\), Azure (D:\a\1\s\)
      | /__w/[^/]+/[^/]+/                         # GitHub Actions container jobs
      | /builds/[^/]+/[^/]+/                      # GitLab CI docker executor, /builds/<group>/<project>/
      | /home/vsts/work/\d+/s/                    # Azure Pipelines, Linux
      | /home/circleci/project/                   # CircleCI default working_directory
      | /home/travis/build/[^/]+/[^/]+/           # Travis CI
      | /opt/atlassian/pipelines/agent/build/     # Bitbucket Pipelines
      | /(?:var/lib/jenkins|var/jenkins_home|home/jenkins(?:/agent)?)/workspace/[^/]+/  # Jenkins
    )""",
    re.VERBOSE,
)


def relative_path(path: str) -> str:
    """A file path as the repository sees it: ``\\`` -> ``/``, no ``./``, no CI workspace prefix.

    ``/home/runner/work/pay/pay/tests/x.py`` and ``D:\\a\\pay\\pay\\tests\\x.py`` (GitHub
    Actions), ``/builds/acme/pay/tests/x.py`` (GitLab) and a few other CI checkouts
    become ``tests/x.py``; other absolute paths are kept as they are.
    """
    path = unicodedata.normalize("NFC", path).strip().replace("\\", "/")
    path = _WORKSPACE_PREFIX.sub("", path, count=1)
    while path.startswith("./"):
        path = path[2:]
    return path


def _params_start(text: str) -> int:
    """Index of the ``[`` that opens the parameters, or -1.

    A bracket pair that closes before the first ``::`` belongs to a path
    (``src/app/[id]/page.test.tsx``); any other ``[`` opens the parameters.
    """
    sep = text.find("::")
    i = text.find("[")
    while i >= 0:
        close = text.find("]", i)
        if sep < 0 or i > sep or close < 0 or close > sep:
            return i
        i = text.find("[", close)
    return -1


_JAVA_CALL = re.compile(r"^[\w$]+\(\)$")
_JEST_SEPARATOR = re.compile(r"\s+(?:>|›)\s+")
_FILE_EXTENSION = re.compile(r"\.\w+$")


def canonical_test_id(raw: str) -> str:
    """Normalise a pasted test id to its canonical ``::`` form.

    Only the part before the parameters' ``[`` is structure: parameters are
    kept verbatim, ``::``, spaces and Unicode included (FIELD-CASES BR-27), so
    ``tests/t.py::T::test_x[1::2-ü]`` stays one test. The head is a path
    (``\\`` -> ``/``, no ``./``, no CI workspace prefix) or a namespace
    (PHP ``App\\Tests\\PayTest`` -> ``App.Tests.PayTest``); a Java ``()`` is
    dropped; jest's ``>`` between describe titles becomes ``›``. Raises
    ValueError with a sentence a user can act on when the id has no ``::``
    part or a part is empty.
    """
    text = unicodedata.normalize("NFC", raw).strip()
    start = _params_start(text)
    structure, params = (text, "") if start < 0 else (text[:start], text[start:])
    if "::" not in structure:
        java = _JAVA_METHOD.match(structure)
        if java:
            structure = f"{java['cls']}::{java['method']}"
    if "::" not in structure:
        raise ValueError(
            "A test id needs the '::' form, e.g. tests/test_pay.py::test_retry, "
            "com.acme.PayTest::retries or example.com/pay::TestRetry."
        )
    head, _, rest = structure.partition("::")
    head = head.strip()
    if "\\" in head and not _FILE_EXTENSION.search(head):
        head = head.replace("\\", ".")  # a namespace, not a Windows path
    head = relative_path(head)
    if not params and _JAVA_CALL.match(rest.strip()):
        rest = rest.strip()[:-2]
    parts = [_JEST_SEPARATOR.sub(" › ", p) for p in rest.split("::")]
    parts = [p.strip() for p in parts[:-1]] + [parts[-1].lstrip() if params else parts[-1].strip()]
    if not head or any(not p for p in parts[:-1]) or not (parts[-1] or params):
        raise ValueError(f"{raw!r} has an empty part between '::' separators.")
    return "::".join([head, *parts]) + params
