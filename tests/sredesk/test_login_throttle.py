"""Login throttling (issue 12 item 7): wrong passwords lock a client out of the web and admin logins.

Before, 60 wrong passwords in a row were all tried, each costing about 1 s of
password hashing, so four anonymous clients slowed the whole web tier.
Token and signature doors (API, webhooks, /ci/junit/) are not throttled.
"""

import ast

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from django.urls import reverse

from tests.api.clients import client_for
from tests.factories import UserFactory
from tests.sredesk.test_settings import settings_in_subprocess

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
LIMIT = 3


class CountingHasher(MD5PasswordHasher):
    """MD5 (fast, for tests) that counts how many times a password was hashed: the CPU a login costs."""

    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


@pytest.fixture
def person(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.PASSWORD_HASHERS = ["tests.sredesk.test_login_throttle.CountingHasher"]
    user = UserFactory(username="sam")
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client: Client, password: str, *, username="sam", url=None, **extra):
    return client.post(url or reverse("login"), {"username": username, "password": password}, **extra)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"], ids=["web", "admin"])
def test_wrong_passwords_lock_out_and_the_right_one_fails_until_reset(person, url):
    person.is_staff = True
    person.save()
    client = Client()
    for _ in range(LIMIT - 1):
        assert sign_in(client, "wrong", url=url).status_code == 200  # the form again, with its error

    locked = sign_in(client, "wrong", url=url)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()

    right = sign_in(client, PASSWORD, url=url)
    assert right.status_code == 429 and not signed_in(client)
    assert AccessAttempt.objects.filter(ip_address="127.0.0.1").exists()  # what the admin lists

    AccessAttempt.objects.all().delete()  # the operator's reset (admin: Axes → Access attempts → delete)
    assert sign_in(client, PASSWORD, url=url).status_code == 302 and signed_in(client)


def test_a_locked_out_client_is_refused_before_its_password_is_hashed(person):
    client = Client()
    for _ in range(LIMIT):
        sign_in(client, "wrong", username=f"guess-{_}")  # random user names from one address count too
    CountingHasher.calls = 0

    for password in ("wrong", PASSWORD, "other"):
        assert sign_in(client, password).status_code == 429
    assert CountingHasher.calls == 0


def test_another_address_is_not_locked_out(person):
    for _ in range(LIMIT):
        sign_in(Client(), "wrong", REMOTE_ADDR="203.0.113.9")
    other = Client()
    assert sign_in(other, PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302 and signed_in(other)


def test_behind_the_tls_proxy_the_address_the_proxy_appended_counts(person, settings):
    """Everyone arrives from the proxy's address: without this, one attacker would lock out everyone."""
    behind = settings_in_subprocess(
        "(settings.AXES_IPWARE_META_PRECEDENCE_ORDER, settings.AXES_IPWARE_PROXY_ORDER)", DJANGO_BEHIND_TLS_PROXY="1"
    )
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER, settings.AXES_IPWARE_PROXY_ORDER = ast.literal_eval(behind.stdout)
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(LIMIT):
        # The attacker forges a first entry each time; the proxy appends the address it really saw.
        sign_in(Client(), "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.9", **proxy)
    assert sign_in(Client(), PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy).status_code == 429

    colleague = Client()
    assert sign_in(colleague, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy).status_code == 302
    assert signed_in(colleague)


def test_token_and_signature_doors_are_not_throttled(person, settings):
    """A locked-out address still reaches the API with a token, and failed tokens never lock out a login."""
    from incidents.models import Integration
    from sredesk.tokens import new_token
    from tests.factories import RepositoryFactory
    from tests.postmortems.test_ci import pytest_xml

    for _ in range(LIMIT):
        sign_in(Client(), "wrong")
    assert sign_in(Client(), PASSWORD).status_code == 429

    api = client_for(person)
    assert api.get("/api/v1/incidents/").status_code == 200

    integration = Integration(kind=Integration.Kind.GENERIC, name="try")
    hook_token = integration.set_new_token()
    integration.save()
    alert = {"status": "firing", "labels": {"alertname": "HighLatency"}, "title": "p99 above 2 s"}
    hooked = Client().post(
        f"/hooks/{integration.public_id}/",
        alert,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {hook_token}",
    )
    assert hooked.status_code == 200, hooked.content

    repository = RepositoryFactory(name="acme/web")
    ci_token, repository.ci_token_hash = new_token("sdci")
    repository.save()
    uploaded = Client().post(
        reverse("ci:junit_upload") + "?branch=main&commit=a",
        pytest_xml("t"),
        content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {ci_token}",
    )
    assert uploaded.status_code == 201, uploaded.content

    # Wrong tokens by the dozen at every door are answered by the door and never count as failed logins.
    AccessAttempt.objects.all().delete()
    for _ in range(LIMIT * 4):
        assert client_for(None).get("/api/v1/incidents/", HTTP_AUTHORIZATION="Token wrong").status_code == 401
        hooked = Client().post(
            f"/hooks/{integration.public_id}/",
            alert,
            content_type="application/json",
            HTTP_AUTHORIZATION="Bearer wrong",
        )
        assert hooked.status_code == 401
        uploaded = Client().post(
            reverse("ci:junit_upload") + "?branch=main&commit=a",
            pytest_xml("t"),
            content_type="application/xml",
            HTTP_AUTHORIZATION="Bearer wrong",
        )
        assert uploaded.status_code == 401
    assert not AccessAttempt.objects.exists()
    client = Client()
    assert sign_in(client, PASSWORD).status_code == 302 and signed_in(client)


def test_the_admin_home_names_the_lockouts_in_words_not_axes(operator_client):
    page = operator_client.get(reverse("admin:index")).content.decode()

    assert "Sign-in lockouts" in page
    assert ">Axes<" not in page and "AXES" not in page
    assert reverse("admin:axes_accessattempt_changelist") in page  # same app, same admin pages
