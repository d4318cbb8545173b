"""What one incident used of each SLO's error budget (``slos.budget``), against hand-computed cases.

Every figure asserted here was worked out by hand in the comment beside it.
"""

import datetime as dt

import pytest
from django.urls import reverse

from postmortems.export import postmortem_markdown
from slos.budget import incident_budget
from slos.models import SLO, Sample
from tests.api.clients import client_for
from tests.factories import IncidentFactory, PostMortemFactory, ServiceFactory, SLOFactory, UserFactory
from tests.slos.helpers import fill

UTC = dt.UTC
LONG_AGO = dt.datetime(2026, 1, 1, tzinfo=UTC)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def incident(service, start: str, end: str | None, *, severity: int = 1, **fields):
    started = at(start)
    return IncidentFactory(
        primary_service=service,
        severity=severity,
        started_at=started,
        detected_at=started,
        mitigated_at=at(end) if end else None,
        status="mitigated" if end else "triggered",
        **fields,
    )


def time_slo(service, **fields) -> SLO:
    fields = {"sli_kind": SLO.SLIKind.INCIDENT_TIME, "measured_since": LONG_AGO, **fields}
    return SLOFactory(service=service, **fields)


@pytest.mark.django_db
def test_a_calendar_month_in_berlin_gives_the_months_budget():
    service = ServiceFactory(slug="checkout")
    time_slo(service, name="Checkout up", window_kind="calendar_month", timezone="Europe/Berlin")
    # November 2026 in Berlin (CET, UTC+1): 2026-10-31T23:00Z to 2026-11-30T23:00Z, 30 days = 2,592,000 s.
    # Budget 0.1 % of it: 2,592 s (43 m 12 s). 16 minutes of impact = 960 s = 37.04 % of it.
    inc = incident(service, "2026-11-10T10:00:00", "2026-11-10T10:16:00")
    (use,) = incident_budget(inc, now=at("2026-12-05T00:00:00"))
    (part,) = use.windows
    assert (part.window_start, part.window_end) == (at("2026-10-31T23:00:00"), at("2026-11-30T23:00:00"))
    assert part.used == 960 and part.budget == pytest.approx(2592) and part.fraction == pytest.approx(0.37037, 1e-4)
    assert part.coverage == 1
    assert use.sentence == (
        "this incident used 37 % of the month's budget (November 2026 in Europe/Berlin: 16 m of 43 m)"
    )


@pytest.mark.django_db
def test_an_incident_across_midnight_on_the_first_in_the_zone_uses_two_months_budgets():
    service = ServiceFactory()
    time_slo(service, window_kind="calendar_month", timezone="Europe/Berlin")
    # 22:30Z-23:30Z on 30 November is 23:30-00:30 in Berlin: UTC would say one month, Berlin says two.
    # November (2,592 s of budget): 22:30Z-23:00Z = 1,800 s = 69.44 %.
    # December in Berlin: 2026-11-30T23:00Z to 2026-12-31T23:00Z, 31 days = 2,678,400 s, budget 2,678.4 s:
    # 23:00Z-23:30Z = 1,800 s = 67.20 %.
    inc = incident(service, "2026-11-30T22:30:00", "2026-11-30T23:30:00")
    (use,) = incident_budget(inc, now=at("2027-01-05T00:00:00"))
    november, december = use.windows
    assert november.used == 1800 and november.fraction == pytest.approx(1800 / 2592)
    assert (december.window_start, december.window_end) == (at("2026-11-30T23:00:00"), at("2026-12-31T23:00:00"))
    assert december.used == 1800 and december.budget == pytest.approx(2678.4)
    assert december.fraction == pytest.approx(0.67204, 1e-4)
    assert use.sentence == (
        "this incident used 69 % of the budget of November 2026 in Europe/Berlin (30 m of 43 m) "
        "and 67 % of the budget of December 2026 in Europe/Berlin (30 m of 44 m)"
    )


@pytest.mark.django_db
def test_a_month_with_a_dst_change_has_its_own_length_as_budget():
    service = ServiceFactory()
    time_slo(service, window_kind="calendar_month", timezone="Europe/Berlin", target="0.99")
    # October 2026 in Berlin lasts 745 h (the autumn change adds one): 2,682,000 s, 1 % of it 26,820 s.
    # 2 h 14 m 6 s of impact = 8,046 s = 30.0 %.
    inc = incident(service, "2026-10-20T08:00:00", "2026-10-20T10:14:06")
    (use,) = incident_budget(inc, now=at("2026-11-05T00:00:00"))
    (part,) = use.windows
    assert part.budget == pytest.approx(26820)
    assert part.fraction == pytest.approx(0.3)


@pytest.mark.django_db
def test_a_time_slo_counts_only_incidents_at_its_severity_or_worse():
    service = ServiceFactory()
    time_slo(service, min_severity=2)
    inc = incident(service, "2026-11-10T10:00:00", "2026-11-10T11:00:00", severity=3)
    (use,) = incident_budget(inc, now=at("2026-11-11T00:00:00"))
    assert not use.counted and use.windows[0].used == 0
    assert use.sentence.startswith("not counted: this SLO counts incidents of SEV2 or worse")


@pytest.mark.django_db
def test_time_before_the_slo_measured_is_missing_not_good():
    service = ServiceFactory()
    # Rolling 30 days: 2,592,000 s, budget 0.1 % of it = 2,592 s; but measuring began at 10:30, 30 minutes into
    # the impact: used 10:30-11:00 = 1,800 s (69.4 %), coverage 1,800 / 3,600 = 50 %; the first half is unknown.
    time_slo(service, window_days=30, measured_since=at("2026-11-10T10:30:00"))
    inc = incident(service, "2026-11-10T10:00:00", "2026-11-10T11:00:00")
    (use,) = incident_budget(inc, now=at("2026-11-11T00:00:00"))
    (part,) = use.windows
    assert part.used == 1800 and part.coverage == 0.5 and part.budget == pytest.approx(2592)
    assert "at least 69 %" in use.sentence and "50 % of that impact has no SLI data" in use.sentence


@pytest.mark.django_db
def test_an_events_slo_counts_the_bad_events_of_the_impact_buckets():
    service = ServiceFactory()
    slo = SLOFactory(service=service, window_days=30, bucket_seconds=300)
    # Impact 10:02-10:30: the buckets starting 10:00 ... 10:25, six of them. The rolling window is the 30 days
    # to 10:30: 8,640 five-minute buckets of 1,000 events = 8,640,000 events, budget 0.1 % = 8,640 events.
    # Each impact bucket has 360 bad: 2,160 bad = 25 % of the budget.
    end = at("2026-11-10T10:30:00")
    fill(slo, end - dt.timedelta(days=30), 8640, total=1000)
    Sample.objects.filter(slo=slo, bucket_start__gte=at("2026-11-10T10:00:00")).update(good=640)
    inc = incident(service, "2026-11-10T10:02:00", "2026-11-10T10:30:00")
    (use,) = incident_budget(inc, now=at("2026-11-10T12:00:00"))
    (part,) = use.windows
    assert (part.used, part.budget, part.coverage) == (2160, pytest.approx(8640), 1)
    assert use.sentence == "this incident used 25 % of the 30-day window's budget (2,160 events of 8,640 events)"


@pytest.mark.django_db
def test_event_counts_read_as_whole_numbers_even_when_the_budget_is_a_fraction():
    # The walk: "176 events of 24,305.0 events". 8,640 buckets of 1,001 events = 8,648,640 events: budget 0.1 %
    # = 8,648.64 events, said "8,649 events"; 6 impact buckets of 361 bad = 2,166 bad = 25.04 % of it.
    service = ServiceFactory()
    slo = SLOFactory(service=service, window_days=30, bucket_seconds=300)
    end = at("2026-11-10T10:30:00")
    fill(slo, end - dt.timedelta(days=30), 8640, total=1001)
    Sample.objects.filter(slo=slo, bucket_start__gte=at("2026-11-10T10:00:00")).update(good=640)
    inc = incident(service, "2026-11-10T10:02:00", "2026-11-10T10:30:00")
    (use,) = incident_budget(inc, now=at("2026-11-10T12:00:00"))
    assert use.windows[0].budget == pytest.approx(8648.64)
    assert use.sentence == "this incident used 25 % of the 30-day window's budget (2,166 events of 8,649 events)"


@pytest.mark.django_db
def test_missing_impact_buckets_are_never_good():
    service = ServiceFactory()
    slo = SLOFactory(service=service, window_days=30, bucket_seconds=300)
    end = at("2026-11-10T10:30:00")
    fill(slo, end - dt.timedelta(days=30), 8640, total=1000)
    Sample.objects.filter(slo=slo, bucket_start__gte=at("2026-11-10T10:00:00")).update(good=640)
    # Two of the six impact buckets never arrived: 4 x 360 = 1,440 bad seen, coverage 4/6.
    # The window holds 8,638,000 events: budget 8,638; 1,440 / 8,638 = 16.67 %, "at least" it.
    Sample.objects.filter(slo=slo, bucket_start__in=[at("2026-11-10T10:10:00"), at("2026-11-10T10:15:00")]).delete()
    inc = incident(service, "2026-11-10T10:02:00", "2026-11-10T10:30:00")
    (use,) = incident_budget(inc, now=at("2026-11-10T12:00:00"))
    (part,) = use.windows
    assert part.used == 1440 and part.coverage == pytest.approx(4 / 6)
    assert part.fraction == pytest.approx(1440 / 8638)
    assert use.sentence.startswith("this incident used at least 17 % of the 30-day window's budget")
    assert "33 % of that impact has no SLI data, which is not counted as good" in use.sentence


@pytest.mark.django_db
def test_an_events_slo_without_data_says_the_use_is_unknown_not_zero():
    service = ServiceFactory()
    SLOFactory(service=service)
    inc = incident(service, "2026-11-10T10:02:00", "2026-11-10T10:30:00")
    (use,) = incident_budget(inc, now=at("2026-11-10T12:00:00"))
    (part,) = use.windows
    assert part.used is None and part.fraction is None and part.coverage == 0
    assert "an unknown part of the 30-day window's budget (no SLI data during the impact)" in use.sentence


@pytest.mark.django_db
def test_an_ongoing_incident_counts_to_now_and_affected_services_count_too():
    primary, other = ServiceFactory(), ServiceFactory(slug="payments")
    time_slo(other, name="Payments up", window_days=7)
    inc = incident(primary, "2026-11-10T10:00:00", None)
    inc.services.add(other)
    # 7 days: 604,800 s, budget 604.8 s; 10:00-10:05 is 300 s = 49.6 %.
    (use,) = incident_budget(inc, now=at("2026-11-10T10:05:00"))
    assert use.slo.name == "Payments up" and use.ongoing
    assert use.windows[0].used == 300
    assert use.sentence.startswith("this incident has used so far 50 % of the 7-day window's budget")


@pytest.mark.django_db
def test_no_slo_and_paused_slos_give_nothing():
    service = ServiceFactory()
    time_slo(service, paused=True)
    inc = incident(service, "2026-11-10T10:00:00", "2026-11-10T11:00:00")
    assert incident_budget(inc) == []


# --- where people see it: the incident page and API, the post-mortem's impact section (page, Markdown, API) ------


@pytest.fixture
def november_incident(db):
    """A SEV1 on checkout with 16 minutes of impact in November 2026 (37 % of the month's budget, as above)."""
    service = ServiceFactory(slug="checkout")
    time_slo(service, name="Checkout up", window_kind="calendar_month", timezone="Europe/Berlin")
    inc = incident(service, "2026-11-10T10:00:00", "2026-11-10T10:16:00")
    return PostMortemFactory(incident=inc)


SENTENCE = "this incident used 37 % of the month's budget (November 2026 in Europe/Berlin: 16 m of 43 m)"


def test_the_incident_page_and_api_show_the_budget_used(client, november_incident):
    user = UserFactory()
    client.force_login(user)
    inc = november_incident.incident
    page = client.get(reverse("incidents:detail", args=[inc.pk])).content.decode()
    assert 'id="error-budget"' in page and "Checkout up" in page
    assert "T" + SENTENCE[1:] in page.replace("&#x27;", "'")
    body = client_for(user).get(f"/api/v1/incidents/{inc.pk}/").json()
    (use,) = body["error_budget"]
    assert (use["slo"]["name"], use["slo"]["service"], use["unit"], use["counted"]) == (
        "Checkout up",
        "checkout",
        "seconds",
        True,
    )
    (part,) = use["windows"]
    assert (part["used"], part["budget"], part["coverage"]) == (960.0, pytest.approx(2592), 1.0)
    assert part["fraction"] == pytest.approx(960 / 2592)
    assert part["window_start"] == "2026-10-31T23:00:00Z" and use["sentence"] == SENTENCE


def test_the_postmortems_impact_section_shows_the_budget_used(client, november_incident):
    user = UserFactory()
    client.force_login(user)
    pm = november_incident
    page = client.get(reverse("postmortems:detail", args=[pm.pk])).content.decode().replace("&#x27;", "'")
    impact = page[page.index("<h2>Impact</h2>") : page.index("<h2>Trigger</h2>")]
    assert 'id="impact-budget"' in impact and f"Checkout up</a> (checkout): {SENTENCE}." in impact
    text = postmortem_markdown(pm)
    section = text[text.index("## Impact") : text.index("## Trigger")]
    assert f"- Checkout up (checkout): {SENTENCE}." in section
    body = client_for(user).get(f"/api/v1/postmortems/{pm.pk}/").json()
    assert [use["sentence"] for use in body["error_budget"]] == [SENTENCE]


def test_an_incident_without_slos_shows_no_budget(client, db):
    user = UserFactory()
    client.force_login(user)
    pm = PostMortemFactory()
    assert 'id="error-budget"' not in client.get(reverse("incidents:detail", args=[pm.incident.pk])).content.decode()
    assert "Error budget" not in postmortem_markdown(pm)
    assert client_for(user).get(f"/api/v1/postmortems/{pm.pk}/").json()["error_budget"] == []
