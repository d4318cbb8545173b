"""ETag and If-Match (issue 15 item 1): a client that edits what it read never overwrites a change it has not seen.

Every incident, post-mortem, action item and service the API returns alone
carries ``ETag: "<version>"``; a write with ``If-Match`` naming an older
version changes nothing and answers 412 with the object as it is now.
"""

import pytest

from incidents.models import Incident
from postmortems.models import ActionItem, PostMortem
from tests.api.clients import client_for
from tests.factories import ActionItemFactory

pytestmark = pytest.mark.django_db


def test_every_object_read_or_written_alone_carries_its_version_as_etag(api, world):
    url = f"/api/v1/incidents/{world['incident'].pk}/"
    read = api.get(url)
    assert read["ETag"] == f'"{read.json()["version"]}"' == '"1"'

    edited = api.patch(url, {"title": "Checkout fails for card payments"}, format="json")
    acked = api.post(url + "acknowledge/", {}, format="json")

    assert edited["ETag"] == '"2"' and acked["ETag"] == '"3"'
    assert acked.json()["version"] == 3
    listed = api.get("/api/v1/incidents/").json()["results"]
    assert {row["id"]: row["version"] for row in listed}[world["incident"].pk] == 3
    for path in (
        f"/api/v1/postmortems/{world['postmortem'].pk}/",
        f"/api/v1/services/{world['service'].pk}/",
    ):
        response = api.get(path)
        assert response["ETag"] == f'"{response.json()["version"]}"', path


def test_a_patch_based_on_an_old_version_is_412_with_the_current_object_and_changes_nothing(api, world):
    url = f"/api/v1/postmortems/{world['postmortem'].pk}/"
    tag = api.get(url)["ETag"]
    other = client_for(world["lead"])
    assert other.patch(url, {"went_well": "Paging worked."}, format="json", HTTP_IF_MATCH=tag).status_code == 200

    stale = api.patch(url, {"went_well": "Rollback was quick."}, format="json", HTTP_IF_MATCH=tag)

    assert stale.status_code == 412
    body = stale.json()
    assert body["error"]["code"] == "stale_version"
    assert body["current"]["went_well"] == "Paging worked." and body["current"]["version"] == 2
    assert stale["ETag"] == '"2"'
    assert PostMortem.objects.get(pk=world["postmortem"].pk).went_well == "Paging worked."
    merged = api.patch(
        url, {"went_well": "Paging worked. Rollback was quick."}, format="json", HTTP_IF_MATCH=stale["ETag"]
    )
    assert merged.status_code == 200 and merged["ETag"] == '"3"'


@pytest.mark.parametrize("header", ['W/"1"', "1", '"x"', '"2", "3"'])
def test_an_if_match_naming_no_current_version_is_refused(api, world, header):
    """RFC 9110: If-Match compares strongly; a weak, unquoted or unknown tag never matches."""
    url = f"/api/v1/incidents/{world['incident'].pk}/"

    response = api.patch(url, {"title": "Renamed"}, format="json", HTTP_IF_MATCH=header)

    assert response.status_code == 412
    assert Incident.objects.get(pk=world["incident"].pk).title != "Renamed"


@pytest.mark.parametrize("header", [None, "*", '"7", "1"'])
def test_without_if_match_or_with_a_matching_one_the_write_is_done(api, world, header):
    extra = {} if header is None else {"HTTP_IF_MATCH": header}

    response = api.patch(f"/api/v1/incidents/{world['incident'].pk}/", {"title": "Renamed"}, format="json", **extra)

    assert response.status_code == 200 and response.json()["title"] == "Renamed"


def test_transitions_action_items_and_services_honour_if_match(api, world):
    incident = f"/api/v1/incidents/{world['incident'].pk}/"
    assert api.post(incident + "acknowledge/", {}, format="json", HTTP_IF_MATCH='"9"').status_code == 412
    assert Incident.objects.get(pk=world["incident"].pk).status == "triggered"

    item = ActionItemFactory(postmortem=world["postmortem"], title="Add a retry budget")
    item_url = f"/api/v1/action-items/{item.pk}/"
    assert api.patch(item_url, {"priority": "P1"}, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    assert api.patch(item_url, {"title": "Budget"}, format="json", HTTP_IF_MATCH='"1"').status_code == 412
    assert api.delete(item_url, HTTP_IF_MATCH='"1"').status_code == 412
    assert ActionItem.objects.get(pk=item.pk).title == "Add a retry budget"

    service = f"/api/v1/services/{world['service'].pk}/"
    assert api.patch(service, {"tier": 1}, format="json", HTTP_IF_MATCH='"5"').status_code == 412


def test_responders_are_part_of_the_incidents_version(api, world):
    url = f"/api/v1/incidents/{world['incident'].pk}/"
    before = api.get(url)["ETag"]

    api.patch(url, {"responders": [world["lead"].pk]}, format="json")

    assert api.get(url)["ETag"] != before


def test_the_schema_documents_etag_if_match_and_412(api):
    schema = api.get("/api/schema/?format=json").json()
    patch = schema["paths"]["/api/v1/postmortems/{id}/"]["patch"]

    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch["parameters"])
    assert "412" in patch["responses"] and "ETag" in patch["responses"]["200"]["headers"]
    assert "ETag" in schema["paths"]["/api/v1/incidents/{id}/"]["get"]["responses"]["200"]["headers"]
