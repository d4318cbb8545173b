import pytest

from postmortems.testids import canonical_test_id


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (
            "tests/payments/test_retry.py::test_timeout_is_retried[eu]",
            "tests/payments/test_retry.py::test_timeout_is_retried[eu]",
        ),
        ("./tests/test_pay.py::TestRetry::test_x[a b]", "tests/test_pay.py::TestRetry::test_x[a b]"),
        ("tests\\win\\test_pay.py::test_x", "tests/win/test_pay.py::test_x"),
        ("com.acme.CheckoutTest#retriesOnTimeout", "com.acme.CheckoutTest::retriesOnTimeout"),
        ("com.acme.CheckoutTest.retriesOnTimeout()", "com.acme.CheckoutTest::retriesOnTimeout"),
        ("com.acme.CheckoutTest::retriesOnTimeout()", "com.acme.CheckoutTest::retriesOnTimeout"),
        ("example.com/pay::TestRetry/eu#01", "example.com/pay::TestRetry/eu#01"),
        ("  src/pay.test.ts::checkout › retries  ", "src/pay.test.ts::checkout › retries"),
        ("tests/test_ü.py::test_cafe\u0301", "tests/test_ü.py::test_café"),
    ],
)
def test_pasted_ids_are_normalised(raw, canonical):
    assert canonical_test_id(raw) == canonical


@pytest.mark.parametrize("raw", ["", "test_retry", "tests/test_pay.py::", "::test_x", "a::::b"])
def test_ids_without_a_usable_form_are_refused_with_a_sentence(raw):
    with pytest.raises(ValueError, match="::"):
        canonical_test_id(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "tests/test_pay.py::TestRefund::test_refund[1::2-ü]",
        "tests/t.py::test_x[a::::b]",
        "tests/t.py::test_x[ spaced ]",
    ],
)
def test_parameters_are_kept_verbatim(raw):
    """BR-27: '::', spaces and Unicode inside [...] are part of the parameter id, not structure."""
    assert canonical_test_id(raw) == raw
