"""BR-22 (4): every timeline entry, export and post-mortem shows the date with the time, in the viewer's zone with
the zone named, ordered by absolute time; durations are computed on absolute instants."""

import datetime as dt
import re

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.urls import reverse

from incidents.models import TimelineEvent
from tests.factories import IncidentFactory, PostMortemFactory, UserFactory

pytestmark = pytest.mark.django_db

BEFORE_MIDNIGHT = dt.datetime(2024, 5, 1, 23, 50, tzinfo=dt.UTC)
AFTER_MIDNIGHT = dt.datetime(2024, 5, 2, 0, 10, tzinfo=dt.UTC)


@pytest.fixture
def incident():
    incident = IncidentFactory(
        started_at=BEFORE_MIDNIGHT - dt.timedelta(minutes=10), detected_at=BEFORE_MIDNIGHT - dt.timedelta(minutes=5)
    )
    # Written out of order: the later entry first, so only the ordering by time can put them right.
    TimelineEvent.objects.create(incident=incident, kind="note", at=AFTER_MIDNIGHT, message="after midnight")
    TimelineEvent.objects.create(incident=incident, kind="note", at=BEFORE_MIDNIGHT, message="before midnight")
    return incident


def timeline_text(client, incident) -> str:
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    section = page[page.index('id="timeline"') :]
    return re.sub(r"<[^>]+>", " ", section[: section.index("</ol>")])


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        ("Europe/Berlin", "2024-05-02 01:50 CEST", "2024-05-02 02:10 CEST"),
        ("America/New_York", "2024-05-01 19:50 EDT", "2024-05-01 20:10 EDT"),
        ("UTC", "2024-05-01 23:50 UTC", "2024-05-02 00:10 UTC"),
        ("Pacific/Kiritimati", "2024-05-02 13:50 +14", "2024-05-02 14:10 +14"),
    ],
)
def test_timeline_entries_show_date_time_and_zone_in_the_viewers_zone_ordered_by_instant(
    client, incident, zone, before, after
):
    client.force_login(UserFactory(timezone=zone))

    text = timeline_text(client, incident)

    assert before in text and after in text
    assert text.index(before) < text.index(after)
    assert text.index("before midnight") < text.index("after midnight")


def test_every_time_carries_the_absolute_instant_for_machines(client, incident):
    client.force_login(UserFactory(timezone="Europe/Berlin"))
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert '<time datetime="2024-05-01T23:50:00+00:00" title="2024-05-01 23:50:00 UTC (Europe/Berlin)">' in page


def test_an_unknown_zone_name_falls_back_to_utc(client, incident):
    user = UserFactory()
    user.__class__.objects.filter(pk=user.pk).update(timezone="Mars/Olympus_Mons")
    client.force_login(user)
    assert "2024-05-01 23:50 UTC" in timeline_text(client, incident)


def test_mttr_across_the_dst_end_is_three_hours_not_two(client):
    """Detected 00:30 CEST, resolved 02:30 CET on 2024-10-27: 3 h of absolute time."""
    detected = dt.datetime.fromisoformat("2024-10-27T00:30:00+02:00")
    resolved = dt.datetime.fromisoformat("2024-10-27T02:30:00+01:00")
    incident = IncidentFactory(
        resolved=True, started_at=detected, detected_at=detected, acknowledged_at=detected, resolved_at=resolved,
        mitigated_at=resolved,
    )  # fmt: skip
    client.force_login(UserFactory(timezone="Europe/Berlin"))

    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()

    assert incident.mttr_seconds == 10_800
    assert re.search(r"Time to resolve</dt><dd><span [^>]*>3 h</span></dd>", page)
    assert "2024-10-27 00:30 CEST" in page and "2024-10-27 02:30 CET" in page


def test_the_postmortem_page_shows_dates_with_times_in_the_viewers_zone(client):
    postmortem = PostMortemFactory(
        published=True,
        due_at=dt.datetime(2024, 5, 10, 22, 30, tzinfo=dt.UTC),
        published_at=dt.datetime(2024, 5, 3, 8, 0, tzinfo=dt.UTC),
    )
    client.force_login(UserFactory(timezone="Asia/Tokyo"))

    page = client.get(reverse("postmortems:detail", args=[postmortem.pk])).content.decode()

    assert "due <time" in page and "2024-05-11 07:30 JST" in page  # the due date moves to the next day in Tokyo
    assert "2024-05-03 17:00 JST" in page
    assert "Times are shown in Asia/Tokyo" in page


def test_the_export_shows_each_time_with_its_date_and_zone(client, incident):
    postmortem = PostMortemFactory(incident=incident, timeline="- 2024-05-01 23:50:00 UTC — before midnight")
    client.force_login(UserFactory(timezone="Europe/Berlin"))

    text = client.get(reverse("postmortems:export", args=[postmortem.pk])).content.decode()

    for line in [line for line in text.splitlines() if re.search(r"\d\d:\d\d", line)]:
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC", line), line
    assert "- 2024-05-01 23:50:00 UTC — before midnight" in text


def test_the_when_filter_takes_only_the_styles_it_has(settings):
    """``when`` had a "seconds" style no page used, and read any other word as the default: a typo in a template
    rendered quietly. It takes "full" (the default) and "date"; anything else fails where the template is rendered."""
    settings.TIME_ZONE = "UTC"
    at = dt.datetime(2024, 5, 1, 23, 50, 30, tzinfo=dt.UTC)

    def render(style: str) -> str:
        return Template("{% load sredesk_ui %}{{ at|when" + style + " }}").render(Context({"at": at}))

    assert ">2024-05-01 23:50 UTC</time>" in render("")
    assert ">2024-05-01 23:50 UTC</time>" in render(':"full"')
    assert ">2024-05-01</time>" in render(':"date"')
    for style in ("seconds", "dates", ""):
        with pytest.raises(TemplateSyntaxError, match=r"'full' or 'date'"):
            render(f':"{style}"')
