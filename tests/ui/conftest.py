"""Fixtures for the web UI and admin tests."""

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


@pytest.fixture
def operator(db):
    return UserFactory(username="ops", first_name="Olu", last_name="Ops", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client_(client, operator):
    client.force_login(operator)
    return client
