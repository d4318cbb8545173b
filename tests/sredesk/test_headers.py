"""Security headers and cookies (issue 12 item 9): CSP without unsafe-inline, HSTS, SSL redirect, cookie flags,
and `check --deploy` clean with the production settings the README documents.

Chromium's side of the CSP (nothing on any page is refused, Swagger UI and Redoc still work) is in
tests/e2e/test_csp.py.
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import IncidentFactory, PostMortemFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in header.split(";")) if d}


@pytest.fixture
def pages(client):
    """Every kind of page a person sees, with its data: lists, details, forms, charts (pygal), admin, API docs."""
    person = UserFactory(username="sam", is_staff=True, is_superuser=True)
    client.force_login(person)
    service = ServiceFactory(slug="payments-api")
    incident = IncidentFactory(primary_service=service, summary="Card <b>payments</b> failed")
    postmortem = PostMortemFactory(incident=incident, published=True)
    return [
        "/", "/incidents/", f"/incidents/{incident.pk}/", "/incidents/declare/", "/postmortems/",
        f"/postmortems/{postmortem.pk}/", f"/postmortems/{postmortem.pk}/edit/", "/services/",
        f"/services/{service.slug}/", "/slos/", "/me/", "/me/profile/", "/admin/", "/admin/incidents/incident/",
        f"/admin/incidents/incident/{incident.pk}/change/", "/admin/axes/accessattempt/", "/api/docs/",
    ]  # fmt: skip


def test_every_page_forbids_inline_script_and_style_and_other_hosts(client, pages):
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        csp = policy(response)
        assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"], (path, csp)
        assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"], path
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], path
        assert "'unsafe-eval'" not in response["Content-Security-Policy"], path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["X-Frame-Options"] == "DENY", path


def test_no_page_has_inline_script_or_style(client, pages):
    """What the CSP would refuse is not there at all (moved to static files), except the nonced chart styles."""
    for path in pages:
        response = client.get(path)
        html = response.content.decode()
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
        inline_scripts = re.findall(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", html)
        assert not inline_scripts, (path, inline_scripts)
        assert not re.findall(r"<[a-z][^>]*\sstyle=\"", html), path
        assert not re.findall(r"<[a-z][^>]*\son[a-z]+=\"", html), path  # onclick=..., onload=...
        for style in re.findall(r"<style\b[^>]*>", html):
            assert nonce and f'nonce="{nonce[1]}"' in style, (path, style)


def test_the_service_dashboards_charts_keep_their_style_by_the_responses_nonce(client, pages):
    response = client.get("/services/payments-api/")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])[1]
    assert policy(response)["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert response.content.decode().count(f'<style nonce="{nonce}"') == 3  # incidents per week, MTTA, MTTR
    again = client.get("/services/payments-api/")
    assert nonce not in again["Content-Security-Policy"]  # a new one per response


def test_https_only_when_configured(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True

    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/accounts/login/"
    assert client.get("/healthz").status_code == 200  # the load balancer's probe speaks plain http inside

    secure = client.get("/accounts/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_behind_the_tls_proxy_forwarded_https_is_not_redirected(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    assert client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="http").status_code == 301


def test_cookie_flags(client, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    person = UserFactory(username="pat")
    person.set_password("a long enough password")
    person.save()
    client.get(reverse("login"))
    response = client.post(reverse("login"), {"username": "pat", "password": "a long enough password"})
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["secure"] and session["samesite"] == "Lax"
    csrf = client.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"


def readme_production_env() -> dict[str, str]:
    """The ```env block of the README's "Production" section, placeholders filled."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Production", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"^```env\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    env = dict(line.split("=", 1) for line in block.splitlines() if line.strip() and not line.startswith("#"))
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)  # the README's <50 or more random characters>
    return env


def test_check_deploy_gives_no_warning_with_the_readmes_production_settings():
    """Before: 4 warnings, and with the README's TLS settings 2 that no setting could clear (HSTS, SSL redirect)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SREDESK_", "CELERY_", "REDIS_"))}
    environ.update(readme_production_env())
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
