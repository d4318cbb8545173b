"""Repository CI tokens through one service (issue 14 item 5): the command and the admin issue them alike."""

from io import StringIO

import pytest
from django.core.management import call_command

from ownership.models import Repository
from ownership.services import repository_token_issue
from sredesk.tokens import token_hash
from tests.factories import RepositoryFactory

pytestmark = pytest.mark.django_db

REPORT = b'<testsuite name="pytest"><testcase classname="tests.test_pay" name="test_retry"/></testsuite>'


def upload(client, token: str):
    return client.generic(
        "POST", "/ci/junit/?branch=main&commit=c1", REPORT, content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip


def test_a_new_token_works_and_the_old_one_stops(client):
    repository = RepositoryFactory(name="acme/payments")
    _, old = repository_token_issue(repository_id=repository.pk)
    _, new = repository_token_issue(repository_id=repository.pk)
    repository.refresh_from_db()
    assert repository.ci_token_hash == token_hash(new) and new.startswith("sdci")
    assert upload(client, old).status_code == 401
    assert upload(client, new).status_code == 201


def test_the_command_and_the_admin_issue_tokens_that_upload(operator_client):
    out = StringIO()
    call_command("repository_token", "acme/new", "--create", stdout=out)
    printed = out.getvalue().splitlines()[1]
    repository = Repository.objects.get(name="acme/new")
    assert repository.ci_token_hash == token_hash(printed)

    response = operator_client.post(
        "/admin/ownership/repository/",
        {"action": "issue_ci_token", "_selected_action": [repository.pk]},
        follow=True,
    )
    shown = str(next(iter(response.context["messages"])))
    token = shown.split(" CI token ")[1].split(" ")[0]
    repository.refresh_from_db()
    assert repository.ci_token_hash == token_hash(token) != token_hash(printed)
