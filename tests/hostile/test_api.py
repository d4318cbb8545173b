"""Hostile input at every REST API write and filter: a 4xx naming the field, nothing written, never a 5xx."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from django.utils import timezone

from postmortems.testids import MAX_TEST_ID_CHARS
from sredesk.api.urls import router

from .table import DEEP, HOSTILE_TEXT, UNICODE_DIGITS, RowCounts, assert_refused, deep_json, json_body


@dataclass(frozen=True)
class Write:
    """One API write: its URL and a valid body (from the world), and which of its fields take what."""

    name: str
    method: str
    url: Callable[[dict], str]
    body: Callable[[dict], dict]
    text: tuple[str, ...] = ()  # strings stored as text
    choices: tuple[str, ...] = ()  # a label or its number (SEV2 / 2, P1 / 1)
    refs: tuple[str, ...] = ()  # object ids
    times: tuple[str, ...] = ()  # ISO 8601 instants
    numbers: tuple[str, ...] = ()  # decimals and counts with a range
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


WRITES = [
    Write(
        "incident declare", "post", lambda w: "/api/v1/incidents/",
        lambda w: {"title": "Checkout down", "severity": "SEV2", "primary_service": w["service"].pk},
        text=("title", "summary"), choices=("severity",), refs=("primary_service", "commander", "owning_team"),
        times=("started_at", "detected_at"),
    ),
    Write(
        "incident edit", "patch", lambda w: f"/api/v1/incidents/{w['incident'].pk}/",
        lambda w: {"title": "Checkout slow"},
        text=("title", "summary"), choices=("severity",), refs=("commander", "communications_lead"),
    ),
    Write(
        "incident note", "post", lambda w: f"/api/v1/incidents/{w['incident'].pk}/timeline/",
        lambda w: {"text": "Rolled back"}, text=("text",),
    ),
    Write(
        "incident acknowledge", "post", lambda w: f"/api/v1/incidents/{w['incident'].pk}/acknowledge/",
        lambda w: {}, times=("at",),
    ),
    Write(
        "post-mortem edit", "patch", lambda w: f"/api/v1/postmortems/{w['postmortem'].pk}/",
        lambda w: {"summary": "What happened"}, text=("summary", "root_cause", "timeline"), refs=("owner",),
        times=("due_at",),
    ),
    Write(
        "post-mortem snooze", "post", lambda w: f"/api/v1/postmortems/{w['postmortem'].pk}/snooze/",
        lambda w: {"until": None, "reason": "on leave"}, text=("reason",), times=("until",),
    ),
    Write(
        "action item add", "post", lambda w: "/api/v1/action-items/",
        lambda w: {"postmortem": w["postmortem"].pk, "title": "Add a retry", "priority": "P2"},
        text=("title", "description", "wont_do_reason", "tracker_url"), choices=("priority",),
        refs=("postmortem", "owner"),
    ),
    Write(
        "action item edit", "patch", lambda w: f"/api/v1/action-items/{w['item'].pk}/",
        lambda w: {"title": "Add a retry"}, text=("title", "description"), choices=("priority",), refs=("owner",),
    ),
    Write(
        "regression test link", "post", lambda w: "/api/v1/regression-tests/",
        lambda w: {
            "postmortem": w["postmortem"].pk, "repository": w["repository"].pk, "test_id": "tests/t.py::test_retry",
        },
        text=("test_id", "change_url"), refs=("postmortem", "repository", "action_item"),
    ),
    Write(
        "service edit", "patch", lambda w: f"/api/v1/services/{w['service'].pk}/",
        lambda w: {"description": "Takes payments"}, text=("description", "runbook_url"),
    ),
    Write(
        "SLO create", "post", lambda w: "/api/v1/slos/",
        lambda w: {"service": w["service"].pk, "slug": "availability", "name": "Availability", "target": 0.999,
                   "sli_kind": "events_pushed"},
        text=("name", "description", "timezone"), choices=("min_severity",), refs=("service",),
        times=("measured_since",),
    ),
    Write(
        "SLO edit", "patch", lambda w: f"/api/v1/slos/{w['slo'].pk}/",
        lambda w: {"name": "Availability"}, text=("name", "description"), refs=("service",),
        times=("measured_since",),
    ),
    Write(
        "SLO samples", "post", lambda w: f"/api/v1/slos/{w['slo'].pk}/samples/",
        lambda w: {"samples": [{"bucket_start": "2024-05-01T10:05:00Z", "good": 1, "total": 1}]},
    ),
    Write(
        "swap ask", "post", lambda w: "/api/v1/swaps/",
        lambda w: {"schedule": w["schedule"].slug, "start": _tomorrow(9), "end": _tomorrow(17), "note": "dentist"},
        text=("note",), refs=("schedule", "asked_by"), times=("start", "end"),
    ),
    Write(
        "page webhook add", "post", lambda w: "/api/v1/page-webhooks/",
        lambda w: {"url": "http://127.0.0.1:9/hooks/sredesk", "team": w["team"].slug},
        text=("url",), refs=("team",),
    ),
    Write(
        "team budget policy", "patch", lambda w: f"/api/v1/teams/{w['team'].pk}/budget-policy/",
        lambda w: {"threshold": "0.2"}, numbers=("threshold", "reminder_steps_sooner", "due_factor"),
    ),
]  # fmt: skip


def _tomorrow(hour: int) -> str:
    return (timezone.now() + dt.timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0).isoformat()


def cases(kind: str):
    for write in WRITES:
        for name in getattr(write, kind):
            yield pytest.param(write, name, id=f"{write.name}-{name}")


def send(client, write: Write, world: dict, body: dict | bytes, content_type: str = "application/json"):
    data = body if isinstance(body, bytes) else json_body(body)
    return getattr(client, write.method)(write.url(world), data=data, content_type=content_type)


@pytest.mark.parametrize("kind", sorted(HOSTILE_TEXT))
@pytest.mark.parametrize(("write", "name"), list(cases("text")))
def test_text_that_cannot_be_stored(api_client, hostile_world, write, name, kind):
    counts = RowCounts()
    response = send(api_client, write, hostile_world, {**write.body(hostile_world), name: HOSTILE_TEXT[kind]})
    assert_refused(response, name)
    counts.assert_unchanged()


@pytest.mark.parametrize("digits", UNICODE_DIGITS[:2])
@pytest.mark.parametrize(("write", "name"), list(cases("choices")) + list(cases("refs")))
def test_unicode_digits_in_numbers(api_client, hostile_world, write, name, digits):
    counts = RowCounts()
    response = send(api_client, write, hostile_world, {**write.body(hostile_world), name: digits})
    assert_refused(response, name)
    counts.assert_unchanged()


@pytest.mark.parametrize("value", ["9" * 30, 2**63, [1]])
@pytest.mark.parametrize(("write", "name"), list(cases("refs")))
def test_ids_out_of_range_or_of_the_wrong_type(api_client, hostile_world, write, name, value):
    counts = RowCounts()
    response = send(api_client, write, hostile_world, {**write.body(hostile_world), name: value})
    assert_refused(response, name)
    counts.assert_unchanged()


@pytest.mark.parametrize("value", ["2024-05-01T10:00:00\x00Z", "²⁰²⁴-05-01T10:00:00Z"])
@pytest.mark.parametrize(("write", "name"), list(cases("times")))
def test_bad_times(api_client, hostile_world, write, name, value):
    counts = RowCounts()
    response = send(api_client, write, hostile_world, {**write.body(hostile_world), name: value})
    assert_refused(response, name)
    counts.assert_unchanged()


@pytest.mark.parametrize(
    "value", ["0.5\x00", "1.5", "NaN", "Infinity", "-0.1", "1e999", "٠.٥", "9" * 40, 2**63, [0.5], {}, True]
)
@pytest.mark.parametrize(("write", "name"), list(cases("numbers")))
def test_bad_numbers(api_client, hostile_world, write, name, value):
    counts = RowCounts()
    response = send(api_client, write, hostile_world, {**write.body(hostile_world), name: value})
    assert_refused(response, name)
    counts.assert_unchanged()


@pytest.mark.parametrize("write", WRITES, ids=str)
def test_deep_nesting(api_client, hostile_world, write):
    counts = RowCounts()
    assert_refused(send(api_client, write, hostile_world, deep_json(DEEP)), "body")
    some_text = (write.text or write.refs or write.times or ("x",))[0]
    assert_refused(send(api_client, write, hostile_world, deep_json(DEEP, key=some_text)), "body")
    counts.assert_unchanged()


@pytest.mark.parametrize("write", WRITES, ids=str)
@pytest.mark.parametrize(
    ("content_type", "status"),
    [("text/plain", 415), ("application/x-www-form-urlencoded", 415)],
)
def test_wrong_content_types(api_client, hostile_world, write, content_type, status):
    counts = RowCounts()
    response = send(api_client, write, hostile_world, json_body(write.body(hostile_world)), content_type)
    assert response.status_code == status, response.content[:300]
    assert response.json()["error"]["code"] == "unsupported_media_type"
    counts.assert_unchanged()


@pytest.mark.parametrize("write", WRITES, ids=str)
@pytest.mark.parametrize("body", [b"\xff\xfe{}", b"{", b'{"title": NaN}', b"\xef\xbb\xbf{}"], ids=repr)
def test_bodies_that_are_not_json(api_client, hostile_world, write, body):
    counts = RowCounts()
    assert_refused(send(api_client, write, hostile_world, body), "body")
    counts.assert_unchanged()


# --- filters and paging of every list ------------------------------------------------------------
# One request per list and class gives every parameter the hostile value at once: the answer is one 400
# naming each of them (QueryValidationMixin), so no parameter's error can hide behind another's.

# Text matched as given: a search or a branch named "①" is a fair question, answered with what matches.
FREE_TEXT = {"search", "fingerprint", "test_id", "commit", "run_key", "branch"}
# A lone surrogate can only arrive UTF-8-encoded (ED A0 80), which Django decodes to U+FFFD.
SURROGATE_BYTES = "%ED%A0%80"
# Over-long: past every filter's limit, test ids' included (MAX_TEST_ID_CHARS: ids of thousands of characters are real).
QUERY_CLASSES = {
    "unicode_digits": "①",
    "nul": "x\x00",
    "overlong": "x" * (MAX_TEST_ID_CHARS + 1),
    "surrogate_escape": SURROGATE_BYTES,
}


def query(params: dict[str, str]) -> str:
    """A query string as a hostile client writes it (the surrogate's bytes raw, everything else encoded)."""
    return "&".join(f"{name}={value if value == SURROGATE_BYTES else quote(value)}" for name, value in params.items())


def lists():
    for prefix, viewset, _ in router.registry:
        filterset = getattr(viewset, "filterset_class", None)
        yield pytest.param(f"/api/v1/{prefix}/", list(filterset.base_filters) if filterset else [], id=prefix)


@pytest.mark.parametrize("kind", sorted(QUERY_CLASSES))
@pytest.mark.parametrize(("url", "names"), list(lists()))
def test_every_filter_and_page_size_at_once(api_client, url, names, kind):
    value = QUERY_CLASSES[kind]
    names = [*names, "page_size"]
    response = api_client.get(f"{url}?{query(dict.fromkeys(names, value))}")
    assert response.status_code == 400, response.content[:300]
    named = set(response.json()["error"]["fields"])
    expected = {n for n in names if not (n in FREE_TEXT and kind in ("unicode_digits", "surrogate_escape"))}
    assert expected <= named, expected - named


@pytest.mark.parametrize("kind", sorted(QUERY_CLASSES))
@pytest.mark.parametrize("name", ["cursor", "ordering"])
@pytest.mark.parametrize(("url", "names"), list(lists()))
def test_cursor_and_ordering(api_client, url, names, name, kind):
    assert_refused(api_client.get(f"{url}?{query({name: QUERY_CLASSES[kind]})}"), name, statuses=(400,))


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "9" * 40, "²"])
def test_page_size(api_client, value):
    assert_refused(api_client.get("/api/v1/incidents/", {"page_size": value}), "page_size", statuses=(400,))


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/incidents/¹/",
        "/api/v1/incidents/INC-①/",
        "/api/v1/postmortems/%00/",
        "/api/v1/services/9999999999999999999/",
    ],
)
def test_ids_in_urls(api_client, path):
    assert api_client.get(path).status_code == 404
    assert api_client.patch(path, data=b"{}", content_type="application/json").status_code == 404
