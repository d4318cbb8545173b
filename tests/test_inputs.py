"""sredesk.inputs: the strict checks every door uses (integers, text, JSON depth)."""

import json

import pytest
from django import forms

from sredesk.inputs import (
    BIGINT_MAX,
    InputError,
    check_text,
    escape_text,
    is_ascii_int,
    json_depth_exceeds,
    load_json,
    parse_id,
    parse_int,
    text_problem,
    unescape_text,
)

UNICODE_DIGITS = ["¹", "①", "²³", "٣", "１", "߁"]  # superscript, circled, Arabic-Indic, fullwidth, NKo


@pytest.mark.parametrize("raw", UNICODE_DIGITS)
def test_unicode_digits_are_not_integers(raw):
    assert raw.isdigit() or raw.isdecimal() or raw.isnumeric()  # what str.isdigit() based code let through
    assert not is_ascii_int(raw)
    with pytest.raises(InputError) as caught:
        parse_int(raw, field="page_size")
    assert caught.value.field == "page_size"
    assert "ASCII digits" in caught.value.message


@pytest.mark.parametrize(
    ("raw", "expected"), [("42", 42), (" 7 ", 7), ("-3", -3), (12, 12), ("0009", 9), (str(BIGINT_MAX), BIGINT_MAX)]
)
def test_ascii_integers_parse(raw, expected):
    assert parse_int(raw, field="n", min_value=None) == expected


@pytest.mark.parametrize("raw", ["", "-", "1.5", "1_000", "+1", "0x10", "1e3", "--1", "1 2", True, 1.0, None, [1]])
def test_anything_else_is_refused(raw):
    with pytest.raises(InputError):
        parse_int(raw, field="n", min_value=None)


def test_bounds_are_enforced_and_named():
    with pytest.raises(InputError, match="at least 1"):
        parse_id("0", field="id")
    with pytest.raises(InputError):
        parse_id(str(BIGINT_MAX + 1), field="id")
    with pytest.raises(InputError, match="Too large"):
        parse_id("9" * 10_000, field="id")  # refused before int() spends time on it
    with pytest.raises(InputError, match="at most 200"):
        parse_int("201", field="page_size", max_value=200)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("a\x00b", "NUL"), ("x\ud800y", "lone surrogate (\\ud800)"), ("\udfff", "\\udfff"), ("é" * 6, "At most 5")],
)
def test_text_that_cannot_be_stored_is_refused_with_the_field(value, fragment):
    with pytest.raises(InputError) as caught:
        check_text(value, field="labels.service", max_length=5)
    assert caught.value.field == "labels.service"
    assert fragment in caught.value.message


@pytest.mark.parametrize("value", ["", "plain", "Zürich ✓ 🚨", "a" * 5])
def test_good_text_passes_unchanged(value):
    assert text_problem(value, 5 if len(value) <= 5 else None) is None
    assert check_text(value, field="f") is value


def test_input_error_lands_on_a_form_field():
    class Form(forms.Form):
        title = forms.CharField()

        def clean_title(self):
            return check_text(self.cleaned_data["title"], field="title", max_length=10)

    # Django's CharField already refuses NUL; a lone surrogate gets through to our check.
    form = Form(data={"title": "bad\ud800"})
    assert not form.is_valid()
    assert "lone surrogate" in form.errors["title"][0]


def test_deep_json_is_an_input_error_not_a_recursion_error():
    body = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(InputError) as caught:
        load_json(body)
    assert caught.value.field == "body"
    assert caught.value.code == "too_deep"


def test_depth_limit_is_exact():
    assert load_json(json.dumps(nested(64)).encode()) == nested(64)
    with pytest.raises(InputError, match="more than 64"):
        load_json(json.dumps(nested(65)))
    with pytest.raises(InputError):
        load_json(json.dumps(nested(4)), max_depth=3)


def test_brackets_inside_strings_do_not_count_as_depth():
    payload = {"alerts": [{"labels": {"expr": "[" * 500 + "{" * 500}}]}
    assert load_json(json.dumps(payload).encode()) == payload


def test_wide_bodies_are_walked_without_recursion():
    wide = {"alerts": [{"labels": {"n": str(i)}, "annotations": {}} for i in range(5000)]}
    assert not json_depth_exceeds(wide, 4)  # object > list > object > object
    assert json_depth_exceeds(wide, 3)
    assert load_json(json.dumps(wide).encode(), max_depth=4) == wide


@pytest.mark.parametrize(
    ("body", "fragment"),
    [(b"\xff\xfe{}", "Not UTF-8"), (b"{", "Not valid JSON"), (b"[NaN]", "Not valid JSON"), (b"", "Not valid JSON")],
)
def test_bad_json_names_the_field(body, fragment):
    with pytest.raises(InputError) as caught:
        load_json(body, field="payload")
    assert caught.value.field == "payload"
    assert fragment in caught.value.message


def test_json_escapes_for_unstorable_text_parse_and_are_caught_by_check_text():
    value = load_json(b'{"a": "x\\u0000", "b": "\\ud800"}')
    assert text_problem(value["a"]) and text_problem(value["b"])


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", "x\\u0000\x00", "\\\udfff\\", "é\x00", "\x00" * 3, "ok\\u0000"])
def test_escape_text_makes_text_storable_and_gives_it_back(value):
    escaped = escape_text(value)
    assert text_problem(escaped) is None
    if text_problem(value) is None:
        assert escaped == value  # storable text is never touched, backslashes included
    else:
        assert unescape_text(escaped) == value


def test_escaped_values_never_collide():
    values = ["a\x00", "a\\u0000\x00", "a\ud800", "\x00a", "a\x00\x00"]
    assert len({escape_text(value) for value in values}) == len(values)


def nested(depth):
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value
