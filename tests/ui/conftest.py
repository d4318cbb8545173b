"""Fixtures for the web UI tests: a signed-in person who reads times in Europe/Berlin."""

import pytest

from tests.factories import UserFactory


@pytest.fixture
def sre(db):
    """A signed-in person (not staff) who reads times in Europe/Berlin."""
    return UserFactory(username="sre", first_name="Sam", last_name="Rivera", timezone="Europe/Berlin")


@pytest.fixture
def sre_client(client, sre):
    client.force_login(sre)
    return client
