"""The kind of BR-26 at the web door: a signed-in browser's form POST needs its CSRF token on every form, and a
session alone never authenticates a CI upload (the repository token does, without CSRF)."""

import pytest
from django.test import Client
from django.urls import reverse

from incidents.models import Incident
from postmortems.models import TestRun
from tests.factories import IncidentFactory, PostMortemFactory, RepositoryFactory, UserFactory


@pytest.fixture
def browser(db):
    user = UserFactory(is_staff=True, is_superuser=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_every_kind_of_web_form_refuses_a_post_without_its_csrf_token(browser):
    incident = IncidentFactory()
    postmortem = PostMortemFactory()
    forms = [
        reverse("incidents:declare"),
        reverse("incidents:note", args=[incident.pk]),
        reverse("incidents:transition", args=[incident.pk, "acknowledge"]),
        reverse("postmortems:edit", args=[postmortem.pk]),
        reverse("postmortems:transition", args=[postmortem.pk, "publish"]),
        "/me/profile/",
        reverse("admin:incidents_incident_changelist"),
    ]
    answers = {url: browser.post(url, {"title": "x", "text": "x"}).status_code for url in forms}
    assert set(answers.values()) == {403}, answers
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED and Incident.objects.count() == 2


def test_a_session_alone_does_not_upload_ci_results(browser):
    RepositoryFactory(name="acme/pay")
    response = browser.post(
        "/ci/junit/?repository=acme/pay&commit=abc&branch=main",
        data=b"<testsuite/>",
        content_type="application/xml",
    )
    assert response.status_code in (401, 403)
    assert not TestRun.objects.exists()
