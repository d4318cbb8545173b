"""Ownership's management commands: ``api_token`` issues, rotates and revokes a person's REST API token."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from ownership.models import ApiToken
from sredesk.tokens import token_hash
from tests.factories import UserFactory


@pytest.fixture
def person(db):
    return UserFactory(username="alice")


def test_api_token_command_issues_rotates_and_revokes(person):
    out = io.StringIO()
    call_command("api_token", "alice", stdout=out)
    key = out.getvalue().splitlines()[-1]
    assert ApiToken.objects.get(user=person).key_hash == token_hash(key)  # only the hash is stored
    assert key not in str(list(ApiToken.objects.values_list()))
    with pytest.raises(CommandError, match="cannot be shown again"):
        call_command("api_token", "alice", stdout=io.StringIO())
    out = io.StringIO()
    call_command("api_token", "alice", "--rotate", stdout=out)
    new = out.getvalue().splitlines()[-1]
    assert new != key
    assert APIClient().get("/api/v1/people/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    assert APIClient().get("/api/v1/people/", HTTP_AUTHORIZATION=f"Token {new}").status_code == 200
    call_command("api_token", "alice", "--revoke", stdout=io.StringIO())
    assert APIClient().get("/api/v1/people/", HTTP_AUTHORIZATION=f"Token {new}").status_code == 401
    with pytest.raises(CommandError):
        call_command("api_token", "nobody", stdout=io.StringIO())
