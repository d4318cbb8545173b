"""factory_boy factories for every model. Build states here; call services when a test is about a transition."""

import datetime as dt

import factory
from django.utils import timezone

from incidents.models import Incident, Severity
from ownership.models import Membership, Repository, Service, Team, User
from postmortems.models import ActionItem, PostMortem, RegressionTest


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    timezone = "UTC"
    # Around the clock, so tests not about working hours are not held until Monday 09:00.
    work_start = dt.time(0, 0)
    work_end = dt.time(0, 0)
    working_days = "1234567"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    slack_channel = factory.Sequence(lambda n: f"C0TEAM{n:04d}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER


class RepositoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Repository

    name = factory.Sequence(lambda n: f"acme/repo-{n}")
    url = factory.LazyAttribute(lambda r: f"https://git.example.test/{r.name}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")
    slug = factory.Sequence(lambda n: f"service-{n}")
    team = factory.SubFactory(TeamFactory)


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    title = factory.Sequence(lambda n: f"Checkout errors {n}")
    severity = Severity.SEV2
    started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=3))
    detected_at = factory.LazyAttribute(lambda i: i.started_at + dt.timedelta(minutes=5))
    owning_team = factory.SubFactory(TeamFactory)

    class Params:
        resolved = factory.Trait(
            status=Incident.Status.RESOLVED,
            acknowledged_at=factory.LazyAttribute(lambda i: i.detected_at + dt.timedelta(minutes=3)),
            mitigated_at=factory.LazyAttribute(lambda i: i.detected_at + dt.timedelta(minutes=30)),
            resolved_at=factory.LazyAttribute(lambda i: i.detected_at + dt.timedelta(hours=1)),
        )


class PostMortemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostMortem

    incident = factory.SubFactory(IncidentFactory, resolved=True)
    owner = factory.SubFactory(UserFactory)
    status = PostMortem.Status.DRAFT
    due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=5))
    summary = "Payments timed out for 40 minutes."

    class Params:
        published = factory.Trait(
            status=PostMortem.Status.PUBLISHED,
            published_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=1)),
        )
        complete = factory.Trait(
            status=PostMortem.Status.COMPLETE,
            published_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=2)),
            completed_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1)),
        )


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    postmortem = factory.SubFactory(PostMortemFactory)
    title = factory.Sequence(lambda n: f"Add a retry budget {n}")


class RegressionTestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegressionTest

    postmortem = factory.SubFactory(PostMortemFactory)
    repository = factory.SubFactory(RepositoryFactory)
    test_id = factory.Sequence(lambda n: f"tests/payments/test_retry.py::test_timeout_is_retried[{n}]")


class SLOFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "slos.SLO"

    service = factory.SubFactory(ServiceFactory)
    slug = factory.Sequence(lambda n: f"slo-{n}")
    name = factory.Sequence(lambda n: f"Availability {n}")
    target = "0.999"
    sli_kind = "events_pushed"
    bucket_seconds = 300


def member_of(team: Team, **user_fields) -> User:
    """A new person in ``team`` (so one who may write to its incidents and post-mortems)."""
    return MembershipFactory(team=team, user=UserFactory(**user_fields)).user


class ScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "oncall.Schedule"

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"Schedule {n}")
    slug = factory.Sequence(lambda n: f"schedule-{n}")
    timezone = "Europe/Berlin"


class LayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "oncall.Layer"

    schedule = factory.SubFactory(ScheduleFactory)
    name = factory.Sequence(lambda n: f"Layer {n}")
    turn_unit = "weeks"
    turn_length = 1
    handoff_time = dt.time(9, 0)
    anchor_date = dt.date(2026, 3, 2)
