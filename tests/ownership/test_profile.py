"""People set themselves up: /me/profile/ and /api/v1/me/ (issue 15 item 7).

Before, time zone, working hours, Slack id and email could be set only in the
admin, and the tooltip that said "set it in your profile" pointed nowhere.
"""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from ownership.models import User
from postmortems import reminders
from postmortems.models import ReminderDelivery
from tests.factories import MembershipFactory, PostMortemFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

GOOD = {
    "first_name": "Ana",
    "last_name": "Silva",
    "email": "ana@example.com",
    "timezone": "America/Sao_Paulo",
    "work_start": "08:30",
    "work_end": "16:30",
    "working_days": ["1", "2", "3", "4", "5"],
    "slack_user_id": "U024BE7LH",
}


@pytest.fixture
def ana(db):
    return UserFactory(username="ana", timezone="UTC", slack_user_id="", email="")


def test_every_page_links_the_profile_the_tooltip_promises(client, ana):
    client.force_login(ana)
    page = client.get("/me/").content.decode()

    assert 'href="/me/profile/"' in page
    assert client.get("/me/profile/").status_code == 200


def test_saving_the_profile_form_sets_everything_and_times_follow_the_zone(client, ana):
    client.force_login(ana)

    response = client.post("/me/profile/", GOOD)

    assert response.status_code == 302
    ana.refresh_from_db()
    assert (ana.timezone, ana.work_start, ana.work_end) == ("America/Sao_Paulo", dt.time(8, 30), dt.time(16, 30))
    assert (ana.working_days, ana.slack_user_id, ana.email) == ("12345", "U024BE7LH", "ana@example.com")
    page = client.get("/me/profile/").content.decode()
    assert "Profile saved." in page
    assert "Mon–Fri 08:30–16:30 (America/Sao_Paulo)" in page
    assert "Ana Silva · America/Sao_Paulo" in page


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("timezone", "CEST", "not an IANA time zone name"),
        ("timezone", "Europe/Berl\x00in", "Null characters"),
        ("work_start", "９:00", "ASCII digits"),
        ("work_end", "24:00", "00:00 to 23:59"),
        ("slack_user_id", "u024be7lh", "starts with U or W"),
        ("slack_user_id", "@ana", "starts with U or W"),
        ("email", "ana at example", "email address"),
        ("last_name", "x" * 151, "at most 150 characters"),
    ],
)
def test_a_bad_value_is_refused_on_its_field_and_nothing_is_stored(client, ana, field, value, says):
    client.force_login(ana)

    response = client.post("/me/profile/", {**GOOD, field: value})

    assert response.status_code == 400
    assert says in " ".join(response.context["form"].errors[field])
    ana.refresh_from_db()
    assert ana.timezone == "UTC" and ana.first_name != "Ana"  # not even the good fields


def test_the_page_says_how_reminders_reach_you_and_when(client, ana, settings):
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    team = TeamFactory(slack_channel="#payments")
    MembershipFactory(team=team, user=ana)
    User.objects.filter(pk=ana.pk).update(work_start=dt.time(9), work_end=dt.time(17), working_days="12345")
    client.force_login(ana)

    with time_machine.travel(dt.datetime(2024, 5, 4, 12, tzinfo=dt.UTC), tick=False):  # a Saturday
        page = client.get("/me/profile/").content.decode()

    assert "<code>user:ana</code>" in page
    assert "no Slack member id, so reminders go to your team&#x27;s Slack channel" in page
    assert "<code>#payments</code>" in page
    assert "no mail server (EMAIL_URL)" in page
    assert "waits until" in page and "2024-05-06 09:00" in page  # Monday morning


def test_the_api_reads_and_patches_your_own_profile_only(client, ana):
    client.force_login(ana)

    before = client.get("/api/v1/me/").json()
    patched = client.patch(
        "/api/v1/me/", {"timezone": "Asia/Kolkata", "work_start": "10:00"}, content_type="application/json"
    )
    escalate = client.patch("/api/v1/me/", {"is_staff": True}, content_type="application/json")
    bad = client.patch(
        "/api/v1/me/", {"slack_user_id": "nope", "working_days": "1189"}, content_type="application/json"
    )
    surrogate = client.patch("/api/v1/me/", '{"first_name": "Ana\\ud800"}', content_type="application/json")
    nul = client.patch("/api/v1/me/", '{"timezone": "Asia/Kolkata\\u0000"}', content_type="application/json")

    assert before["username"] == "ana" and before["reachability"]["channels"] == [
        {"channel": "outbox", "address": "user:ana"}
    ]
    assert patched.status_code == 200
    assert (patched.json()["timezone"], patched.json()["work_start"]) == ("Asia/Kolkata", "10:00")
    assert escalate.status_code == 400 and "is_staff" in escalate.json()["error"]["fields"]
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"slack_user_id", "working_days"}
    assert surrogate.status_code == 400 and "urrogate" in surrogate.json()["error"]["fields"]["first_name"][0]
    assert nul.status_code == 400 and "timezone" in nul.json()["error"]["fields"]
    ana.refresh_from_db()
    assert not ana.is_staff and ana.slack_user_id == "" and ana.timezone == "Asia/Kolkata"
    client.logout()
    assert client.get("/api/v1/me/").status_code in (401, 403)


def test_the_profile_shows_the_channels_reminders_actually_use(
    client, settings, slack_on, django_capture_on_commit_callbacks
):
    """One rule: what /api/v1/me/ says is where the reminder sweep sends a reminder to that person."""
    settings.SREDESK_EMAIL_ENABLED = True
    owner = UserFactory(username="lee", slack_user_id="W0LEE1234", email="lee@example.com", working_days="")
    PostMortemFactory(published=True, owner=owner)
    client.force_login(owner)
    said = {(c["channel"], c["address"]) for c in client.get("/api/v1/me/").json()["reachability"]["channels"]}

    with time_machine.travel(timezone.now(), tick=False), django_capture_on_commit_callbacks(execute=False):
        reminders.reminders_sweep()

    used = set(ReminderDelivery.objects.filter(recipient_user=owner).values_list("channel", "address"))
    assert said == used == {("outbox", "user:lee"), ("slack", "W0LEE1234"), ("email", "lee@example.com")}


def test_the_admin_door_refuses_the_same_slack_id_shapes(ana):
    """The shape lives on the model field, so the admin's user form refuses what the profile refuses."""
    from django.core.exceptions import ValidationError

    ana.slack_user_id = "slack.com/team/ana"
    with pytest.raises(ValidationError) as refused:
        ana.full_clean()
    assert "starts with U or W" in refused.value.message_dict["slack_user_id"][0]


T = dt.datetime(2026, 12, 5, 12, 0, 0, tzinfo=dt.UTC)


def test_a_second_test_page_within_the_minute_says_nothing_was_sent_and_when_the_next_is_allowed(client, ana):
    """Before, the throttle sent nothing and the page still said "Test page sent"."""
    client.force_login(ana)
    with time_machine.travel(T, tick=False):
        first = client.post("/me/profile/test-page/", follow=True).content.decode()
    assert "Test page sent" in first
    with time_machine.travel(T + dt.timedelta(seconds=15), tick=False):
        second = client.post("/me/profile/test-page/", follow=True).content.decode()
    assert "Test page sent" not in second
    assert "Nothing was sent: one test page a minute. The next is allowed in 45 s." in second
    with time_machine.travel(T + dt.timedelta(seconds=61), tick=False):
        assert "Test page sent" in client.post("/me/profile/test-page/", follow=True).content.decode()


def test_the_api_answers_a_second_test_page_within_the_minute_with_429_and_retry_after(client, ana):
    client.force_login(ana)
    with time_machine.travel(T, tick=False):
        assert client.post("/api/v1/me/test-page/").status_code == 202
    with time_machine.travel(T + dt.timedelta(seconds=15), tick=False):
        answer = client.post("/api/v1/me/test-page/")
    assert answer.status_code == 429 and answer["Retry-After"] == "45"
    error = answer.json()["error"]
    assert error["code"] == "too_soon"
    assert error["message"].startswith("No test page was sent") and "12:01:00 UTC" in error["message"]
