"""Ownership's rules on its models: one lead per team, who answers for a service, catalog gaps, valid profiles."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ownership.models import Membership, Responsibility
from tests.factories import MembershipFactory, RepositoryFactory, ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_team_has_at_most_one_lead_and_a_person_is_in_a_team_once():
    team = TeamFactory()
    lead = MembershipFactory(team=team, role=Membership.Role.LEAD).user
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(team=team, role=Membership.Role.LEAD)
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(team=team, user=lead)
    assert team.lead == lead
    assert TeamFactory().lead is None


def test_a_responsibility_is_a_person_or_a_team_whose_lead_answers():
    team = TeamFactory()
    lead = MembershipFactory(team=team, role=Membership.Role.LEAD).user
    service = ServiceFactory(team=team)
    by_team = Responsibility.objects.create(service=service, role=Responsibility.Role.TRIAGES, team=team)
    person = UserFactory()
    by_person = Responsibility.objects.create(service=service, role=Responsibility.Role.PAGED, user=person)
    assert (by_team.person, by_person.person) == (lead, person)
    leaderless = Responsibility.objects.create(service=service, role=Responsibility.Role.FIXES, team=TeamFactory())
    assert leaderless.person is None
    for both_or_neither in ({"user": person, "team": team}, {}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Responsibility.objects.create(service=service, role=Responsibility.Role.ESCALATION, **both_or_neither)
    with pytest.raises(IntegrityError), transaction.atomic():  # one per role
        Responsibility.objects.create(service=service, role=Responsibility.Role.PAGED, user=UserFactory())


def test_catalog_gaps_name_what_a_service_is_missing():
    complete = ServiceFactory(runbook_url="https://r", dashboard_url="https://d", alerts_url="https://a")
    bare = ServiceFactory(team=None, runbook_url="", dashboard_url="", alerts_url="")
    assert complete.catalog_gaps == []
    assert bare.catalog_gaps == ["owner", "dashboard", "alerts", "runbook"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("timezone", "Mars/Olympus"), ("timezone", "Europe/../Berlin"), ("working_days", "1238"), ("working_days", "Mo")],
)
def test_a_profile_refuses_an_unknown_zone_or_weekday(field, value):
    person = UserFactory()
    setattr(person, field, value)
    with pytest.raises(ValidationError) as refused:
        person.full_clean(exclude=["password"])
    assert list(refused.value.message_dict) == [field]
    UserFactory(timezone="Pacific/Chatham", working_days="67").full_clean(exclude=["password"])  # +12:45, weekends


def test_a_repository_counts_its_default_and_listed_branches_only():
    repository = RepositoryFactory(default_branch="main", extra_counted_branches="release, hotfix ,")
    assert [repository.counts_branch(b) for b in ("main", "release", "hotfix", "feature/x", "")] == [
        True,
        True,
        True,
        False,
        False,
    ]
