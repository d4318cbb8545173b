"""Late alerts are not backdated (issue 15 item 4): started at the alert's startsAt, detected when received.

The input is a real Alertmanager payload replayed today, as a backlog or a
restarted sredesk would deliver it: its startsAt is 2018-03-07 (UTC), so a
detection time taken from it made the overview read "waiting 3194 d 4 h".
"""

import datetime as dt
import re

import pytest
from django.utils import timezone

from incidents.models import Incident
from ownership.models import Membership
from tests.api.clients import client_for
from tests.factories import MembershipFactory, UserFactory
from tests.incidents.payloads import am_alert, am_payload, utc

pytestmark = pytest.mark.django_db

OLD_PAYLOAD = "firing-old-style-no-alert-status-tz-offset.json"
OLD_STARTS_AT = utc(2018, 3, 7, 11, 33, 21, 873077)  # "2018-03-07T06:33:21.873077559-05:00"


@pytest.fixture
def member(team):
    return MembershipFactory(team=team, user=UserFactory(username="oncall-member"), role=Membership.Role.MEMBER).user


def test_a_replayed_payload_is_detected_when_received(hook, realdata_dir, client, member):
    before = timezone.now()
    assert hook.post((realdata_dir / "alertmanager" / OLD_PAYLOAD).read_bytes()).status_code == 200
    after = timezone.now()

    incident = Incident.objects.get()
    assert incident.started_at == OLD_STARTS_AT
    assert before <= incident.detected_at <= after
    assert incident.time_to_detect_seconds > 8 * 365 * 86400

    client.force_login(member)
    overview = client.get("/").content.decode()
    waiting = re.search(r"waiting ([^<·]+)", overview.split('id="needs-ack"')[1]).group(1).strip()
    assert re.fullmatch(r"\d+ s", waiting), waiting  # seconds, not "3194 d 4 h"

    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    started = re.search(r'id="started-at">(.*?)</dd>', page).group(1)
    detected = re.sub(r"<[^>]+>", "", re.search(r'id="detected-at">(.*?)</dd>', page).group(1))  # its text
    assert "2018-03-07" in started and "the alert's start" in started
    assert timezone.localtime(incident.detected_at).strftime("%Y-%m-%d") in detected
    assert re.search(r"sredesk received the alert, \d+ d( \d+ h)? after it started", detected), detected

    api = client_for(member)
    body = api.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert body["started_at"] == "2018-03-07T11:33:21.873077Z"
    assert dt.datetime.fromisoformat(body["detected_at"]) == incident.detected_at
    assert body["time_to_detect_seconds"] == incident.time_to_detect_seconds
    listed = api.get("/api/v1/incidents/").json()["results"][0]
    assert (listed["started_at"], listed["detected_at"]) == (body["started_at"], body["detected_at"])
    assert listed["time_to_detect_seconds"] == body["time_to_detect_seconds"]

    acknowledged = api.post(f"/api/v1/incidents/{incident.pk}/acknowledge/").json()
    assert 0 <= acknowledged["mtta_seconds"] < 60  # the time people could have known, not eight years


def test_a_late_resolution_is_not_recorded_before_detection(hook):
    """The alert ended before sredesk heard of it: resolved at detection (the order holds), its endsAt kept."""
    hook.post(am_payload(am_alert("aaaa000000000001")))
    incident = Incident.objects.get()
    hook.post(am_payload(am_alert("aaaa000000000001", "resolved", ends="2024-05-01T10:05:00Z")))

    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.started_at == utc(2024, 5, 1, 10) and incident.resolved_at == incident.detected_at
    assert incident.timeline.get(message__endswith="→ Resolved").at == incident.detected_at
    assert incident.timeline.get(message__startswith="Alert resolved").at == utc(2024, 5, 1, 10, 5)
    assert incident.alerts.get().ends_at == utc(2024, 5, 1, 10, 5)


def test_a_live_alert_is_detected_at_its_receipt(hook):
    hook.post(am_payload(am_alert("aaaa000000000001")), received=utc(2024, 5, 1, 10, 0, 45))
    incident = Incident.objects.get()
    assert (incident.started_at, incident.detected_at) == (utc(2024, 5, 1, 10), utc(2024, 5, 1, 10, 0, 45))
    assert incident.time_to_detect_seconds == 45
