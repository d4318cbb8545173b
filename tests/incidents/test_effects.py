"""The one after-commit path (``incidents.effects``): announcements and the post-mortem draft, done by a worker,
retried until done, once; BR-42: a failing draft step never blocks or half-finishes a resolution."""

import datetime as dt
import html
import re
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import postmortems.services
from incidents import effects, services, update
from incidents.models import Incident, SideEffect, Source, TimelineEvent
from notifications.models import Notification
from postmortems.markdown import markdown_literal
from postmortems.models import PostMortem
from tests.api.clients import client_for
from tests.factories import MembershipFactory, ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

# BR-42's notes, as people typed them.
NOTES = [
    "</div><script>x</script>",
    "{{ incident.owner }}",
    '{% include "x" %}',
    "y" * 20_000,
    "[link]()",
    "rolled back 🎉",
]
DRAFT = SideEffect.Kind.POSTMORTEM_DRAFT


@pytest.fixture
def br42(db, django_capture_on_commit_callbacks):
    """BR-42's input: a SEV1 incident on svc-a, whose team team-x has no lead, with hostile notes (its
    declaration announced)."""
    team = TeamFactory(slug="team-x", slack_channel="C0TEAMX")
    commander = MembershipFactory(
        team=team, user=UserFactory(username="commander", first_name="Casey", last_name="Commander")
    ).user
    started = timezone.now() - dt.timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_declare(
            title="Checkout down",
            severity=1,
            actor=commander,
            source=Source.WEB,
            primary_service=ServiceFactory(slug="svc-a", team=team),
            commander=commander,
            started_at=started,
            detected_at=started,
        )
    for note in NOTES:
        services.incident_add_note(incident_id=incident.pk, text=note, actor=commander, source=Source.WEB)
    return incident


@pytest.fixture
def failing_draft_step(monkeypatch):
    """``failing_draft_step(n)``: the draft step raises on its first ``n`` calls, then runs for real.
    Returns the list of calls (incident ids)."""

    def install(times: int) -> list[int]:
        real = postmortems.services.postmortem_create_for_incident
        calls: list[int] = []

        def step(*, incident):
            calls.append(incident.pk)
            if len(calls) <= times:
                raise RuntimeError(f"draft store unavailable ({len(calls)})")
            return real(incident=incident)

        monkeypatch.setattr(postmortems.services, "postmortem_create_for_incident", step)
        return calls

    return install


def resolve(incident: Incident, capture, at: dt.datetime):
    """``POST /api/v1/incidents/<id>/resolve/`` as the commander; on-commit work runs as after a real commit."""
    with capture(execute=True):
        return client_for(incident.commander).post(
            f"/api/v1/incidents/{incident.pk}/resolve/", {"at": at.isoformat()}, format="json"
        )


def sweep_after(effect: SideEffect, capture) -> int:
    """Beat's sweep, run just after the effect's back-off is over (its worker task runs eagerly)."""
    with capture(execute=True):
        return effects.side_effects_recover(now=effect.next_attempt_at + dt.timedelta(seconds=1))


def test_br42_a_failing_draft_step_leaves_the_resolution_whole_and_is_retried_once_it_can(
    br42, failing_draft_step, django_capture_on_commit_callbacks, operator_client
):
    calls = failing_draft_step(1)
    at = timezone.now() - dt.timedelta(hours=1)

    response = resolve(br42, django_capture_on_commit_callbacks, at)

    assert response.status_code == 200, response.content
    br42.refresh_from_db()
    assert (br42.status, br42.resolved_at) == ("resolved", at)
    assert calls == [br42.pk] and not PostMortem.objects.exists()
    effect = SideEffect.objects.get(incident=br42, kind=DRAFT)
    assert (effect.pending, effect.attempts) == (True, 1)
    assert effect.last_error == "RuntimeError: draft store unavailable (1)"
    # Visible while pending: the incident page, the admin and /metrics.
    client = operator_client
    page = client.get(reverse("incidents:detail", args=[br42.pk])).content.decode()
    assert "Post-mortem draft pending (last error: RuntimeError: draft store unavailable (1))" in page
    admin_page = operator_client.get(reverse("admin:incidents_incident_change", args=[br42.pk])).content.decode()
    assert "RuntimeError: draft store unavailable (1)" in admin_page
    assert 'sredesk_side_effects_pending{kind="postmortem_draft"} 1.0' in client.get("/metrics").content.decode()

    # Before its back-off is over the sweep leaves it; after, the worker creates the draft, once.
    assert effects.side_effects_recover(now=effect.created_at + dt.timedelta(seconds=30)) == 0
    assert sweep_after(effect, django_capture_on_commit_callbacks) == 1
    assert sweep_after(effect, django_capture_on_commit_callbacks) == 0

    postmortem = PostMortem.objects.get()
    assert postmortem.incident == br42 and postmortem.owner == br42.commander  # team-x has no lead
    assert postmortem.due_at == at + dt.timedelta(days=settings.SREDESK_POSTMORTEM_DUE_DAYS[1])  # from the resolution
    effect.refresh_from_db()
    assert not effect.pending and effect.last_error == ""
    assert "pending" not in client.get(reverse("incidents:detail", args=[br42.pk])).content.decode().lower()
    assert 'sredesk_side_effects_pending{kind="postmortem_draft"} 0.0' in client.get("/metrics").content.decode()
    assert br42.timeline.filter(data__postmortem_id=postmortem.pk).count() == 1


def test_br42_the_draft_step_failing_three_times_backs_off_then_creates_one_draft(
    br42, failing_draft_step, django_capture_on_commit_callbacks
):
    calls = failing_draft_step(3)
    resolve(br42, django_capture_on_commit_callbacks, timezone.now() - dt.timedelta(minutes=30))
    waits = []
    effect = SideEffect.objects.get(incident=br42)
    while effect.pending:
        waits.append(effect.next_attempt_at - timezone.now())
        sweep_after(effect, django_capture_on_commit_callbacks)
        effect.refresh_from_db()
        assert len(waits) < 10

    assert len(calls) == 4 and effect.attempts == 4
    assert [round(w.total_seconds() / 60) for w in waits] == [1, 2, 4]  # minutes, doubling
    assert PostMortem.objects.filter(incident=br42).count() == 1


def test_br42_user_text_is_kept_literally_and_escaped_in_the_draft_and_its_export(
    br42, django_capture_on_commit_callbacks, client
):
    resolve(br42, django_capture_on_commit_callbacks, timezone.now() - dt.timedelta(minutes=5))
    postmortem = PostMortem.objects.get(incident=br42)
    client.force_login(UserFactory())

    page = client.get(reverse("postmortems:detail", args=[postmortem.pk])).content.decode()
    export = client.get(reverse("postmortems:export", args=[postmortem.pk])).content.decode()

    assert "<script>x" not in page
    visible = html.unescape(re.sub(r"<[^>]+>", "", page))
    for note in NOTES:
        assert note in visible, note[:40]
    assert 'href=""' not in page
    assert "<script>" not in export
    for note in NOTES:
        assert markdown_literal(note) in export, note[:40]


def junit(outcome: str = "") -> bytes:
    """A pytest JUnit report of the one test, passing or with ``outcome`` (``failure``)."""
    body = f'<{outcome} message="boom">trace</{outcome}>' if outcome else ""
    case = f'<testcase classname="tests.payments.test_retry" name="test_timeout_is_retried[eu]">{body}</testcase>'
    return f'<testsuite name="pytest" tests="1">{case}</testsuite>'.encode()


def test_announcements_of_every_kind_go_through_the_one_worker_and_its_sweep(django_capture_on_commit_callbacks):
    """An incident escalated, its post-mortem published, its regression test failing in CI: each is a timeline
    entry whose announcement a lost task message cannot lose (the sweep queues it), and none is sent twice."""
    from postmortems.ci import ci_run_upload
    from postmortems.regression_tests import regression_test_link
    from postmortems.services import postmortem_transition
    from tests.factories import PostMortemFactory, RepositoryFactory

    team = TeamFactory(slug="payments")
    owner = UserFactory(username="owner")
    postmortem = PostMortemFactory(owner=owner, incident__owning_team=team, incident__severity=2)
    repository = RepositoryFactory(name="acme/payments", default_branch="main")
    regression_test_link(
        postmortem=postmortem,
        repository=repository,
        test_id="tests/payments/test_retry.py::test_timeout_is_retried[eu]",
        actor=None,
    )
    ci_run_upload(repository=repository, branch="main", run_key="b1", content=junit(), complete=True)
    with django_capture_on_commit_callbacks(execute=False):  # every task message is lost
        update.incident_set_severity(incident_id=postmortem.incident_id, severity=1, actor=None, source="web")
        postmortem_transition(postmortem_id=postmortem.pk, verb="publish", actor=owner, source=Source.WEB)
        ci_run_upload(repository=repository, branch="main", run_key="b2", content=junit("failure"), complete=True)
    assert not Notification.objects.exists()
    pending = TimelineEvent.objects.filter(announced_at__isnull=True).exclude(announcement="")
    assert sorted(pending.values_list("announcement", flat=True)) == [
        "escalated to SEV1",
        "post-mortem published",
        "regression test failing",
    ]

    with django_capture_on_commit_callbacks(execute=True):
        assert effects.side_effects_recover() == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert effects.side_effects_recover() == 0

    incident = postmortem.incident
    said = sorted(Notification.objects.filter(channel="outbox").values_list("address", "text"))
    assert said == sorted(
        [
            ("team:payments", f"{incident.public_id} (SEV1) escalated to SEV1: {incident.title}"),
            ("team:payments", f"{incident.public_id} post-mortem published: {incident.title}"),
            ("team:payments", f"{incident.public_id} regression test "
             "tests/payments/test_retry.py::test_timeout_is_retried[eu] is failing in acme/payments main@b2"),
            ("user:owner", f"{incident.public_id} regression test "
             "tests/payments/test_retry.py::test_timeout_is_retried[eu] is failing in acme/payments main@b2"),
        ]
    )  # fmt: skip
    assert not pending.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_br42_two_concurrent_resolves_resolve_once_and_make_one_draft(requires_postgres, br42, failing_draft_step):
    calls = failing_draft_step(1)
    token_client = client_for(br42.commander)
    auth = token_client._credentials["HTTP_AUTHORIZATION"]
    at = (timezone.now() - dt.timedelta(minutes=20)).isoformat()
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            response = Client().post(
                f"/api/v1/incidents/{br42.pk}/resolve/",
                data={"at": at},
                content_type="application/json",
                HTTP_AUTHORIZATION=auth,
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200, 200]  # the second changes nothing
    assert br42.timeline.filter(data__to="resolved").count() == 1
    assert calls == [br42.pk] and not PostMortem.objects.exists()  # the one draft step failed once
    effect = SideEffect.objects.get(incident=br42)
    assert effects.side_effects_recover(now=effect.next_attempt_at) == 1
    assert PostMortem.objects.filter(incident=br42).count() == 1
    assert SideEffect.objects.filter(incident=br42, done_at__isnull=False).count() == 1
