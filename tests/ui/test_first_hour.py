"""What a new team trips on in its first hour with the web UI (issue 15 items 6 and 10)."""

import pytest

from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_the_catalog_and_the_service_page_show_the_slug_commands_take(sre_client):
    """`create_integration --service payments` failed: the slug is payments-api, and no page said so."""
    ServiceFactory(name="Payments API", slug="payments-api")

    catalog = sre_client.get("/services/").content.decode()
    page = sre_client.get("/services/payments-api/").content.decode()

    assert "<code class=\"slug\">payments-api</code>" in catalog
    assert "<code>service=payments-api</code>" in page
