"""A world that grows: ``World.grow(k)`` adds k rows behind every list of every door.

Used by the query-count tests (``test_list_queries``): each door is measured
at n rows and again at 3n, and must run the same number of queries. Each
unit adds a team (lead and member), a service with responsibilities and a
repository, an open incident with an alert, notes and services, a published
post-mortem with an action item, a regression test, a CI run with results,
a reminder with deliveries, an announcement delivery, an outbox message, a
webhook receipt, a pending side effect, an API token, an SLO with samples, a
budget policy; and it grows the anchors that detail pages list (the first
incident's timeline, the first post-mortem's action items and tests, the
first team's members, the first service's incidents, the viewer's own work).
"""

import datetime as dt
import hashlib
import itertools

from django.utils import timezone

from incidents.models import Alert, Integration, SideEffect, WebhookDelivery
from incidents.services import incident_add_note
from notifications.models import Notification, OutboxMessage
from ownership.models import ApiToken, Membership, Responsibility
from postmortems.models import Reminder, ReminderDelivery, TestResult, TestRun, TestRunFile
from slos.models import BudgetPolicy
from tests.factories import (
    ActionItemFactory,
    IncidentFactory,
    MembershipFactory,
    PostMortemFactory,
    RegressionTestFactory,
    RepositoryFactory,
    ServiceFactory,
    SLOFactory,
    TeamFactory,
    UserFactory,
)
from tests.slos.helpers import fill

_serial = itertools.count()


class World:
    """The anchors detail pages show, and ``grow`` to add rows everywhere. ``viewer`` is a superuser."""

    def __init__(self):
        self.viewer = UserFactory(username="viewer", is_staff=True, is_superuser=True)
        self.team = TeamFactory()
        MembershipFactory(team=self.team, user=self.viewer, role=Membership.Role.LEAD)
        self.repository = RepositoryFactory()
        self.service = ServiceFactory(team=self.team)
        self.service.repositories.add(self.repository)
        self.integration = Integration.objects.create(kind="alertmanager", name="Anchor", default_service=self.service)
        self.incident = IncidentFactory(owning_team=self.team, commander=self.viewer, primary_service=self.service)
        self.postmortem = PostMortemFactory(
            published=True, owner=self.viewer, incident__owning_team=self.team, incident__primary_service=self.service
        )
        self.slo = SLOFactory(service=self.service)
        self.run = TestRun.objects.create(repository=self.repository, run_key="anchor", branch="main")
        self._filled = 0  # buckets of the anchor SLO, back from an hour ago

    def grow(self, k: int) -> None:
        now = timezone.now()
        for _ in range(k):
            i = next(_serial)
            team = TeamFactory()
            lead = UserFactory()
            MembershipFactory(team=team, user=lead, role=Membership.Role.LEAD)
            MembershipFactory(team=team, user=UserFactory(slack_user_id=f"U{i:08d}"))
            MembershipFactory(team=self.team, user=lead)  # a member of the anchor team too: it writes notes there
            ApiToken.objects.create(user=lead, key_hash=hashlib.sha256(f"token {i}".encode()).hexdigest())
            BudgetPolicy.objects.create(team=team)
            service = ServiceFactory(team=team)
            service.repositories.add(self.repository, RepositoryFactory())
            Responsibility.objects.create(service=service, role="paged", user=lead)
            Responsibility.objects.create(service=service, role="fixes", team=team)
            integration = Integration.objects.create(kind="alertmanager", name=f"AM {i}", default_service=service)

            incident = IncidentFactory(
                owning_team=team, commander=self.viewer, communications_lead=lead, primary_service=service
            )
            incident.services.add(self.service, service)
            incident.responders.add(lead)
            on_anchor = IncidentFactory(owning_team=self.team, primary_service=self.service, commander=lead)
            on_anchor.services.add(self.service)
            for target in (incident, on_anchor):
                Alert.objects.create(
                    integration=integration,
                    fingerprint=f"{i:016x}{target.pk}",
                    starts_at=now,
                    status="firing",
                    name="HighLatency",
                    incident=target,
                )
            incident_add_note(incident_id=self.incident.pk, text=f"note {i}", actor=lead, source="api")
            incident_add_note(incident_id=incident.pk, text=f"note {i}", actor=lead, source="web")
            WebhookDelivery.objects.create(integration=integration, body=b"{}", outcome="accepted")
            SideEffect.objects.create(incident=incident, kind=SideEffect.Kind.POSTMORTEM_DRAFT, last_error="down")

            postmortem = PostMortemFactory(
                published=True,
                owner=self.viewer,
                incident__owning_team=team,
                incident__primary_service=self.service,
                incident__commander=lead,
            )
            PostMortemFactory(owner=lead, incident__owning_team=team, due_at=now - dt.timedelta(days=2))
            for pm in (postmortem, self.postmortem):
                ActionItemFactory(postmortem=pm, owner=self.viewer, due_date=now.date() - dt.timedelta(days=3))
                RegressionTestFactory(postmortem=pm, repository=self.repository, state_run=self.run, linked_by=lead)
            run = TestRun.objects.create(repository=self.repository, run_key=f"run {i}", branch="main")
            TestRunFile.objects.create(test_run=run, filename="junit.xml", sha256=f"{i:064x}", size_bytes=10)
            TestResult.objects.create(test_run=run, test_id=f"t::{i}", outcome="passed")
            TestResult.objects.create(test_run=self.run, test_id=f"t::{i}", outcome="failed")
            for pm in (postmortem, self.postmortem):
                reminder = Reminder.objects.create(postmortem=pm, kind="no_regression_test", step=i, due_at=now)
                ReminderDelivery.objects.create(reminder=reminder, recipient_user=lead, channel="outbox", address="a")
                ReminderDelivery.objects.create(reminder=reminder, recipient_team=team, channel="slack", address="C1")
            Notification.objects.create(
                dedup_key=f"n{i}", topic=f"INC-{incident.pk}", subject="s", text="t", channel="slack", address="C1"
            )
            OutboxMessage.objects.create(dedup_key=f"o{i}", recipient=lead.username, subject="s", text="t")

            slo = SLOFactory(service=service if i % 2 else self.service)
            fill(slo, now - dt.timedelta(hours=2), 4, total=100, bad=1)
        step = dt.timedelta(seconds=self.slo.bucket_seconds)
        base = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
        fill(self.slo, base - (self._filled + k) * step, k, total=100, bad=1)
        self._filled += k
        from slos.evaluate import evaluate

        evaluate(now)
