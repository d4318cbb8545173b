"""Fixtures for the web UI tests: a signed-in team member (not staff) who reads times in Europe/Berlin.

Pages act for ``sre``, a member of ``sre_team``: a test that writes to an
incident or post-mortem gives it that owning team (or says why it should be
refused). Tests that need staff sign in ``operator`` (``operator_client``).
"""

import pytest

from tests.factories import MembershipFactory, TeamFactory, UserFactory


@pytest.fixture
def sre_team(db):
    """The team ``sre`` belongs to (no lead)."""
    return TeamFactory(slug="sre-platform", name="SRE Platform")


@pytest.fixture
def sre(sre_team):
    """A signed-in member of ``sre_team`` (not staff) who reads times in Europe/Berlin."""
    user = UserFactory(username="sre", first_name="Sam", last_name="Rivera", timezone="Europe/Berlin")
    MembershipFactory(team=sre_team, user=user)
    return user


@pytest.fixture
def sre_client(client, sre):
    client.force_login(sre)
    return client
