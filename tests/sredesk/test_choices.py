"""Every "no such X" answer lists the valid choices, closest first (issue 15 item 6)."""

import pytest
from django.core.management import CommandError, call_command

from sredesk.choices import SHOWN, unknown_choice
from tests.factories import RepositoryFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_sentence_names_the_closest_and_lists_the_rest():
    text = unknown_choice("service with slug", "payments", ["storefront", "payments-api", "auth"])

    assert text == (
        "No service with slug 'payments'. Did you mean 'payments-api'? Valid: auth, payments-api, storefront."
    )
    assert unknown_choice("repository named", "x", []) == "No repository named 'x'. There are none yet."
    many = unknown_choice("user named", "zz", [f"user{i:03}" for i in range(SHOWN + 5)])
    assert many.endswith("and 5 more.") and "user000" in many


def test_create_integration_names_the_service_slugs():
    ServiceFactory(slug="payments-api")
    ServiceFactory(slug="storefront")

    with pytest.raises(CommandError) as failed:
        call_command("create_integration", kind="alertmanager", name="Prod AM", service="payments")

    assert "Did you mean 'payments-api'?" in str(failed.value)
    assert "Valid: payments-api, storefront." in str(failed.value)


def test_token_and_upload_commands_name_the_repositories_and_people(tmp_path):
    RepositoryFactory(name="acme/payments")
    UserFactory(username="amara")
    report = tmp_path / "report.xml"
    report.write_text("<testsuite/>")

    with pytest.raises(CommandError, match=r"Did you mean 'acme/payments'\?.*Use --create"):
        call_command("repository_token", "payments")
    with pytest.raises(CommandError, match=r"Valid: acme/payments\. Add it in the admin"):
        call_command("upload_junit", str(report), repository="acme/pay", branch="main", commit="a")
    with pytest.raises(CommandError, match=r"Did you mean 'amara'\?"):
        call_command("api_token", "amar")
