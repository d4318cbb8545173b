"""The web incident list pages by keyset, as the API does (the kind of BR-24): a walk during an alert storm."""

import re
from html import unescape

from django.test import Client
from django.utils import timezone

from incidents.models import Incident
from tests.factories import IncidentFactory, UserFactory

ROW = re.compile(r'<a href="/incidents/(\d+)/">INC-\1</a>')
OLDER = re.compile(r'href="([^"]*)">Older')
NEWER = re.compile(r'href="([^"]*)">← Newer')


def link(match: re.Match) -> str:
    """A pager link as the browser follows it (``?cursor=...`` is relative to the list)."""
    return "/incidents/" + unescape(match[1]) if match[1].startswith("?") else unescape(match[1])


def rows(html: str) -> list[int]:
    """The incidents listed in the results (not the page's other links)."""
    return [int(pk) for pk in ROW.findall(html[html.index('id="incident-results"') :])]


def test_a_walk_while_incidents_are_declared_and_deleted_shows_every_row_once(db):
    storm = timezone.now()
    first = [IncidentFactory(started_at=storm, detected_at=storm).pk for _ in range(120)]  # one detection time
    client = Client()
    client.force_login(UserFactory())
    seen, url = [], "/incidents/"
    page = client.get(url).content.decode()
    seen += rows(page)
    later = [IncidentFactory(started_at=storm, detected_at=storm).pk for _ in range(5)]  # the storm goes on
    gone = [pk for pk in first if pk not in seen][:3]
    Incident.objects.filter(pk__in=gone).delete()
    while match := OLDER.search(page):
        page = client.get(link(match)).content.decode()
        seen += rows(page)
    assert len(seen) == len(set(seen)), "a row was shown twice"
    throughout = set(first) - set(gone)
    assert throughout <= set(seen), sorted(throughout - set(seen))
    assert not set(later) & set(seen[:50])  # declared after page 1 was read


def test_newer_walks_back_to_the_same_rows_and_a_bad_cursor_shows_the_first_page(db):
    detected = timezone.now()
    for _ in range(60):
        IncidentFactory(started_at=detected, detected_at=detected)
    client = Client()
    client.force_login(UserFactory())
    first = client.get("/incidents/").content.decode()
    second = client.get(link(OLDER.search(first))).content.decode()
    assert len(rows(second)) == 10 and "10 of 60" in second
    back = client.get(link(NEWER.search(second))).content.decode()
    assert rows(back) == rows(first)
    for cursor in ("garbage", "W10", "x" * 5000, "WzAsIjIwMjQtMDEtMDFUMDA6MDA6MDAiLDFd"):  # the last: a naive time
        response = client.get("/incidents/", {"cursor": cursor})
        assert response.status_code == 200 and rows(response.content.decode()) == rows(first)
