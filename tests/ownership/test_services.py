"""Ownership's services: catalog edits (``service_update``) and API tokens (``api_token_issue``/``_revoke``)."""

import pytest
from django.core.exceptions import ValidationError

from ownership.models import ApiToken, Service
from ownership.services import api_token_issue, api_token_revoke, service_update
from sredesk.tokens import token_hash
from tests.factories import ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_service_update_changes_catalog_fields_and_keeps_history():
    service = ServiceFactory(runbook_url="")
    service_update(service_id=service.pk, actor=None, runbook_url="https://runbooks.example/checkout", tier=1)
    service.refresh_from_db()
    assert (service.runbook_url, service.tier) == ("https://runbooks.example/checkout", 1)
    assert service.history.count() == 2


def test_service_update_without_a_change_writes_nothing():
    service = ServiceFactory(tier=2)
    service_update(service_id=service.pk, actor=None, tier=2)
    assert service.history.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"runbook_url": "javascript:alert(1)"}, "runbook_url"),
        ({"dashboard_url": "not a url"}, "dashboard_url"),
        ({"tier": 9}, "tier"),
        ({"team": "someone-else"}, "team"),
        ({"name": "Renamed"}, "name"),
    ],
)
def test_service_update_refuses_a_bad_value_or_a_field_outside_the_catalog_naming_it(changes, field):
    team = TeamFactory()
    service = ServiceFactory(team=team, name="Checkout", tier=2, runbook_url="https://r")
    with pytest.raises(ValidationError) as refused:
        service_update(service_id=service.pk, actor=None, **changes)
    assert field in refused.value.message_dict
    stored = Service.objects.get(pk=service.pk)
    assert (stored.name, stored.team, stored.tier, stored.runbook_url) == ("Checkout", team, 2, "https://r")


def test_a_new_api_token_replaces_the_old_one_and_only_its_hash_is_stored():
    person = UserFactory()
    first = api_token_issue(user=person)
    second = api_token_issue(user=person)
    assert first != second
    assert list(ApiToken.objects.values_list("key_hash", flat=True)) == [token_hash(second)]
    assert api_token_revoke(user=person) is True
    assert api_token_revoke(user=person) is False
    assert not ApiToken.objects.exists()
