"""The SLO pages people read: the list, and a page per SLO with its figures and budget burn-down."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from slos.evaluate import evaluate
from slos.models import Sample
from tests.factories import SLOFactory, UserFactory
from tests.slos.helpers import created, fill


@pytest.fixture
def viewer(client, db):
    client.force_login(UserFactory())
    return client


def test_an_slo_page_shows_its_budget_burned_down(viewer):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    slo = created(SLOFactory(name="Checkout availability", window_days=7), now - dt.timedelta(days=8))
    # 7 days of 1,000 requests per 5 minutes; on the third day 1,008 bad in one hour: 50 % of the budget
    # (0.1 % of 2,016,000 events = 2,016).
    start = now.replace(minute=0, second=0) - dt.timedelta(days=7)
    fill(slo, start, 2016, total=1000)
    Sample.objects.filter(
        slo=slo, bucket_start__gte=start + dt.timedelta(days=2), bucket_start__lt=start + dt.timedelta(days=2, hours=1)
    ).update(good=916)
    evaluate(now)
    page = viewer.get(reverse("slos:slo", args=[slo.pk])).content.decode()
    assert "Checkout availability" in page and "99.9 %" in page
    left = re.search(r"<dt>Budget left</dt><dd>[^<]*\(([\d.]+) %\)</dd>", page)
    assert 49 <= float(left.group(1)) <= 50  # budget left: half, less what the window's edges add or cut
    # the window's events and the bad ones among them: not "2,016,000 events, 1,008 events bad", which reads
    # (for the time SLI: "30 d, 22 h 50 m bad") as one figure longer than the window
    assert re.search(r"<dt>Events</dt><dd>[\d,]+ events, of which [\d,]+ events bad</dd>", page)
    assert 'id="chart-burn-down"' in page and "<svg" in page
    assert "page-fast" in page and "3.36×" in page  # the 7-day window's own threshold
    listing = viewer.get(reverse("slos:list")).content.decode()
    assert "Checkout availability" in listing and "OK" in listing


def test_an_unevaluated_slo_says_so(viewer):
    slo = SLOFactory(name="Fresh")
    page = viewer.get(reverse("slos:slo", args=[slo.pk])).content.decode()
    assert "Not evaluated yet" in page


def test_the_window_reads_as_plain_english_wherever_it_is_named(viewer):
    """The SLO page said "99.9 % over a rolling 30 days window"; the list named the window the same odd way."""
    rolling = SLOFactory(name="Checkout availability", window_days=30)
    monthly = SLOFactory(name="Search latency", window_kind="calendar_month", timezone="Europe/Berlin")
    text = re.sub(r"<[^>]+>", "", viewer.get(reverse("slos:slo", args=[rolling.pk])).content.decode())
    assert "99.9 % over a 30-day rolling window" in text and "rolling 30 days" not in text
    text = re.sub(r"<[^>]+>", "", viewer.get(reverse("slos:slo", args=[monthly.pk])).content.decode())
    assert "over a calendar month (Europe/Berlin) ·" in text and "window window" not in text
    listing = viewer.get(reverse("slos:list")).content.decode()
    assert "30-day rolling window" in listing and "rolling 30 days" not in listing  # the phone's line under a name


def window_column(page: str, marker: str) -> list[str]:
    """The cells of the Window column of the first table from ``marker`` on in ``page``."""
    rest = page[page.index(marker) :]
    table = rest[: rest.index("</table>")]
    head, body = table.split("</thead>", 1)
    column = re.findall(r"<th[^>]*>([^<]*)</th>", head).index("Window")
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[column].strip()
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_window_column_does_not_say_window_again(viewer):
    """The SLO list's Window column read "30-day rolling window" in every row; the service page's too."""
    SLOFactory(name="Checkout availability", window_days=30)
    daily = SLOFactory(name="Checkout latency", window_days=1)
    SLOFactory(name="Search latency", window_kind="calendar_month", timezone="Europe/Berlin")
    listing = viewer.get(reverse("slos:list")).content.decode()
    assert sorted(window_column(listing, 'id="slo-list"')) == [
        "1 day, rolling", "30 days, rolling", "calendar month (Europe/Berlin)",
    ]  # fmt: skip
    service = viewer.get(reverse("ownership:service", args=[daily.service.slug])).content.decode()
    assert window_column(service, 'id="service-slos"') == ["1 day, rolling"]


def test_the_list_sorts_services_by_name_whatever_their_case(viewer):
    # The walk: "CI runners" listed before "Certificate service", "DNS resolvers" before "Data center facilities".
    for name in ["DNS resolvers", "Certificate service", "Data center facilities", "CI runners"]:
        SLOFactory(service__name=name, name=f"{name} available")
    listing = viewer.get(reverse("slos:list")).content.decode()
    shown = [listing.index(f"{name} available") for name in
             ["Certificate service", "CI runners", "Data center facilities", "DNS resolvers"]]  # fmt: skip
    assert shown == sorted(shown)
