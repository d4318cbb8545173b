"""``POST /ci/junit/`` and the API's upload under every class of hostile input: a 4xx naming the field, nothing written.

Parameters (branch, commit, run_key, url, format, filename) × NUL, lone
surrogates, over-long text; URLs that are not http(s); Content-Length in
Unicode digits; chunked bodies over the limit; a multipart body without a file;
XML nested past the reader's depth limit.
"""

from urllib.parse import quote

import pytest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from sredesk.tokens import new_token
from tests.hostile.table import HOSTILE_TEXT, UNICODE_DIGITS, RowCounts, assert_refused

URL = "/ci/junit/"
REPORT = b'<testsuites><testsuite name="pytest"><testcase classname="tests.t" name="test_a"/></testsuite></testsuites>'
PARAMS = {"branch": "main", "commit": "c1", "run_key": "r1", "url": "https://ci.example.com/1", "filename": "r.xml"}


@pytest.fixture
def token(hostile_world):
    token, digest = new_token("sdci")
    hostile_world["repository"].ci_token_hash = digest
    hostile_world["repository"].save()
    return token


def post(client, token, params: dict, body: bytes = REPORT, content_type: str = "application/xml", **extra):
    query = "&".join(f"{k}={quote(v, safe='', errors='surrogatepass')}" for k, v in params.items())
    return client.generic(
        "POST", f"{URL}?{query}", body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {token}", **extra
    )


@pytest.mark.parametrize("field", ["branch", "commit", "run_key", "url", "format", "filename"])
# A lone surrogate cannot reach a query parameter: its UTF-8 bytes are invalid and Django decodes them as U+FFFD.
@pytest.mark.parametrize("kind", sorted(set(HOSTILE_TEXT) - {"lone_surrogate"}))
def test_hostile_text_in_any_parameter_is_refused_naming_it(client, token, field, kind):
    counts = RowCounts()
    value = HOSTILE_TEXT[kind] if field != "url" else "https://ci.example.com/" + HOSTILE_TEXT[kind]
    response = post(client, token, {**PARAMS, field: value})
    assert_refused(response, field)
    counts.assert_unchanged()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<script>x</script>", "ftp://ci.example.com"])
def test_a_url_that_is_not_http_is_refused(client, token, url):
    counts = RowCounts()
    assert_refused(post(client, token, {**PARAMS, "url": url}), "url")
    counts.assert_unchanged()


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
def test_a_content_length_in_unicode_digits_is_refused(client, token, digits):
    counts = RowCounts()
    assert_refused(post(client, token, PARAMS, CONTENT_LENGTH=digits), "Content-Length")
    counts.assert_unchanged()


def test_a_chunked_body_over_the_limit_is_413(client, token, settings):
    import io

    settings.SREDESK_JUNIT_MAX_BYTES = 1000
    counts = RowCounts()
    body = REPORT + b" " * 5000
    response = post(
        client, token, PARAMS, b"", **{
            "wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked",
            "CONTENT_LENGTH": "",
        }
    )  # fmt: skip
    assert_refused(response, "body", statuses=[413])
    counts.assert_unchanged()


def test_a_multipart_body_without_a_file_is_refused(client, token):
    counts = RowCounts()
    body = encode_multipart(BOUNDARY, {"other": "x"})
    assert_refused(post(client, token, PARAMS, body, MULTIPART_CONTENT), "file")
    counts.assert_unchanged()


def test_xml_nested_past_the_depth_limit_is_refused(client, token):
    counts = RowCounts()
    body = b"<testsuites>" + b"<testsuite>" * 100_000 + b"</testsuite>" * 100_000 + b"</testsuites>"
    assert_refused(post(client, token, PARAMS, body), "file")
    counts.assert_unchanged()
