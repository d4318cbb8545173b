"""iCal feeds: the final schedule as events, per person (BR-34 point 6), behind a token that can be revoked."""

import datetime as dt
import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from oncall.models import LayerMember, Override
from oncall.services import calendar_token_issue, calendar_token_revoke
from tests.factories import LayerFactory, MembershipFactory, ScheduleFactory, UserFactory

BERLIN = ZoneInfo("Europe/Berlin")
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def feed(db):
    people = {name: UserFactory(username=name, first_name=name, last_name="") for name in ("U-A", "U-B", "U-C", "U-D")}
    schedule = ScheduleFactory(name="payments-primary, Berlin", slug="payments-primary", timezone="Europe/Berlin")
    layer = LayerFactory(schedule=schedule, anchor_date=dt.date(2026, 3, 2), handoff_time=dt.time(9))
    for position, name in enumerate(("U-A", "U-B", "U-C")):
        LayerMember.objects.create(layer=layer, user=people[name], position=position, active_from=EPOCH)
    Override.objects.create(schedule=schedule, user=people["U-D"], start=dt.datetime(2026, 3, 11, 18, tzinfo=BERLIN),
                            end=dt.datetime(2026, 3, 12, 9, tzinfo=BERLIN))  # fmt: skip
    _, token = calendar_token_issue(schedule_id=schedule.pk, actor=None)
    return schedule, token


def events(body: str) -> list[tuple[str, str, str]]:
    unfolded = body.replace("\r\n ", "")
    return re.findall(r"DTSTART:(\w+)\r\nDTEND:(\w+)\r\nSUMMARY:([^\r]*)", unfolded)


@time_machine.travel(dt.datetime(2026, 3, 10, 12, tzinfo=BERLIN), tick=False)
def test_each_persons_calendar_follows_the_override(client, feed):
    _, token = feed
    url = reverse("oncall:calendar", args=[token])
    ub = client.get(url, {"person": "U-B"})
    assert ub.status_code == 200 and ub["Content-Type"].startswith("text/calendar")
    assert [(start, end) for start, end, _ in events(ub.content.decode())][:2] == [
        ("20260309T080000Z", "20260311T170000Z"),  # U-B until the override ...
        ("20260312T080000Z", "20260316T080000Z"),  # ... and after it: a gap in between
    ]
    ud = events(client.get(url, {"person": "U-D"}).content.decode())
    assert ud == [("20260311T170000Z", "20260312T080000Z", "On call: U-D (payments-primary\\, Berlin)")]
    everyone = client.get(url).content.decode()
    assert everyone.startswith("BEGIN:VCALENDAR\r\n") and everyone.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in everyone.split("\r\n"))
    assert client.get(url, {"person": "nobody"}).status_code == 404


def test_a_revoked_or_replaced_token_is_refused(client, feed):
    schedule, token = feed
    _, newer = calendar_token_issue(schedule_id=schedule.pk, actor=None)
    assert client.get(reverse("oncall:calendar", args=[token])).status_code == 404
    assert client.get(reverse("oncall:calendar", args=[newer])).status_code == 200
    calendar_token_revoke(schedule_id=schedule.pk, actor=None)
    assert client.get(reverse("oncall:calendar", args=[newer])).status_code == 404


def test_the_team_issues_the_link_on_the_schedule_page(client, feed):
    schedule, _ = feed
    page = reverse("oncall:schedule", args=[schedule.slug])
    client.force_login(UserFactory())
    assert client.post(page, {"calendar": "issue"}).status_code == 403
    member = UserFactory()
    MembershipFactory(team=schedule.team, user=member)
    client.force_login(member)
    shown = client.post(page, {"calendar": "issue"}, follow=True).content.decode()
    link = re.search(r"(http://\S+?\.ics)", shown)[1]
    assert client.get(urlsplit(link).path).status_code == 200


@time_machine.travel(dt.datetime(2026, 3, 10, 12, tzinfo=BERLIN), tick=False)
def test_a_persons_own_feed_holds_their_shifts_on_every_schedule_until_they_stop_it(client, feed):
    from oncall.models import PersonCalendar
    from oncall.services import person_calendar_issue
    from sredesk.exceptions import PermissionDenied

    schedule, _ = feed
    ud = schedule.overrides.get().user
    other = ScheduleFactory(name="search-secondary", slug="search-secondary", timezone="America/Chicago")
    chicago = ZoneInfo("America/Chicago")
    Override.objects.create(schedule=other, user=ud, start=dt.datetime(2026, 3, 20, 9, tzinfo=chicago),
                            end=dt.datetime(2026, 3, 20, 17, tzinfo=chicago))  # fmt: skip
    client.force_login(ud)
    shown = client.post(reverse("oncall:person_calendar_link"), {"calendar": "issue"}, follow=True).content.decode()
    link = urlsplit(re.search(r"(http://\S+?\.ics)", shown)[1]).path
    assert "/calendars/people/" in link
    body = client.get(link)
    assert body.status_code == 200 and body["Content-Type"].startswith("text/calendar")
    assert events(body.content.decode()) == [
        ("20260311T170000Z", "20260312T080000Z", "On call: U-D (payments-primary\\, Berlin)"),
        ("20260320T140000Z", "20260320T220000Z", "On call: U-D (search-secondary)"),
    ]
    with pytest.raises(PermissionDenied):  # nobody else issues (and so reads) it
        person_calendar_issue(user=ud, actor=UserFactory())
    client.post(reverse("oncall:person_calendar_link"), {"calendar": "revoke"})
    assert client.get(link).status_code == 404 and not PersonCalendar.objects.exists()
