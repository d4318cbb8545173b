"""Paging end to end, with real processes: gunicorn, a ``celery beat``, two ``celery worker``s, Redis, PostgreSQL,
the real slack_sdk client and ``tests.fakes.FakeSlack``.

Alertmanager posts a firing alert to gunicorn; the incident it opens is on a service whose escalation policy
pages (1) the on-call of a schedule, then after 2 "minutes" (2) the team lead, then after 18 (3) the team's
channel. A minute of an escalation wait lasts one second here (``SREDESK_ESCALATION_MINUTE_SECONDS``) and the
planner runs every second. Nobody acknowledges, so step 1 and then step 2 reach Slack, each once per target.
Step 2's direct message is held in the Slack call and the worker sending it is SIGKILLed there: the other
worker sends it again once the page claim times out (``SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS``, 4 s
here), so the page is not lost (its row shows attempt 2: the one named window in which the recipient may get
it twice). Then the lead acknowledges through the REST API, and step 3 never pages.

Skips without PostgreSQL and Redis; fails instead when SREDESK_REQUIRE_SERVICES=1 (CI).
"""

import datetime as dt
import json
import re
import time
import urllib.request

import pytest
from django.utils import timezone

from incidents.models import Incident, Integration
from notifications.models import Notification
from oncall.models import EscalationPolicy, EscalationStep, EscalationTarget, LayerMember, Page
from ownership.models import Membership, Responsibility
from ownership.services import api_token_issue
from tests.e2e.workers import WAIT, CeleryWorkers, Worker
from tests.factories import LayerFactory, MembershipFactory, ScheduleFactory, ServiceFactory, UserFactory
from tests.fakes import FakeSlack, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

STEP_WAITS = (2, 18, 1)  # minutes, each lasting MINUTE seconds
MINUTE = 1.0
ENV = {
    "SREDESK_ESCALATION_MINUTE_SECONDS": str(MINUTE),
    "SREDESK_ESCALATION_PLAN_SECONDS": "1",
    "SREDESK_NOTIFY_PAGE_REDELIVER_AFTER_SECONDS": "4",
    "SREDESK_SLACK_TIMEOUT_SECONDS": "2",
    "SREDESK_PAGE_WEBHOOK_TIMEOUT_SECONDS": "2",
    "DJANGO_EMAIL_TIMEOUT": "2",
    "SREDESK_REMINDER_SWEEP_SECONDS": "3600",  # the other beat entries stay out of the way
    "SREDESK_SLO_EVALUATE_SECONDS": "3600",
}
ON_CALL, LEAD, CHANNEL = "U0E2EONCALL", "U0E2ELEAD", "C0E2ETEAM"


def world():
    """A team (channel C0E2ETEAM) whose schedule has one person on call, a lead, and a service with the policy."""
    on_call = UserFactory(username="oncall", slack_user_id=ON_CALL)
    lead = UserFactory(username="lead", slack_user_id=LEAD)
    schedule = ScheduleFactory(name="payments-primary", slug="payments-primary", timezone="UTC")
    schedule.team.slack_channel = CHANNEL
    schedule.team.save(update_fields=["slack_channel"])
    MembershipFactory(team=schedule.team, user=lead, role=Membership.Role.LEAD)
    layer = LayerFactory(schedule=schedule)
    LayerMember.objects.create(layer=layer, user=on_call, position=0,
                               active_from=timezone.now() - dt.timedelta(days=30))  # fmt: skip
    policy = EscalationPolicy.objects.create(team=schedule.team, name="Payments", repeat=0)
    for position, (wait, target) in enumerate(zip(STEP_WAITS, [{"schedule": schedule}, {"user": lead},
                                                               {"team": schedule.team}], strict=True)):  # fmt: skip
        step = EscalationStep.objects.create(policy=policy, position=position, wait_minutes=wait)
        EscalationTarget.objects.create(step=step, **target)
    service = ServiceFactory(team=schedule.team, slug="card-payments-api", escalation_policy=policy)
    Responsibility.objects.filter(service=service).delete()
    integration = Integration(kind="alertmanager", name="Prometheus", default_service=service)
    token = integration.set_new_token()
    integration.save()
    return integration, token, lead


def post(port: int, path: str, body: dict, authorization: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": authorization, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=WAIT) as response:  # fmt: skip
        return json.loads(response.read())


def alert_payload() -> dict:
    starts = (timezone.now() - dt.timedelta(minutes=2)).isoformat().replace("+00:00", "Z")
    alert = {"status": "firing", "labels": {"alertname": "PaymentsGatewayDown", "severity": "critical",
                                            "service": "card-payments-api", "instance": "10.0.0.1:9090"},
             "annotations": {"summary": "Payments gateway down"}, "startsAt": starts,
             "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus.example:9090/graph",
             "fingerprint": "e2e0000000000001"}  # fmt: skip
    group = '{}:{alertname="PaymentsGatewayDown"}'
    return {"version": "4", "status": "firing", "receiver": "sredesk", "groupKey": group, "truncatedAlerts": 0,
            "groupLabels": {"alertname": "PaymentsGatewayDown"}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://alertmanager.example:9093", "alerts": [alert]}  # fmt: skip


def sending(worker: Worker) -> bool:
    """Whether ``worker`` took a delivery task it has not finished (solo pool: it is in the channel call now)."""
    log = worker.log_text()
    taken = re.findall(r"notify\.notification_deliver\[([0-9a-f-]+)\] received", log)
    return any(not re.search(rf"\[{task}\] (succeeded|retry|raised)", log) for task in taken)


def pages() -> list[tuple[int, str, str | None]]:
    rows = Page.objects.order_by("step", "id").values_list("step", "target", "person__username")
    return [(step, target.split(":")[0], person) for step, target, person in rows]


def test_unacknowledged_steps_page_in_turn_a_killed_worker_loses_none_and_an_acknowledgement_stops_the_rest(
    celery_workers: CeleryWorkers, fake_slack: FakeSlack
):
    integration, token, lead = world()
    fake_slack.hold_next_to(LEAD, 60)  # step 2's direct message: its worker stays in the call until killed
    web, port = celery_workers.start_web("web", env=ENV)
    a, b = celery_workers.start("a", env=ENV), celery_workers.start("b", env=ENV)
    celery_workers.wait_ready(a, b)
    celery_workers.start_beat("beat", env=ENV)

    def diagnostics() -> str:
        deliveries = Notification.objects.order_by("id").values_list("channel", "address", "status", "attempts")
        posts = "\n".join(f"  {r.at:.1f} {r.status} {r.channel}: {r.text[:80]!r}" for r in fake_slack.requests)
        return f"pages: {pages()}\ndeliveries: {list(deliveries)}\nSlack saw:\n{posts}\n{celery_workers.logs(40)}"

    post(port, f"/hooks/{integration.public_id}/", alert_payload(), f"Bearer {token}")
    incident = Incident.objects.get(integration=integration)
    step3_due = incident.detected_at + dt.timedelta(seconds=MINUTE * (STEP_WAITS[0] + STEP_WAITS[1]))

    # Step 1: whoever the schedule names now, by Slack DM.
    wait_until(lambda: fake_slack.ok_posts(ON_CALL), timeout=WAIT, what="step 1's page", diagnostics=diagnostics)
    assert f"{incident.public_id}" in fake_slack.ok_posts(ON_CALL)[0].text
    assert "step 1 of Payments" in fake_slack.ok_posts(ON_CALL)[0].text

    # Step 2, after its wait: its worker is killed in the Slack call; the other one sends it again.
    wait_until(
        lambda: fake_slack.posts(LEAD), timeout=WAIT, what="step 2's page to reach Slack", diagnostics=diagnostics
    )
    holder = wait_until(lambda: next((w for w in (a, b) if sending(w)), None), timeout=WAIT,
                        what="the worker sending step 2", diagnostics=diagnostics)  # fmt: skip
    holder.kill()
    lead_dm = Notification.objects.get(channel="slack", address=LEAD)
    wait_until(lambda: Notification.objects.get(pk=lead_dm.pk).status == "sent", timeout=WAIT,
               what="the surviving worker to send step 2's page", diagnostics=diagnostics)  # fmt: skip
    assert Notification.objects.get(pk=lead_dm.pk).attempts == 2
    assert "step 2 of Payments" in fake_slack.posts(LEAD)[-1].text

    # The lead acknowledges through the API: step 3 (the team's channel) never pages.
    post(port, f"/api/v1/incidents/{incident.pk}/acknowledge/", {}, f"Token {api_token_issue(user=lead)}")
    assert timezone.now() < step3_due, f"too slow to acknowledge before step 3 was due\n{diagnostics()}"
    time.sleep(max(0.0, (step3_due - timezone.now()).total_seconds()) + 3)  # past step 3's time, three ticks on

    assert pages() == [(0, "schedule", "oncall"), (1, "user", "lead")], diagnostics()
    assert [r.text for r in fake_slack.posts(CHANNEL) if "Page:" in r.text] == []
    assert len(fake_slack.ok_posts(ON_CALL)) == 1
    assert Incident.objects.get(pk=incident.pk).status == "acknowledged"
    assert web.alive()
