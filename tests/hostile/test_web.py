"""Hostile input at every web form: refused on the field (a 400 page or a flashed message), nothing written.

Form posts are URL-encoded, so a lone surrogate can only arrive as its UTF-8
bytes, which Django decodes to U+FFFD; NUL, Unicode digits and over-long values
arrive as sent.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.utils import timezone

from .table import HOSTILE_TEXT, UNICODE_DIGITS, RowCounts, assert_web_refused


@dataclass(frozen=True)
class Form:
    name: str
    url: Callable[[dict], str]
    data: Callable[[dict], dict]
    text: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()  # choices and object ids, posted as numbers
    prefix: str = ""  # the form's prefix ({item}: the action item's id)

    def key(self, world: dict, name: str) -> str:
        return self.prefix.format(item=world["item"].pk) + name

    def __str__(self) -> str:
        return self.name


FORMS = [
    Form(
        "declare", lambda w: "/incidents/declare/", lambda w: {"title": "Checkout down", "severity": "2"},
        text=("title", "summary"), numbers=("severity", "primary_service", "commander", "owning_team"),
    ),
    Form("note", lambda w: f"/incidents/{w['incident'].pk}/notes/add/", lambda w: {"text": "Rolled back"},
         text=("text",)),
    Form("severity", lambda w: f"/incidents/{w['incident'].pk}/severity/", lambda w: {"severity": "1"},
         numbers=("severity",)),
    Form("roles", lambda w: f"/incidents/{w['incident'].pk}/roles/",
         lambda w: {"role": "commander", "user": str(w["member"].pk)}, numbers=("user",)),
    Form("responders", lambda w: f"/incidents/{w['incident'].pk}/responders/",
         lambda w: {"user": str(w["member"].pk), "responding": "1"}, numbers=("user",)),
    Form("post-mortem sections", lambda w: f"/postmortems/{w['postmortem'].pk}/edit/",
         lambda w: {"summary": "What happened"}, text=("summary", "root_cause")),
    Form("action item add", lambda w: f"/postmortems/{w['postmortem'].pk}/action-items/add/",
         lambda w: {"title": "Add a retry", "kind": "prevent", "priority": "2"},
         text=("title", "tracker_url"), numbers=("priority", "owner")),
    Form("action item status", lambda w: f"/postmortems/{w['postmortem'].pk}/action-items/{w['item'].pk}/status/",
         lambda w: {f"item{w['item'].pk}-status": "wont_do", f"item{w['item'].pk}-wont_do_reason": "covered"},
         text=("wont_do_reason",), prefix="item{item}-"),
    Form("link test", lambda w: f"/postmortems/{w['postmortem'].pk}/link-test/",
         lambda w: {"repository": str(w["repository"].pk), "test_id": "tests/t.py::test_retry"},
         text=("test_id", "change_url"), numbers=("repository",)),
    Form("snooze", lambda w: f"/postmortems/{w['postmortem'].pk}/snooze/",
         lambda w: {"until": "2030-01-01T10:00", "reason": "on leave"}, text=("reason", "until")),
    Form("swap ask", lambda w: f"/oncall/schedules/{w['schedule'].slug}/swaps/",
         lambda w: {"start": _tomorrow(9), "end": _tomorrow(17), "note": "dentist"}, text=("note", "start", "end")),
    Form("team budget policy", lambda w: f"/teams/{w['team'].slug}/budget-policy/",
         lambda w: {"enabled": "on", "threshold": "0.2", "reminder_steps_sooner": "1", "due_factor": "0.5"},
         numbers=("threshold", "reminder_steps_sooner", "due_factor")),
]  # fmt: skip


def _tomorrow(hour: int) -> str:
    return (timezone.now() + dt.timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0).isoformat()


def cases(kind: str):
    for form in FORMS:
        for name in getattr(form, kind):
            yield pytest.param(form, name, id=f"{form.name}-{name}")


@pytest.mark.parametrize("kind", ["nul", "overlong"])
@pytest.mark.parametrize(("form", "name"), list(cases("text")))
def test_text(web_client, hostile_world, form, name, kind):
    counts = RowCounts()
    value = HOSTILE_TEXT[kind]
    response = web_client.post(
        form.url(hostile_world), {**form.data(hostile_world), form.key(hostile_world, name): value}
    )
    assert_web_refused(response, name)
    counts.assert_unchanged()


@pytest.mark.parametrize("digits", [UNICODE_DIGITS[0], "9" * 30])
@pytest.mark.parametrize(("form", "name"), list(cases("numbers")))
def test_numbers(web_client, hostile_world, form, name, digits):
    counts = RowCounts()
    response = web_client.post(
        form.url(hostile_world), {**form.data(hostile_world), form.key(hostile_world, name): digits}
    )
    assert_web_refused(response, name)
    counts.assert_unchanged()


@pytest.mark.parametrize("form", FORMS, ids=str)
def test_surrogate_bytes_never_reach_the_database(web_client, hostile_world, form):
    name = (form.text or form.numbers)[0]
    response = web_client.post(
        form.url(hostile_world), data=f"{name}=%ED%A0%80", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code < 500


@pytest.mark.parametrize("path", ["/incidents/", "/postmortems/"])
@pytest.mark.parametrize("value", [UNICODE_DIGITS[0], HOSTILE_TEXT["nul"], "x" * 10_000])
def test_list_filters(web_client, hostile_world, path, value):
    params = ["status", "severity", "service", "team", "detected_after", "search"] if path == "/incidents/" else []
    response = web_client.get(path, dict.fromkeys(params, value))
    assert response.status_code in (200, 400)
