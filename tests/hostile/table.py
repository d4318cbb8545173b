"""The hostile-input table every door's suite is built from: the classes of bad input, and how to judge an answer.

Issue 12 found 157 server errors on bad input, by class. Each class is one
entry here, and each door adds its own test file in this folder that crosses
its inputs with these classes (``test_api.py``, ``test_web.py``; ``/hooks/``
and ``/ci/junit/`` add theirs): every answer must be a 4xx naming the field,
and nothing may be written.

    from tests.hostile.table import HOSTILE_TEXT, UNICODE_DIGITS, deep_json, assert_refused, RowCounts

    def test_my_door(client, ...):
        counts = RowCounts()
        response = client.post(url, data=..., content_type="application/json")
        assert_refused(response, "labels")
        counts.assert_unchanged()
"""

import json

from django.apps import apps
from django.contrib.messages import get_messages

# Digits str.isdigit() accepts and int() refuses (superscript, circled, two superscripts), and one int()
# accepts although it is no ASCII number (Arabic-Indic three).
UNICODE_DIGITS = ("¹", "①", "²³", "٣")

# Text PostgreSQL cannot store, and text longer than any column (each door names its own limits too).
HOSTILE_TEXT = {
    "nul": "before\x00after",
    "lone_surrogate": "before\ud800after",
    "overlong": "x" * 300_001,
}

DEEP = 100_000


def deep_json(depth: int = DEEP, key: str | None = None) -> bytes:
    """A JSON body nested ``depth`` lists deep (inside ``{key: ...}`` when given)."""
    body = "[" * depth + "]" * depth
    return (json.dumps({key: "@"}).replace('"@"', body) if key else body).encode()


def json_body(value) -> bytes:
    """JSON that keeps lone surrogates as ``\\ud800`` escapes (as a hostile client sends them)."""
    return json.dumps(value, ensure_ascii=True).encode()


def error_fields(response) -> dict:
    """The ``fields`` of an API or webhook error body ({} when there is none)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return error.get("fields") or {}
    if isinstance(body, dict) and "field" in body:  # the webhook's {"error": "...", "field": "..."}
        return {body["field"]: [str(error)]}
    return {}


def assert_refused(response, field: str, statuses=range(400, 500)) -> None:
    """A 4xx whose error names ``field`` (JSON ``fields``, a form error or a flashed message), never a 5xx."""
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    fields = error_fields(response)
    if fields:
        assert any(name == field or name.startswith(f"{field}.") for name in fields), fields
        return
    text = response.content.decode(errors="replace")
    flashed = " ".join(str(m) for m in get_messages(response.wsgi_request)) if hasattr(response, "wsgi_request") else ""
    assert field.replace("_", " ").lower() in (text + flashed).lower() or field in text, text[:500]


def assert_web_refused(response, field: str) -> None:
    """A web form: a 4xx page naming the field, or a redirect back whose flashed message names it; never a 5xx."""
    if response.status_code == 302:
        flashed = " ".join(str(m) for m in get_messages(response.wsgi_request)).lower()
        words = field.replace("_", " ").lower()
        assert words in flashed or field in flashed or words.split()[-1] in flashed, flashed
        return
    assert_refused(response, field)


class RowCounts:
    """Row counts of every sredesk table, to show a refused request wrote nothing."""

    APPS = ("ownership", "incidents", "postmortems", "notifications", "slos", "oncall")

    def __init__(self) -> None:
        self.before = self.snapshot()

    def snapshot(self) -> dict[str, int]:
        return {
            model._meta.label: model._default_manager.count()
            for app in self.APPS
            for model in apps.get_app_config(app).get_models()
        }

    def assert_unchanged(self) -> None:
        after = self.snapshot()
        changed = {k: (self.before[k], after[k]) for k in after if after[k] != self.before[k]}
        assert not changed, f"rows written: {changed}"
