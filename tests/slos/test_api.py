"""/api/v1/slos/: SLOs with their state for everyone signed in, written by their service's team and staff."""

import datetime as dt

import pytest
import time_machine

from slos.evaluate import evaluate
from slos.models import SLO, BurnAlert, Sample
from tests.api.clients import client_for
from tests.factories import MembershipFactory, ServiceFactory, SLOFactory, TeamFactory, UserFactory
from tests.slos.helpers import created, fill

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def world():
    team = TeamFactory(slug="payments", name="Payments")
    member = MembershipFactory(team=team, user=UserFactory(username="member")).user
    outsider = MembershipFactory(team=TeamFactory(slug="search"), user=UserFactory(username="outsider")).user
    checkout = ServiceFactory(team=team, slug="checkout", name="Checkout")
    search = ServiceFactory(team=outsider.memberships.get().team, slug="search", name="Search")
    return {"team": team, "member": member, "outsider": outsider, "checkout": checkout, "search": search}


def body(**fields):
    return {"service": "checkout", "slug": "availability", "name": "Availability", "target": 0.999,
            "sli_kind": "events_pushed", **fields}  # fmt: skip


def test_list_and_detail_show_the_last_state_and_filter(world):
    slo = created(
        SLOFactory(service=world["checkout"], name="Checkout availability", window_days=7), NOW - dt.timedelta(days=8)
    )
    # 7 days of 1,000 events per 5 minutes, 1,008 bad: half of the budget of 2,016 events is left.
    fill(slo, NOW - dt.timedelta(days=7), 2016, total=1000)
    Sample.objects.filter(pk__in=Sample.objects.filter(slo=slo).order_by("bucket_start")[:12].values("pk")).update(
        good=916
    )
    empty = SLOFactory(service=world["search"], name="Search latency")
    evaluate(NOW)
    reader = client_for(UserFactory(username="reader"))  # in no team: reads everything

    listing = reader.get("/api/v1/slos/").json()
    assert [row["name"] for row in listing["results"]] == ["Checkout availability", "Search latency"]
    state = reader.get(f"/api/v1/slos/{slo.pk}/").json()["state"]
    assert state["status"] == "ok" and state["unit"] == "events"
    assert state["total"] == 2_016_000 and state["bad"] == 1008
    assert state["budget_total"] == pytest.approx(2016) and state["budget_left"] == pytest.approx(1008)
    assert state["budget_left_fraction"] == pytest.approx(0.5) and state["coverage"] == pytest.approx(1.0)
    assert state["attainment"] == pytest.approx(1 - 1008 / 2_016_000)
    rates = {r["window"]: r["burn_rate"] for r in state["burn_rates"]}
    assert rates["5m"] == 0 and set(rates) == {"5m", "30m", "1h", "6h", "3d"}
    assert {r["name"]: round(r["threshold"], 2) for r in state["rules"]} == {
        "page-fast": 3.36,
        "page-slow": 1.4,
        "ticket": 0.23,
    }
    nothing = reader.get(f"/api/v1/slos/{empty.pk}/").json()["state"]
    assert nothing["status"] == "no_data" and nothing["budget_left_fraction"] is None and nothing["attainment"] is None

    def names(query):
        response = reader.get(f"/api/v1/slos/?{query}")
        assert response.status_code == 200, response.json()
        return [row["name"] for row in response.json()["results"]]

    assert names("service=search") == ["Search latency"]
    assert names(f"service={world['checkout'].pk}") == ["Checkout availability"]
    assert names("team=payments") == ["Checkout availability"]
    assert names("status=no_data,exhausted") == ["Search latency"]
    assert names("status=ok") == ["Checkout availability"]
    refused = reader.get("/api/v1/slos/?status=great&team=nobody").json()["error"]["fields"]
    assert set(refused) == {"status", "team"}


def test_a_member_creates_changes_and_deletes_its_teams_slo(world):
    api = client_for(world["member"])
    response = api.post("/api/v1/slos/", body(window_kind="calendar_month", timezone="Europe/Berlin"), format="json")
    assert response.status_code == 201, response.json()
    made = response.json()
    assert made["service"]["slug"] == "checkout" and made["team"]["slug"] == "payments"
    assert made["target_percent"] == "99.9 %" and made["state"] is None and made["window_kind"] == "calendar_month"

    changed = api.patch(f"/api/v1/slos/{made['id']}/", {"target": "0.995", "min_severity": "SEV1"}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["target"] == 0.995 and changed.json()["min_severity"] == "SEV1"

    assert api.delete(f"/api/v1/slos/{made['id']}/").status_code == 204
    assert not SLO.objects.exists()


def test_others_read_but_do_not_write(world):
    slo = SLOFactory(service=world["checkout"])
    outsider, staff = client_for(world["outsider"]), client_for(UserFactory(is_staff=True))
    assert outsider.get(f"/api/v1/slos/{slo.pk}/").status_code == 200
    assert outsider.post("/api/v1/slos/", body(slug="mine"), format="json").status_code == 403
    assert outsider.patch(f"/api/v1/slos/{slo.pk}/", {"name": "Mine"}, format="json").status_code == 403
    assert outsider.delete(f"/api/v1/slos/{slo.pk}/").status_code == 403
    samples = {"samples": [{"bucket_start": "2026-03-10T11:00:00Z", "good": 1, "total": 1}]}
    assert outsider.post(f"/api/v1/slos/{slo.pk}/samples/", samples, format="json").status_code == 403
    # A member may not move its SLO to a service of another team.
    moved = client_for(world["member"]).patch(f"/api/v1/slos/{slo.pk}/", {"service": "search"}, format="json")
    assert moved.status_code == 403
    assert moved.json()["error"]["message"] == "Only members of the service's team and staff may change its SLOs."
    assert client_for(None).get("/api/v1/slos/").status_code == 401
    assert SLO.objects.get().name == slo.name and SLO.objects.get().service == world["checkout"]
    assert not Sample.objects.exists()
    assert staff.patch(f"/api/v1/slos/{slo.pk}/", {"service": "search"}, format="json").status_code == 200


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"sli_kind": "events_prometheus"}, {"good_query", "total_query"}),
        ({"target": 1.5}, {"target"}),
        ({"target": "٠.٩"}, {"target"}),
        ({"window_days": "٣"}, {"window_days"}),
        ({"window_days": 7.0}, {"window_days"}),
        ({"window_days": True}, {"window_days"}),
        ({"window_days": 91}, {"window_days"}),
        ({"timezone": "Mars/Olympus"}, {"timezone"}),
        ({"bucket_seconds": 7}, {"bucket_seconds"}),
        ({"window_days": 90, "bucket_seconds": 60}, {"bucket_seconds"}),
        ({"good_query": "sum(x)"}, {"good_query"}),
        ({"colour": "red"}, {"colour"}),
        ({"service": "nowhere"}, {"service"}),
    ],
)
def test_bad_slos_are_refused_naming_the_field(world, fields, named):
    response = client_for(world["member"]).post("/api/v1/slos/", body(**fields), format="json")
    assert response.status_code == 400, response.json()
    assert set(response.json()["error"]["fields"]) == named
    assert not SLO.objects.exists()


def test_a_slug_is_unique_within_its_service(world):
    api = client_for(world["member"])
    assert api.post("/api/v1/slos/", body(), format="json").status_code == 201
    again = api.post("/api/v1/slos/", body(name="Other"), format="json")
    assert again.status_code == 400 and set(again.json()["error"]["fields"]) == {"slug"}


def test_deleting_an_slo_resolves_its_firing_burn_alerts(world):
    slo = created(SLOFactory(service=world["checkout"], window_days=7), NOW - dt.timedelta(days=8))
    fill(slo, NOW - dt.timedelta(hours=2), 24, total=1000, bad=500)  # burning 500× too fast
    evaluate(NOW)
    assert BurnAlert.objects.filter(slo=slo, firing=True).exists()
    incident = slo.service.primary_incidents.get()
    with time_machine.travel(NOW + dt.timedelta(minutes=1)):
        assert client_for(world["member"]).delete(f"/api/v1/slos/{slo.pk}/").status_code == 204
    assert not incident.alerts.filter(status="firing").exists()


# --- samples --------------------------------------------------------------------------------------


def push(client, slo, *samples):
    return client.post(f"/api/v1/slos/{slo.pk}/samples/", {"samples": list(samples)}, format="json")


@time_machine.travel(NOW, tick=False)
def test_a_resent_bucket_replaces_never_adds(world):
    slo = created(SLOFactory(service=world["checkout"], window_days=1), NOW - dt.timedelta(days=2))
    api = client_for(world["member"])
    first = push(api, slo, {"bucket_start": "2026-03-10T11:50:00Z", "good": 990, "total": 1000},
                 {"bucket_start": "2026-03-10T12:55:00+01:00", "good": 1000, "total": 1000})  # fmt: skip
    assert first.status_code == 200, first.json()
    assert first.json() == {"received": 2, "created": 2, "replaced": 0}
    again = push(api, slo, {"bucket_start": "2026-03-10T11:50:00Z", "good": 995, "total": 1000})
    assert again.json() == {"received": 1, "created": 0, "replaced": 1}
    assert push(api, slo, {"bucket_start": "2026-03-10T11:50:00Z", "good": "995", "total": "1000"}).status_code == 200
    assert sorted(Sample.objects.values_list("good", "total")) == [(995, 1000), (1000, 1000)]
    evaluate(NOW)
    state = api.get(f"/api/v1/slos/{slo.pk}/").json()["state"]
    assert state["total"] == 2000 and state["bad"] == 5  # not 3,000 events with 15 bad


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("sample", "named"),
    [
        ({"good": -1}, "good"),
        ({"good": 1.5}, "good"),
        ({"total": True}, "total"),
        ({"total": "١٠"}, "total"),
        ({"total": 2**60}, "total"),
        ({"good": 11, "total": 10}, "good"),
        ({"bucket_start": "2026-03-10T11:52:00Z"}, "bucket_start"),  # not on a 5-minute boundary
        ({"bucket_start": "2026-03-10T11:50:00"}, "bucket_start"),  # no offset
        ({"bucket_start": "2026-03-10T12:05:00Z"}, "bucket_start"),  # in the future
        ({"bucket_start": "2025-11-10T12:00:00Z"}, "bucket_start"),  # older than any window
        ({"bucket_start": "２０２６-03-10T11:50:00Z"}, "bucket_start"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_samples_are_refused_naming_the_member_and_nothing_is_stored(world, sample, named):
    slo = SLOFactory(service=world["checkout"])
    good = {"bucket_start": "2026-03-10T11:45:00Z", "good": 5, "total": 10}
    response = push(client_for(world["member"]), slo, good, {**good, "bucket_start": "2026-03-10T11:50:00Z", **sample})
    assert response.status_code == 400, response.json()
    assert list(response.json()["error"]["fields"]) == [f"samples.1.{named}"]
    assert not Sample.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_sample_requests_of_the_wrong_shape(world, settings):
    slo = SLOFactory(service=world["checkout"])
    api = client_for(world["member"])
    one = {"bucket_start": "2026-03-10T11:45:00Z", "good": 5, "total": 10}
    twice = push(api, slo, one, one)
    assert twice.status_code == 400 and list(twice.json()["error"]["fields"]) == ["samples.1.bucket_start"]
    assert push(api, slo).status_code == 400
    extra = api.post(f"/api/v1/slos/{slo.pk}/samples/", {"samples": [one], "slo": 1}, format="json")
    assert extra.status_code == 400
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000_000
    many = [{**one, "bucket_start": f"2026-03-{1 + i // 288:02d}T{i % 288 // 12:02d}:{i % 12 * 5:02d}:00Z"}
            for i in range(10_001)]  # fmt: skip
    too_many = push(api, slo, *many)
    assert too_many.status_code == 400 and "At most 10,000" in too_many.json()["error"]["fields"]["samples"][0]
    assert not Sample.objects.exists()
    prometheus = SLOFactory(
        service=world["checkout"], sli_kind="events_prometheus", good_query="a[$window]", total_query="b[$window]"
    )
    refused = push(api, prometheus, one)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_pushed"
