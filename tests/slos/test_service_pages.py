"""SLO status where people look for a service: the catalog (the services list) and the service page."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from slos.evaluate import evaluate
from tests.factories import ServiceFactory, SLOFactory, UserFactory
from tests.slos.helpers import created, fill


@pytest.fixture
def viewer(client, db):
    client.force_login(UserFactory())
    return client


def test_the_catalog_and_the_service_page_show_each_slos_status(viewer):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    checkout = ServiceFactory(slug="checkout", name="Checkout")
    healthy = created(
        SLOFactory(service=checkout, name="Checkout availability", window_days=1), now - dt.timedelta(days=2)
    )
    fill(healthy, now.replace(minute=0, second=0) - dt.timedelta(days=1), 288, total=1000)
    spent = created(SLOFactory(service=checkout, name="Checkout latency", window_days=1), now - dt.timedelta(days=2))
    fill(spent, now.replace(minute=0, second=0) - dt.timedelta(days=1), 288, total=1000, bad=10)  # 1 % bad: 10× over
    SLOFactory(service=checkout, name="Checkout freshness")  # no data yet
    ServiceFactory(slug="ledger", name="Ledger")  # no SLO at all
    evaluate(now)

    catalog = viewer.get(reverse("ownership:services")).content.decode()
    assert 'class="badge slo-ok"' in catalog and "OK · 100 % left" in catalog
    assert 'class="badge slo-exhausted"' in catalog and "Budget exhausted<" in catalog
    assert 'class="badge slo-no_data"' in catalog and "No data<" in catalog
    assert f'href="{reverse("slos:slo", args=[healthy.pk])}"' in catalog

    page = viewer.get(reverse("ownership:service", args=["checkout"])).content.decode()
    section = page[page.index('id="service-slos"') :]
    assert section.index("Checkout availability") < section.index("Checkout freshness")
    assert "Budget exhausted" in section and "No data" in section and "99.9 %" in section
    assert "−900.0 %" in section and "-900.0 %" not in section  # budget left of the spent one: 10× the budget burned
    empty = viewer.get(reverse("ownership:service", args=["ledger"])).content.decode()
    assert "No SLO yet" in empty


def test_an_overspent_budget_reads_with_a_minus_sign_on_the_list_the_page_and_the_chart(viewer):
    """The list's "Budget left" said "-900.0 %" with a hyphen while the budget in its unit said "−14 m"."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    spent = created(SLOFactory(name="Checkout latency", window_days=1), now - dt.timedelta(days=2))
    fill(spent, now.replace(minute=0, second=0) - dt.timedelta(days=1), 288, total=1000, bad=10)  # 10× over
    evaluate(now)

    listing = viewer.get(reverse("slos:list")).content.decode()
    page = viewer.get(reverse("slos:slo", args=[spent.pk])).content.decode()
    chart = page[page.index("<svg") : page.index("</svg>")]

    assert "−900.0 %" in listing and "-900.0 %" not in listing
    assert "−900.0 %" in page and "-900.0 %" not in page
    assert "−900 %" in chart and not re.search(r"-\d+ %", chart)
