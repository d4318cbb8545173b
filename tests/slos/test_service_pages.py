"""SLO status where people look for a service: the catalog (the services list) and the service page."""

import datetime as dt

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
    assert "−900.0 %" in section or "-900.0 %" in section  # budget left of the spent one: 10× the budget burned
    empty = viewer.get(reverse("ownership:service", args=["ledger"])).content.decode()
    assert "No SLO yet" in empty
