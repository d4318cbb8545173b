"""The incident lifecycle: every transition allowed or refused, idempotent, logged and announced."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents import effects, services, update
from incidents.models import Incident, Source, TimelineEvent
from notifications.models import Notification
from ownership.models import Responsibility
from postmortems.models import PostMortem
from tests.factories import IncidentFactory, MembershipFactory, ServiceFactory, TeamFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
S = Incident.Status

# from-status -> verb -> resulting status (None: refused)
TABLE = {
    S.TRIGGERED: {"acknowledge": S.ACKNOWLEDGED, "mitigate": S.MITIGATED, "resolve": S.RESOLVED, "reopen": S.TRIGGERED},
    S.ACKNOWLEDGED: {"acknowledge": S.ACKNOWLEDGED, "mitigate": S.MITIGATED, "resolve": S.RESOLVED, "reopen": None},
    S.MITIGATED: {"acknowledge": None, "mitigate": S.MITIGATED, "resolve": S.RESOLVED, "reopen": S.TRIGGERED},
    S.RESOLVED: {"acknowledge": None, "mitigate": None, "resolve": S.RESOLVED, "reopen": S.TRIGGERED},
}
NOOP = {(S.TRIGGERED, "reopen"), (S.ACKNOWLEDGED, "acknowledge"), (S.MITIGATED, "mitigate"), (S.RESOLVED, "resolve")}


def incident_in(status: str) -> Incident:
    times = {"started_at": T0, "detected_at": T0}
    if status == S.ACKNOWLEDGED:
        times["acknowledged_at"] = T0 + dt.timedelta(minutes=1)
    if status in (S.MITIGATED, S.RESOLVED):
        times["mitigated_at"] = T0 + dt.timedelta(minutes=2)
    if status == S.RESOLVED:
        times["resolved_at"] = T0 + dt.timedelta(minutes=3)
    return IncidentFactory(status=status, severity=3, **times)


@pytest.mark.parametrize(("start", "verb"), [(s, v) for s in TABLE for v in TABLE[s]])
def test_transition_table(start, verb):
    incident = incident_in(start)
    expected = TABLE[start][verb]
    transition = services.TRANSITIONS[verb]

    if expected is None:
        with pytest.raises(services.InvalidTransition, match=f"Cannot {verb} {incident.public_id}"):
            transition(incident_id=incident.pk, actor=None, source=Source.WEB)
        incident.refresh_from_db()
        assert incident.status == start
        assert not incident.timeline.exists()
        return
    result = transition(incident_id=incident.pk, actor=None, source=Source.WEB)
    assert result.status == expected
    assert incident.timeline.count() == (0 if (start, verb) in NOOP else 1)


def test_double_acknowledge_keeps_the_first_click(django_capture_on_commit_callbacks):
    """BR-15: the second click is a no-op; acknowledged_at and acknowledged_by stay the first's."""
    incident = incident_in(S.TRIGGERED)
    first = member_of(incident.owning_team, username="u1")
    second = member_of(incident.owning_team, username="u2")
    at = timezone.now()

    services.incident_acknowledge(incident_id=incident.pk, actor=first, source=Source.SLACK, at=at)
    services.incident_acknowledge(incident_id=incident.pk, actor=second, source=Source.SLACK)

    incident.refresh_from_db()
    assert (incident.acknowledged_at, incident.acknowledged_by) == (at, first)
    assert incident.timeline.filter(kind=TimelineEvent.Kind.STATUS_CHANGE).count() == 1


def test_reacknowledging_after_a_reopen_keeps_the_first_acknowledgement():
    incident = incident_in(S.TRIGGERED)
    first = member_of(incident.owning_team)
    services.incident_acknowledge(incident_id=incident.pk, actor=first, source=Source.WEB)
    acknowledged_at = Incident.objects.get(pk=incident.pk).acknowledged_at
    services.incident_resolve(incident_id=incident.pk, actor=None, source=Source.WEB)
    services.incident_reopen(incident_id=incident.pk, actor=None, source=Source.WEB)
    services.incident_acknowledge(incident_id=incident.pk, actor=member_of(incident.owning_team), source=Source.WEB)

    incident.refresh_from_db()
    assert (incident.status, incident.acknowledged_at, incident.acknowledged_by) == (
        S.ACKNOWLEDGED,
        acknowledged_at,
        first,
    )


def test_reopen_clears_mitigated_and_resolved_and_keeps_them_on_the_timeline():
    incident = incident_in(S.RESOLVED)

    services.incident_reopen(incident_id=incident.pk, actor=None, source=Source.WEB)

    incident.refresh_from_db()
    assert (incident.status, incident.mitigated_at, incident.resolved_at) == (S.TRIGGERED, None, None)
    event = incident.timeline.get()
    assert event.data["previous_resolved_at"] == (T0 + dt.timedelta(minutes=3)).isoformat()
    assert event.data["previous_mitigated_at"] == (T0 + dt.timedelta(minutes=2)).isoformat()


def test_resolve_before_detection_is_refused_naming_the_field():
    """BR-22 (1): resolved_at earlier than detected_at is a 400-style field error, and nothing changes."""
    incident = incident_in(S.TRIGGERED)
    with pytest.raises(ValidationError) as exc:
        services.incident_resolve(incident_id=incident.pk, actor=None, source=Source.API, at=T0 - dt.timedelta(hours=1))
    assert "resolved_at" in exc.value.message_dict
    incident.refresh_from_db()
    assert incident.status == S.TRIGGERED


def test_naive_times_are_refused():
    """BR-22 (2): a time without a zone is refused rather than guessed."""
    incident = incident_in(S.TRIGGERED)
    with pytest.raises(ValidationError) as exc:
        services.incident_acknowledge(
            incident_id=incident.pk, actor=None, source=Source.API, at=dt.datetime(2024, 5, 1, 10, 5)
        )
    assert "acknowledged_at" in exc.value.message_dict


def test_a_time_in_the_future_is_refused_for_people_and_taken_as_now_for_alerts():
    incident = incident_in(S.TRIGGERED)
    tomorrow = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        services.incident_resolve(incident_id=incident.pk, actor=None, source=Source.API, at=tomorrow)
    assert "must not be in the future" in exc.value.message_dict["resolved_at"][0]
    with pytest.raises(ValidationError) as exc:
        services.incident_declare(title="x", severity=3, actor=None, source=Source.WEB, detected_at=tomorrow)
    assert "detected_at" in exc.value.message_dict
    incident.refresh_from_db()
    assert incident.status == S.TRIGGERED and not Incident.objects.exclude(pk=incident.pk).exists()

    # A clock a few seconds fast is not an error; the time stored is ours, never later than the call.
    before = timezone.now()
    services.incident_acknowledge(
        incident_id=incident.pk, actor=None, source=Source.API, at=before + dt.timedelta(seconds=20)
    )
    incident.refresh_from_db()
    assert before <= incident.acknowledged_at <= timezone.now()
    # An alert whose sender's clock runs a day ahead still moves the incident, at the time we learnt of it.
    before = timezone.now()
    services.incident_resolve(incident_id=incident.pk, actor=None, source=Source.ALERT, at=tomorrow)
    incident.refresh_from_db()
    assert incident.status == S.RESOLVED and before <= incident.resolved_at <= timezone.now()


def test_mttr_across_the_dst_change_counts_absolute_time():
    """BR-22 (3): detected 00:30 CEST, resolved 02:30 CET on 2024-10-27 is 3 hours, not 2."""
    detected = dt.datetime.fromisoformat("2024-10-27T00:30:00+02:00")
    incident = services.incident_declare(
        title="Berlin outage", severity=3, actor=None, source=Source.WEB, detected_at=detected
    )
    services.incident_resolve(
        incident_id=incident.pk,
        actor=None,
        source=Source.WEB,
        at=dt.datetime.fromisoformat("2024-10-27T02:30:00+01:00"),
    )
    incident.refresh_from_db()
    assert incident.mttr_seconds == 10_800
    assert incident.detected_at.utcoffset() == dt.timedelta(0)


def test_timeline_is_ordered_by_absolute_time_across_midnight():
    """BR-22 (4)."""
    incident = incident_in(S.TRIGGERED)
    late = dt.datetime(2024, 5, 2, 0, 10, tzinfo=dt.UTC)
    early = dt.datetime.fromisoformat("2024-05-02T01:50:00+02:00")  # 23:50Z on May 1st
    TimelineEvent.objects.create(incident=incident, kind="note", message="second", at=late)
    TimelineEvent.objects.create(incident=incident, kind="note", message="first", at=early)
    assert list(incident.timeline.values_list("message", flat=True)) == ["first", "second"]


def test_durations():
    incident = incident_in(S.RESOLVED)
    assert (incident.mtta_seconds, incident.time_to_mitigate_seconds, incident.mttr_seconds) == (None, 120, 180)
    assert incident_in(S.TRIGGERED).mttr_seconds is None


def test_declare_takes_the_owning_team_from_the_primary_service_and_announces(
    slack_on, django_capture_on_commit_callbacks, memory_notifier
):
    team = TeamFactory(slack_channel="C0PAYMENTS")
    pager = UserFactory(slack_user_id="U0PAGED01", username="pager")
    service = ServiceFactory(team=team)
    Responsibility.objects.create(service=service, role=Responsibility.Role.PAGED, user=pager)

    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_declare(
            title="Checkout errors", severity=1, actor=None, source=Source.WEB, primary_service=service
        )

    assert incident.owning_team == team
    assert list(incident.services.all()) == [service]
    assert sorted(m.address for m in memory_notifier) == ["C0PAYMENTS", "U0PAGED01"]
    assert all(m.text.startswith(f"{incident.public_id} (SEV1) Checkout errors\nTriggered") for m in memory_notifier)
    assert all([b.label for b in m.buttons] == ["Acknowledge", "Resolve", "Add note", "Open"] for m in memory_notifier)
    assert sorted(Notification.objects.filter(channel="outbox").values_list("address", flat=True)) == [
        f"team:{team.slug}",
        "user:pager",
    ]


def test_escalation_is_announced_and_downgrade_is_not(django_capture_on_commit_callbacks):
    incident = incident_in(S.TRIGGERED)
    with django_capture_on_commit_callbacks(execute=True):
        update.incident_set_severity(incident_id=incident.pk, severity=4, actor=None, source=Source.WEB)
    assert not Notification.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        update.incident_set_severity(incident_id=incident.pk, severity=1, actor=None, source=Source.WEB)
        update.incident_set_severity(incident_id=incident.pk, severity=1, actor=None, source=Source.WEB)
    assert "escalated to SEV1" in Notification.objects.get().text
    assert list(incident.timeline.values_list("message", flat=True)) == [
        "Downgraded SEV3 → SEV4",
        "Escalated SEV4 → SEV1",
    ]


def test_resolving_a_sev2_creates_its_postmortem_once(django_capture_on_commit_callbacks):
    lead = UserFactory(username="lead")
    team = TeamFactory()
    MembershipFactory(team=team, user=lead, role="lead")
    incident = IncidentFactory(severity=2, owning_team=team, started_at=T0, detected_at=T0)
    resolved_at = T0 + dt.timedelta(hours=2)

    for move, at in [("resolve", resolved_at), ("resolve", None), ("reopen", None), ("resolve", None)]:
        with django_capture_on_commit_callbacks(execute=True):  # each request commits, then the worker runs
            services.TRANSITIONS[move](incident_id=incident.pk, actor=None, source=Source.WEB, at=at)

    postmortem = PostMortem.objects.get()
    assert postmortem.status == "draft"
    assert postmortem.owner == lead
    assert postmortem.due_at == resolved_at + dt.timedelta(days=10)
    assert "Resolved" in postmortem.timeline and "2024-05-01 12:00 UTC" in postmortem.timeline


def test_commander_owns_the_postmortem_and_sev3_needs_none(django_capture_on_commit_callbacks):
    commander = UserFactory()
    sev1 = IncidentFactory(severity=1, commander=commander)
    sev3 = IncidentFactory(severity=3)
    with django_capture_on_commit_callbacks(execute=True):
        for incident in (sev1, sev3):
            services.incident_resolve(incident_id=incident.pk, actor=None, source=Source.WEB)
    assert PostMortem.objects.get().owner == commander
    assert not PostMortem.objects.filter(incident=sev3).exists()


def test_roles_and_notes_are_logged_once():
    incident = incident_in(S.TRIGGERED)
    ic, responder = UserFactory(username="ic"), UserFactory(username="resp")
    for _ in range(2):
        update.incident_assign_role(incident_id=incident.pk, role="commander", user=ic, actor=None, source="web")
        update.incident_set_responder(
            incident_id=incident.pk, user=responder, responding=True, actor=None, source="web"
        )
    services.incident_add_note(incident_id=incident.pk, text="  Rolled back the deploy ", actor=ic, source="web")
    with pytest.raises(ValidationError):
        services.incident_add_note(incident_id=incident.pk, text="  ", actor=ic, source="web")
    with pytest.raises(ValidationError):
        update.incident_assign_role(incident_id=incident.pk, role="king", user=ic, actor=None, source="web")

    assert list(incident.timeline.values_list("kind", "message")) == [
        ("role_change", f"Incident commander: {ic}"),
        ("role_change", f"Responder added: {responder}"),
        ("note", "Rolled back the deploy"),
    ]


def test_reopening_an_incident_whose_alert_group_has_a_newer_open_incident_is_refused():
    old = incident_in(S.RESOLVED)
    Incident.objects.filter(pk=old.pk).update(alert_group_key='{}:{alertname="DiskFull"}')
    newer = services.incident_declare(
        title="Disk full again",
        severity=3,
        actor=None,
        source=Source.ALERT,
        alert_group_key='{}:{alertname="DiskFull"}',
    )
    with pytest.raises(services.InvalidTransition, match=f"now belong to {newer.public_id}"):
        services.incident_reopen(incident_id=old.pk, actor=None, source=Source.WEB)


def test_a_silent_declare_announces_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_declare(title="Learnt late", severity=2, actor=None, source=Source.ALERT, announce=False)
    assert not Notification.objects.exists()


# --- Announcements: sent by a worker, once, and never lost ------------------------------------


def test_an_announcement_whose_task_never_ran_is_sent_once_by_the_recovery_sweep(django_capture_on_commit_callbacks):
    team = TeamFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # the task message never reaches a worker
        incident = services.incident_declare(
            title="Checkout errors",
            severity=1,
            actor=None,
            source=Source.WEB,
            primary_service=ServiceFactory(team=team),
        )
    assert callbacks and not Notification.objects.exists()
    event = incident.timeline.get()
    assert (event.announcement, event.announced_at) == ("declared", None)

    assert effects.side_effects_recover() == 1  # beat's sweep re-queues it (eager here: the worker runs it)
    assert list(Notification.objects.values_list("address", flat=True)) == [f"team:{team.slug}"]
    event.refresh_from_db()
    assert event.announced_at is not None

    # A redelivered task, a second sweep: nothing is sent twice.
    assert effects.side_effects_recover() == 0
    assert effects.side_effect_run("announce", event.pk) is False
    assert Notification.objects.count() == 1


def test_only_announced_moves_wait_for_a_worker(django_capture_on_commit_callbacks):
    incident = incident_in(S.TRIGGERED)
    with django_capture_on_commit_callbacks(execute=False):
        services.incident_acknowledge(incident_id=incident.pk, actor=None, source=Source.WEB)
        services.incident_add_note(incident_id=incident.pk, text="looking", actor=None, source=Source.WEB)
        services.incident_resolve(incident_id=incident.pk, actor=None, source=Source.WEB)
    pending = TimelineEvent.objects.filter(incident=incident, announced_at=None).exclude(announcement="")
    assert list(pending.values_list("announcement", flat=True)) == ["resolved"]


def test_the_change_history_keeps_moves_people_make_and_the_timeline_keeps_every_move():
    incident = incident_in(S.TRIGGERED)
    person = member_of(incident.owning_team)
    before = incident.history.count()
    services.incident_acknowledge(incident_id=incident.pk, actor=person, source=Source.WEB)
    services.incident_resolve(incident_id=incident.pk, actor=None, source=Source.ALERT)  # an alert's resolution
    services.incident_reopen(incident_id=incident.pk, actor=person, source=Source.API)

    assert list(incident.history.order_by("history_date").values_list("status", flat=True))[before:] == [
        "acknowledged",
        "triggered",
    ]
    moves = incident.timeline.filter(kind=TimelineEvent.Kind.STATUS_CHANGE).values_list("data__to", flat=True)
    assert list(moves)[-3:] == ["acknowledged", "resolved", "triggered"]
