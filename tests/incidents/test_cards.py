"""An incident's Slack card (``incidents.cards``): one message per incident and conversation, its ``ts`` stored,
edited in place (``chat.update``) as the incident moves, through the real slack_sdk client and a local Slack."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from incidents import cards, effects, services, update
from incidents.models import Incident, IncidentCard, Source
from incidents.selectors import incidents_needing_acknowledgement
from notifications import base as notify_base
from notifications.problems import open_slack_problems
from ownership.models import Responsibility
from tests.factories import IncidentFactory, MembershipFactory, ServiceFactory, TeamFactory, UserFactory
from tests.fakes import FakeSlack

CHANNEL, PAGED = "C0CARDS01", "U0PAGED01"


@pytest.fixture
def fake_slack():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def real_slack(settings, fake_slack):
    """A bot token, and the "slack" channel through the real SlackBackend against the fake Slack."""
    settings.SLACK_BOT_TOKEN = "xoxb-test-cards"
    settings.SREDESK_SLACK_API_URL = fake_slack.url
    settings.SREDESK_SLACK_TIMEOUT_SECONDS = 2
    settings.SREDESK_NOTIFY_BACKENDS = {**settings.SREDESK_NOTIFY_BACKENDS, "slack": "notifications.slack.SlackBackend"}
    notify_base._backend.cache_clear()
    yield fake_slack
    notify_base._backend.cache_clear()


@pytest.fixture
def team_service(db):
    team = TeamFactory(name="Payments", slack_channel=CHANNEL)
    service = ServiceFactory(name="checkout", team=team)
    pager = UserFactory(username="pager", slack_user_id=PAGED)
    Responsibility.objects.create(service=service, role=Responsibility.Role.PAGED, user=pager)
    member = MembershipFactory(team=team, user=UserFactory(username="ana", first_name="Ana", last_name="Ops")).user
    return team, service, member


def buttons(body: dict) -> list[str]:
    [actions] = [block for block in body["blocks"] if block["type"] == "actions"]
    return [element["text"]["text"] for element in actions["elements"]]


def status(body: dict) -> str:
    return body["text"].splitlines()[1]


def test_one_card_per_conversation_edited_in_place_as_the_incident_moves(
    real_slack, team_service, django_capture_on_commit_callbacks
):
    _, service, ana = team_service
    fake = real_slack
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_declare(
            title="Checkout 5xx", severity=2, actor=ana, source=Source.WEB, primary_service=service
        )
    posts = fake.ok_posts()
    assert sorted(p.channel for p in posts) == [CHANNEL, PAGED]
    for post in posts:
        assert post.text.startswith(f"{incident.public_id} (SEV2) Checkout 5xx\nTriggered")
        assert buttons(post.body) == ["Acknowledge", "Resolve", "Add note", "Open"]
        [resolve] = [e for e in post.body["blocks"][1]["elements"] if e["action_id"] == cards.RESOLVE]
        assert resolve["confirm"]["text"]["text"] == f"Resolve {incident.public_id} now?"  # asked before it counts
    card_rows = {c.address: c for c in IncidentCard.objects.filter(incident=incident)}
    assert card_rows[PAGED].conversation == "D" + PAGED[1:]  # chat.update needs the DM's id, not the person's
    assert {c.ts for c in card_rows.values()} == {p.reply["ts"] for p in posts}

    moves = [
        lambda: services.incident_acknowledge(incident_id=incident.pk, actor=ana, source=Source.WEB),
        lambda: update.incident_set_severity(incident_id=incident.pk, severity=1, actor=ana, source=Source.WEB),
        lambda: update.incident_assign_role(
            incident_id=incident.pk, role="commander", user=ana, actor=ana, source=Source.WEB
        ),
        lambda: services.incident_mitigate(incident_id=incident.pk, actor=ana, source=Source.WEB),
        lambda: services.incident_resolve(incident_id=incident.pk, actor=ana, source=Source.WEB),
        lambda: services.incident_reopen(incident_id=incident.pk, actor=ana, source=Source.WEB),
    ]
    for move in moves:
        with django_capture_on_commit_callbacks(execute=True):
            move()

    assert len(fake.posts()) == 2, "every move edits the cards; none posts another message"
    edits = fake.calls("chat.update")
    assert len(edits) == 2 * len(moves)
    assert {(e.body["channel"], e.body["ts"]) for e in edits} == {(c.conversation, c.ts) for c in card_rows.values()}
    shown = [fake.message(c.conversation, c.ts) for c in card_rows.values()]
    for body in shown:  # re-opened: triggered again, SEV1, Ana commanding
        assert body["text"].startswith(f"{incident.public_id} (SEV1) Checkout 5xx\nTriggered")
        assert status(body).startswith("Triggered again: acknowledged by Ana Ops at ")
        assert status(body).endswith(", then re-opened; nobody has acknowledged it since")
        assert "Commander: Ana Ops" in body["text"]
        assert buttons(body) == ["Acknowledge", "Resolve", "Add note", "Open"]
    ack_edit = edits[0].body
    assert status(ack_edit).startswith("Acknowledged by Ana Ops at ")
    assert buttons(ack_edit) == ["Resolve", "Add note", "Open"]
    resolved = [e.body for e in edits if status(e.body).startswith("Resolved at")]
    assert len(resolved) == 2 and all(buttons(b) == ["Add note", "Open"] for b in resolved)
    assert IncidentCard.objects.filter(incident=incident).count() == 2
    assert effects.side_effects_pending_counts()[effects.CARDS] == 0


def test_a_note_does_not_edit_the_card_and_an_unchanged_card_is_left_alone(
    real_slack, team_service, django_capture_on_commit_callbacks
):
    _, service, ana = team_service
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_declare(
            title="Disk", severity=3, actor=ana, source=Source.WEB, primary_service=service
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_add_note(incident_id=incident.pk, text="looking", actor=ana, source=Source.WEB)
    assert cards.cards_sync(incident.pk) is False  # a redelivered task: nothing to do
    assert not real_slack.calls("chat.update") and len(real_slack.posts()) == 2


def test_rate_limit_waits_retry_after_then_the_sweep_edits_once(
    real_slack, team_service, django_capture_on_commit_callbacks
):
    _, service, ana = team_service
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_declare(
            title="Disk", severity=3, actor=ana, source=Source.WEB, primary_service=service
        )
    real_slack.rate_limit_next(retry_after=120, times=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_acknowledge(incident_id=incident.pk, actor=ana, source=Source.WEB)

    assert len(real_slack.calls("chat.update")) == 2 and all(r.status == 429 for r in real_slack.calls("chat.update"))
    stale = IncidentCard.objects.filter(incident=incident)
    assert all(c.next_attempt_at >= timezone.now() + timedelta(seconds=110) for c in stale)
    assert "rate limited" in stale.first().last_error
    assert cards.cards_pending(timezone.now(), 10) == []  # not before Retry-After
    later = timezone.now() + timedelta(seconds=121)
    assert cards.cards_pending(later, 10) == [incident.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert effects.side_effects_recover(now=later) == 1
    ok = [r for r in real_slack.calls("chat.update") if r.status == 200]
    assert len(ok) == 2 and all(status(r.body).startswith("Acknowledged") for r in ok)
    assert effects.side_effects_recover(now=later) == 0


def test_a_refusal_retrying_cannot_fix_stops_the_edits_until_announced_again(
    real_slack, team_service, django_capture_on_commit_callbacks
):
    _, service, ana = team_service
    real_slack.reply_next(body={"ok": False, "error": "channel_not_found"}, method="chat.postMessage")
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_declare(
            title="Disk", severity=3, actor=ana, source=Source.WEB, primary_service=service
        )
    refused = IncidentCard.objects.get(incident=incident, failed_at__isnull=False)
    assert "channel_not_found" in refused.last_error and not refused.ts
    assert cards.cards_pending(timezone.now() + timedelta(days=1), 10) == []
    with django_capture_on_commit_callbacks(execute=True):  # an escalation announces it again: tried afresh
        update.incident_set_severity(incident_id=incident.pk, severity=1, actor=ana, source=Source.WEB)
    refused.refresh_from_db()
    assert refused.ts and refused.failed_at is None


def test_slack_off_owes_no_card(team_service, django_capture_on_commit_callbacks, memory_notifier):
    _, service, ana = team_service
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_declare(title="Disk", severity=3, actor=ana, source=Source.WEB, primary_service=service)
    assert not IncidentCard.objects.exists() and not memory_notifier


@pytest.mark.django_db(transaction=True)
def test_two_workers_posting_the_first_card_at_once_post_one_message(requires_postgres, real_slack, team_service):
    """The race of two workers sending the first announcement: the card row is claimed (locked) before Slack
    is called, so the second waits, finds the posted card at the incident's version, and posts nothing."""
    _, service, ana = team_service
    incident = services.incident_declare(
        title="Disk", severity=3, actor=ana, source=Source.WEB, primary_service=service, announce=False
    )
    assert cards.cards_owe(incident, [CHANNEL])
    real_slack.reply_next(
        body={"ok": True, "channel": CHANNEL, "ts": "1700000000.000100"}, delay=0.5, method="chat.postMessage"
    )
    barrier, results = threading.Barrier(2), []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(cards.cards_sync(incident.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert sorted(results) == [False, True]
    assert len(real_slack.posts()) == 1 and not real_slack.calls("chat.update")
    assert IncidentCard.objects.get(incident=incident).ts == "1700000000.000100"


@pytest.mark.parametrize(
    ("method", "error", "owner"),
    [
        ("chat.postMessage", "not_in_channel", "team"),
        ("chat.postMessage", "channel_not_found", "team"),
        ("chat.update", "not_in_channel", "team"),
        ("chat.postMessage", "invalid_auth", "workspace"),
        ("chat.update", "account_inactive", "workspace"),
    ],
)
def test_a_card_slack_refuses_for_a_reason_a_person_must_fix_is_a_visible_problem(
    real_slack, team_service, django_capture_on_commit_callbacks, method, error, owner
):
    """Not only the card's ``last_error``: the team (its channel) or the workspace (the token) shows the problem in
    the Slack health view and the team's admin page, as a reminder or announcement refused the same way does; the
    next card Slack takes in that channel marks it fixed."""
    team, service, ana = team_service
    if method == "chat.postMessage":
        real_slack.reply_next(body={"ok": False, "error": error}, method="chat.postMessage")
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_declare(
            title="Disk", severity=3, actor=ana, source=Source.WEB, primary_service=service
        )
    if method == "chat.update":
        real_slack.reply_next(body={"ok": False, "error": error}, method="chat.update", times=2)
        with django_capture_on_commit_callbacks(execute=True):
            services.incident_acknowledge(incident_id=incident.pk, actor=ana, source=Source.WEB)

    card = IncidentCard.objects.get(incident=incident, address=CHANNEL)
    assert error in card.last_error
    problems = open_slack_problems(team=team) if owner == "team" else open_slack_problems().filter(key="workspace")
    [problem] = problems.filter(error=error, target=CHANNEL)
    assert problem.method == method
    if owner == "team":
        with django_capture_on_commit_callbacks(execute=True):  # an escalation announces it again; Slack takes it
            update.incident_set_severity(incident_id=incident.pk, severity=1, actor=ana, source=Source.WEB)
        assert not open_slack_problems(team=team).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("status", Incident.Status.values)
@pytest.mark.parametrize("reopened", [False, True])
def test_the_card_offers_acknowledge_exactly_while_the_incident_needs_acknowledging(status, reopened):
    """One rule for "still waiting for an acknowledgement" (``IncidentQuerySet.needing_acknowledgement``): the
    card's Acknowledge button, the dashboard's list and escalation agree on every status, also once an incident
    was acknowledged before and re-opened (``acknowledged_at`` kept)."""
    times = {"acknowledged": ["acknowledged_at"], "mitigated": ["mitigated_at"],
             "resolved": ["mitigated_at", "resolved_at"]}.get(status, [])  # fmt: skip
    if reopened:
        times = sorted({*times, "acknowledged_at"})
    incident = IncidentFactory(status=status, **{field: timezone.now() for field in times})

    waiting = incidents_needing_acknowledgement().filter(pk=incident.pk).exists()
    offered = "Acknowledge" in [button.label for button in cards.card_buttons(incident)]

    assert incident.needs_acknowledgement == waiting == offered == (status == Incident.Status.TRIGGERED)


@pytest.mark.django_db
def test_the_status_line_of_a_triggered_incident_says_whether_it_was_acknowledged_before_it_was_re_opened():
    """Re-opened after an acknowledgement, the card does not claim nobody ever acknowledged it."""
    ana = UserFactory(username="ana", first_name="Ana", last_name="Ops")
    never = IncidentFactory(status=Incident.Status.TRIGGERED)
    at = datetime(2026, 12, 5, 10, 2, tzinfo=UTC)
    again = IncidentFactory(
        status=Incident.Status.TRIGGERED,
        started_at=at - timedelta(hours=1),
        detected_at=at - timedelta(minutes=5),
        acknowledged_at=at,
        acknowledged_by=ana,
    )

    assert cards.status_line(never) == "Triggered: nobody has acknowledged it yet"
    assert cards.status_line(again) == (
        "Triggered again: acknowledged by Ana Ops at 2026-12-05 10:02 UTC, then re-opened; "
        "nobody has acknowledged it since"
    )
