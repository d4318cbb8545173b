"""Incidents through the API: declare, edit, transitions with their times (BR-22), timeline notes."""

import datetime as dt

import pytest

from incidents.models import Incident, TimelineEvent
from postmortems.models import PostMortem
from tests.api.clients import client_for
from tests.factories import IncidentFactory, UserFactory

DETECTED = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def incident(world):
    return IncidentFactory(
        owning_team=world["team"], started_at=DETECTED - dt.timedelta(minutes=5), detected_at=DETECTED, severity=2
    )


def test_declare_returns_the_public_id_and_defaults(api, world):
    response = api.post(
        "/api/v1/incidents/",
        {"title": "Checkout 500s", "severity": "SEV1", "primary_service": world["service"].pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["public_id"] == f"INC-{body['id']}"
    assert body["severity"] == "SEV1" and body["status"] == "triggered"
    assert body["owning_team"]["slug"] == "payments"
    assert [s["slug"] for s in body["services"]] == ["checkout"]
    assert body["allowed_transitions"] == ["acknowledge", "mitigate", "resolve"]
    assert TimelineEvent.objects.filter(incident_id=body["id"], source="api").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x", "severity": "SEV7"}, "severity"),
        ({"title": "x", "severity": True}, "severity"),
        ({"title": "x", "detected_at": "2024-05-01T10:05:00"}, "detected_at"),  # BR-22 (2): naive
        ({"title": "x", "started_at": "2024-05-01T11:00:00Z", "detected_at": "2024-05-01T10:00:00Z"}, "detected_at"),
        ({"title": "x", "primary_service": 999999}, "primary_service"),
        ({"title": "x", "services": ["a"]}, "services"),
        ({"title": "x", "status": "resolved"}, "status"),
        ({"title": "x\x00y"}, "title"),
    ],
)
def test_declare_refuses_bad_input_naming_the_field(api, body, field):
    response = api.post("/api/v1/incidents/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()


def test_malformed_json_is_a_400(api):
    response = api.post("/api/v1/incidents/", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_resolve_before_detection_is_a_400_naming_the_field(api, incident):
    """BR-22 (1): resolved at 09:00 when detected at 10:00."""
    response = api.post(f"/api/v1/incidents/{incident.pk}/resolve/", {"at": "2024-05-01T09:00:00Z"}, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "resolved_at" in fields and "detected_at" in fields["resolved_at"][0]
    incident.refresh_from_db()
    assert incident.status == "triggered" and incident.resolved_at is None


def test_resolve_in_the_future_is_a_400_naming_the_field(api, incident):
    response = api.post(f"/api/v1/incidents/{incident.pk}/resolve/", {"at": "2999-01-01T00:00:00Z"}, format="json")
    assert response.status_code == 400
    assert "must not be in the future" in response.json()["error"]["fields"]["resolved_at"][0]
    incident.refresh_from_db()
    assert incident.status == "triggered" and incident.resolved_at is None


def test_acknowledge_with_a_naive_time_is_a_400(api, incident):
    """BR-22 (2): a time without an offset is refused, not guessed."""
    response = api.post(f"/api/v1/incidents/{incident.pk}/acknowledge/", {"at": "2024-05-01T10:05:00"}, format="json")
    assert response.status_code == 400
    assert "at" in response.json()["error"]["fields"]


def test_patch_of_a_lifecycle_time_points_to_the_transitions(api, incident):
    """BR-22's PATCH of resolved_at: refused, with where to go instead."""
    response = api.patch(
        f"/api/v1/incidents/INC-{incident.pk}/", {"resolved_at": "2024-05-01T09:00:00Z"}, format="json"
    )
    assert response.status_code == 400
    assert "/resolve/" in response.json()["error"]["fields"]["resolved_at"][0]


def test_the_lifecycle_through_the_api_with_times_across_dst(api, incident, django_capture_on_commit_callbacks):
    url = f"/api/v1/incidents/INC-{incident.pk}"
    ack = api.post(f"{url}/acknowledge/", {"at": "2024-05-01T12:03:00+02:00"}, format="json").json()
    assert ack["acknowledged_at"] == "2024-05-01T10:03:00Z" and ack["mtta_seconds"] == 180
    assert api.post(f"{url}/acknowledge/", {}, format="json").status_code == 200  # a repeat is a no-op
    with django_capture_on_commit_callbacks(execute=True):  # the draft is created by a worker after commit
        resolved = api.post(f"{url}/resolve/", {"at": "2024-05-01T11:00:00Z"}, format="json").json()
    assert resolved["status"] == "resolved" and resolved["mttr_seconds"] == 3900
    assert api.get(url + "/").json()["postmortem"] == PostMortem.objects.get(incident=incident).pk
    conflict = api.post(f"{url}/mitigate/", {}, format="json")
    assert conflict.status_code == 409
    assert conflict.json()["error"] == {
        "code": "invalid_transition",
        "message": f"Cannot mitigate INC-{incident.pk}: it is resolved.",
        "fields": {},
    }
    reopened = api.post(f"{url}/reopen/", {}, format="json").json()
    assert reopened["status"] == "triggered" and reopened["resolved_at"] is None


def test_patch_changes_details_severity_and_roles_through_the_services(api, world, incident):
    responder, lead = UserFactory(), UserFactory()
    response = api.patch(
        f"/api/v1/incidents/{incident.pk}/",
        {
            "title": "Checkout latency",
            "summary": "p99 above 2 s",
            "severity": 1,
            "commander": world["commander"].pk,
            "communications_lead": lead.pk,
            "responders": [responder.pk],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "Checkout latency" and body["severity"] == "SEV1"
    assert body["commander"]["username"] == "commander"
    assert [r["id"] for r in body["responders"]] == [responder.pk]
    kinds = list(TimelineEvent.objects.filter(incident=incident).values_list("kind", flat=True))
    assert {"edit", "severity_change", "role_change"} <= set(kinds)
    assert api.patch(f"/api/v1/incidents/{incident.pk}/", {"responders": []}, format="json").json()["responders"] == []


def test_patch_is_all_or_nothing(api, incident):
    response = api.patch(f"/api/v1/incidents/{incident.pk}/", {"title": "Changed", "commander": 999999}, format="json")
    assert response.status_code == 400
    incident.refresh_from_db()
    assert incident.title != "Changed"


def test_timeline_notes_and_pages(api, incident):
    url = f"/api/v1/incidents/{incident.pk}/timeline/"
    assert api.post(url, {"text": "  "}, format="json").status_code == 400
    for i in range(7):
        assert api.post(url, {"text": f"Step {i}"}, format="json").status_code == 201
    first = api.get(url + "?page_size=5").json()
    assert [e["message"] for e in first["results"]] == [f"Step {i}" for i in range(5)]
    assert first["results"][0]["actor"]["username"] == "member"
    rest = api.get(first["next"]).json()
    assert [e["message"] for e in rest["results"]] == ["Step 5", "Step 6"] and rest["next"] is None
    assert api.get(url + "?cursor=garbage").status_code == 400


def test_unknown_incident_is_404(api):
    assert api.post("/api/v1/incidents/999999/resolve/", {}, format="json").status_code == 404
    assert api.get("/api/v1/incidents/INC-999999/").status_code == 404


def test_list_shows_public_ids_team_commander_and_services(api, world):
    body = api.get("/api/v1/incidents/").json()
    row = next(r for r in body["results"] if r["id"] == world["incident"].pk)
    assert row["public_id"] == f"INC-{world['incident'].pk}"
    assert row["owning_team"]["slug"] == "payments"
    assert row["commander"]["username"] == "commander"
    assert row["services"] == [{"id": world["service"].pk, "slug": "checkout", "name": "Checkout"}]


def test_alerts_and_integrations_are_read_only_and_hide_secrets(api, world):
    from incidents.models import Alert, Integration

    integration = Integration(kind="alertmanager", name="Prod AM")
    integration.set_new_token()
    integration.signing_secret = "s3cret"
    integration.save()
    Alert.objects.create(
        integration=integration,
        fingerprint="abc",
        starts_at=DETECTED,
        status="firing",
        name="High latency",
        labels={"service": "checkout"},
        incident=world["incident"],
    )
    body = api.get("/api/v1/integrations/").json()["results"][0]
    assert body["has_signing_secret"] is True and body["webhook_url"].endswith(f"/hooks/{integration.public_id}/")
    assert not {"token_hash", "signing_secret", "signing_secret_encrypted"} & set(body)
    assert integration.token_hash not in str(body)
    alert = api.get(f"/api/v1/alerts/?incident=INC-{world['incident'].pk}").json()["results"][0]
    assert alert["labels"] == {"service": "checkout"} and alert["incident"]["public_id"].startswith("INC-")
    assert api.post("/api/v1/alerts/", {}, format="json").status_code == 405
    assert api.delete(f"/api/v1/integrations/{integration.pk}/").status_code == 405
    assert Incident.objects.filter(pk=world["incident"].pk).exists()


def test_people_show_safe_fields_only(api, world):
    person = api.get(f"/api/v1/people/{world['member'].pk}/").json()
    assert not {"password", "email", "is_superuser", "last_login", "user_permissions", "groups"} & set(person)
    assert person["teams"] == [{"id": world["team"].pk, "slug": "payments", "name": "Payments", "role": "member"}]


def test_service_catalog_edit(api, world):
    url = f"/api/v1/services/{world['service'].pk}/"
    assert api.patch(url, {"runbook_url": "not a url"}, format="json").status_code == 400
    assert api.patch(url, {"name": "Renamed"}, format="json").status_code == 400
    body = api.patch(url, {"tier": 1, "runbook_url": "https://runbooks.example.test/c"}, format="json").json()
    assert body["tier"] == 1 and "runbook" not in body["catalog_gaps"]
    assert api.put(url, {}, format="json").status_code == 405


def test_the_list_fast_path_gives_exactly_the_serializer_output(api, world):
    """The list shapes .values() rows itself (bench/api.py); it must stay IncidentListSerializer's shape."""
    from incidents.api.serializers import IncidentListSerializer

    nameless = UserFactory(first_name="", last_name="")
    IncidentFactory(commander=nameless, owning_team=None, resolved=True)
    incidents = Incident.objects.select_related("owning_team", "commander", "primary_service").prefetch_related(
        "services"
    )
    expected = {row["id"]: row for row in IncidentListSerializer(incidents, many=True).data}
    for row in expected.values():
        row["services"] = sorted(row["services"], key=lambda s: s["name"])
    listed = api.get("/api/v1/incidents/").json()["results"]
    assert len(listed) == len(expected) >= 3
    for row in listed:
        assert row == expected[row["id"]]


def test_a_persons_explicit_resolution_before_the_acknowledgement_is_a_400_naming_the_field(world):
    """Issue 13 (kind of BR-22): a person's time is checked against what is recorded, not moved."""
    incident = world["incident"]
    api = client_for(world["member"])  # a member of the owning team
    url = f"/api/v1/incidents/{incident.pk}"
    assert api.post(f"{url}/acknowledge/", {}, format="json").status_code == 200
    incident.refresh_from_db()
    before_ack = incident.acknowledged_at - dt.timedelta(seconds=30)
    assert before_ack > incident.detected_at

    response = api.post(f"{url}/resolve/", {"at": before_ack.isoformat()}, format="json")

    assert response.status_code == 400
    assert "acknowledged_at" in response.json()["error"]["fields"]["resolved_at"][0]
    incident.refresh_from_db()
    assert incident.status == "acknowledged" and incident.resolved_at is None
