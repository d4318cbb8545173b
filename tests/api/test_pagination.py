"""Cursor pages over a changing set with non-unique orderings (BR-24), and the keyset cursor itself."""

import base64
import datetime as dt
import json

import pytest
from django.db.models import F
from django.utils import timezone

from incidents.models import Incident
from postmortems.models import ActionItem
from tests.api.clients import client_for
from tests.factories import TeamFactory, UserFactory

T = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)


def _storm(n: int, team) -> list[int]:
    """``n`` incidents from one alert storm: identical started, detected and created times."""
    Incident.objects.bulk_create(
        Incident(title=f"Alert storm {i}", started_at=T, detected_at=T, owning_team=team) for i in range(n)
    )
    Incident.objects.update(created_at=T)
    return list(Incident.objects.values_list("pk", flat=True))


def _walk(client, url: str, between=None) -> list[int]:
    seen, page = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        page += 1
        if between:
            between(page, body)
        url = body["next"]
        assert page < 50, "the walk does not end"
    return seen


@pytest.fixture
def client(db):
    return client_for(UserFactory(username="reader"))


@pytest.mark.parametrize("ordering", ["-created_at", "-detected_at", "created_at", "severity,-started_at"])
def test_a_walk_over_identical_timestamps_sees_every_row_once(client, ordering):
    team = TeamFactory()
    ids = _storm(120, team)
    walked = _walk(client, f"/api/v1/incidents/?ordering={ordering}&page_size=50")
    assert sorted(walked) == sorted(ids)
    assert len(walked) == len(set(walked)) == 120


def test_inserts_and_deletes_between_pages_never_skip_or_repeat_a_row(client):
    """BR-24: between page 1 and 2, 5 new incidents arrive and 3 of page 2's are deleted."""
    team = TeamFactory()
    ids = _storm(120, team)
    order = list(Incident.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    deleted = order[50:53]  # the first three of page 2
    new: list[int] = []

    def between(page, body):
        if page == 1:
            assert [row["id"] for row in body["results"]] == order[:50]
            Incident.objects.bulk_create(
                Incident(title=f"Late {i}", started_at=T, detected_at=T, owning_team=team) for i in range(5)
            )
            new.extend(Incident.objects.exclude(pk__in=ids).values_list("pk", flat=True))
            Incident.objects.filter(pk__in=deleted).delete()

    walked = _walk(client, "/api/v1/incidents/?ordering=-created_at&page_size=50", between)
    throughout = set(ids) - set(deleted)
    assert len(walked) == len(set(walked)), "a row appeared twice"
    assert throughout <= set(walked), f"rows skipped: {sorted(throughout - set(walked))}"
    assert set(walked) - throughout <= set(new) | set(deleted)


def test_previous_links_walk_back_to_the_same_pages(client):
    team = TeamFactory()
    _storm(120, team)
    first = client.get("/api/v1/incidents/?page_size=50").json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    assert third["next"] is None and len(third["results"]) == 20
    back = client.get(third["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in second["results"]]
    back = client.get(back["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]
    assert back["previous"] is None


def test_a_stale_cursor_gives_an_empty_page_not_an_error(client):
    team = TeamFactory()
    _storm(120, team)
    second = client.get("/api/v1/incidents/?page_size=50").json()["next"]
    Incident.objects.all().delete()
    response = client.get(second)
    assert response.status_code == 200
    assert response.json()["results"] == [] and response.json()["next"] is None


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "%00",
        "e30",  # {}
        base64.urlsafe_b64encode(json.dumps({"o": "-detected_at,-id", "v": ["x", 1], "r": 0}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({"o": "-detected_at,-id", "v": [None, 1], "r": 0}).encode()).decode(),
        base64.urlsafe_b64encode(
            json.dumps({"o": "-detected_at,-id", "v": [T.isoformat(), 2**70], "r": 0}).encode()
        ).decode(),
        base64.urlsafe_b64encode(
            json.dumps({"o": "-detected_at,-id", "v": [T.isoformat(), 1], "r": 7}).encode()
        ).decode(),
        base64.urlsafe_b64encode(json.dumps({"o": "-severity,-id", "v": [1, 1], "r": 0}).encode()).decode(),
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
    ],
)
def test_a_malformed_cursor_is_a_400_naming_it(client, cursor):
    response = client.get(f"/api/v1/incidents/?cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["fields"]


def test_a_cursor_belongs_to_its_ordering(client):
    team = TeamFactory()
    _storm(3, team)
    next_link = client.get("/api/v1/incidents/?page_size=1").json()["next"]
    response = client.get(next_link + "&ordering=severity")
    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["fields"]


def test_nullable_ordering_keys_page_correctly_both_ways(client):
    """Action items order by priority, then due date (NULLs last), then id: no row lost at the NULL boundary."""
    from tests.factories import PostMortemFactory

    postmortem = PostMortemFactory()
    today = timezone.now().date()
    ActionItem.objects.bulk_create(
        ActionItem(
            postmortem=postmortem,
            title=f"Item {i}",
            priority=1 + i % 2,
            due_date=None if i % 3 == 0 else today + dt.timedelta(days=i % 4),
        )
        for i in range(37)
    )
    expected = list(
        ActionItem.objects.order_by("priority", F("due_date").asc(nulls_last=True), "id").values_list("pk", flat=True)
    )
    forward, url, pages = [], "/api/v1/action-items/?page_size=5", []
    while url:
        body = client.get(url).json()
        pages.append(body)
        forward += [r["id"] for r in body["results"]]
        url = body["next"]
    assert forward == expected
    backward, url = [], pages[-1]["previous"]
    while url:
        body = client.get(url).json()
        backward = [r["id"] for r in body["results"]] + backward
        url = body["previous"]
    assert backward + [r["id"] for r in pages[-1]["results"]] == expected
    for ordering in ["-due_date", "due_date", "-priority,due_date"]:
        walked, url = [], f"/api/v1/action-items/?page_size=4&ordering={ordering}"
        while url:
            body = client.get(url).json()
            walked += [r["id"] for r in body["results"]]
            url = body["next"]
        assert sorted(walked) == sorted(expected) and len(walked) == 37, ordering
