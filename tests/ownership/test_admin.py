"""The ownership admin: the service catalog's gap filter."""

import pytest
from django.urls import reverse

from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_catalog_gap_filter(operator_client):
    ServiceFactory(name="Complete one", runbook_url="https://r", dashboard_url="https://d", alerts_url="https://a")
    ServiceFactory(name="Ownerless", team=None, runbook_url="https://r", dashboard_url="https://d",
                   alerts_url="https://a")  # fmt: skip
    page = operator_client.get(reverse("admin:ownership_service_changelist"), {"gap": "owner"}).content.decode()
    assert "Ownerless" in page and "Complete one" not in page
