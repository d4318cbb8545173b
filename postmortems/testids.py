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

import re
import unicodedata

# A Java-style "a.b.Class.method" or "a.b.Class#method", optionally with "()".
_JAVA_METHOD = re.compile(r"^(?P<cls>(?:[\w$]+\.)*[A-Z][\w$]*)[.#](?P<method>[\w$]+)(?:\(\))?$")


def canonical_test_id(raw: str) -> str:
    """Normalise a pasted test id to its canonical ``::`` form.

    Only the part before the first ``[`` is structure: parameters are kept
    verbatim, ``::``, spaces and Unicode included (FIELD-CASES BR-27), so
    ``tests/t.py::T::test_x[1::2-ü]`` stays one test. Raises ValueError with a
    sentence a user can act on when the id has no ``::`` part after
    normalisation or a part is empty.
    """
    text = unicodedata.normalize("NFC", raw).strip()
    bracket = text.find("[")
    structure, params = (text, "") if bracket < 0 else (text[:bracket], text[bracket:])
    if "::" not in structure:
        java = _JAVA_METHOD.match(structure if params else text)
        if java:
            structure, params = f"{java['cls']}::{java['method']}", params
    if "::" not in structure:
        raise ValueError(
            "A test id needs the '::' form, e.g. tests/test_pay.py::test_retry, "
            "com.acme.PayTest::retries or example.com/pay::TestRetry."
        )
    head, _, rest = structure.partition("::")
    head = head.replace("\\", "/")
    while head.startswith("./"):
        head = head[2:]
    if rest.endswith("()") and not params:
        rest = rest[:-2]
    parts = rest.split("::")
    if not head.strip() or any(not p.strip() for p in parts):
        raise ValueError(f"{raw!r} has an empty part between '::' separators.")
    return "::".join([head.strip(), *(p.strip() for p in parts)]) + params
