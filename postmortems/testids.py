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

    Raises ValueError with a sentence a user can act on when the id has no
    ``::`` part after normalisation or a part is empty.
    """
    text = unicodedata.normalize("NFC", raw).strip()
    if "::" not in text:
        java = _JAVA_METHOD.match(text)
        if java:
            text = f"{java['cls']}::{java['method']}"
    if "::" not in text:
        raise ValueError(
            "A test id needs the '::' form, e.g. tests/test_pay.py::test_retry, "
            "com.acme.PayTest::retries or example.com/pay::TestRetry."
        )
    head, _, rest = text.partition("::")
    head = head.replace("\\", "/")
    while head.startswith("./"):
        head = head[2:]
    if rest.endswith("()"):
        rest = rest[:-2]
    parts = rest.split("::")
    if not head.strip() or any(not p.strip() for p in parts):
        raise ValueError(f"{raw!r} has an empty part between '::' separators.")
    return "::".join([head.strip(), *(p.strip() for p in parts)])
