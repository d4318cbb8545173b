"""The admin console as a whole: every model's changelist and search, change history, no revert.

Each app's own admin actions and filters are tested in that app's folder (tests/<app>/test_admin.py)."""

import warnings

import pytest
from django import forms
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils.deprecation import RemovedInDjango60Warning

from postmortems.models import RegressionTest
from sredesk.admin import HistoryAdmin
from tests.factories import (
    ActionItemFactory,
    IncidentFactory,
    PostMortemFactory,
    RegressionTestFactory,
    ServiceFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

HISTORY_MODELS = ["incidents.incident", "postmortems.postmortem", "postmortems.actionitem",
                  "postmortems.regressiontest", "ownership.service", "ownership.team"]  # fmt: skip


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.fixture
def data():
    postmortem = PostMortemFactory(published=True)
    ActionItemFactory(postmortem=postmortem)
    RegressionTestFactory(postmortem=postmortem)
    ServiceFactory(team=None)
    return postmortem


def test_every_registered_model_has_a_working_changelist_with_search(operator_client, data):
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label == "auth":
            continue  # Django's own Group admin
        url = changelist(model)
        assert operator_client.get(url).status_code == 200, url
        if model_admin.search_fields:
            assert operator_client.get(url, {"q": "x"}).status_code == 200, url
        assert model_admin.list_display != ("__str__",), f"{model.__name__} has no list columns"


def test_main_models_keep_a_change_history(operator_client, data):
    incident = data.incident
    incident.title = "Renamed in the admin"
    incident.save()
    assert incident.history.count() >= 2
    assert data.history.exists() and RegressionTest.history.exists() and TeamFactory().history.exists()
    for label in HISTORY_MODELS:
        (model_admin,) = [a for m, a in admin.site._registry.items() if m._meta.label_lower == label]
        assert isinstance(model_admin, HistoryAdmin), label
    response = operator_client.get(reverse("admin:incidents_incident_history", args=[incident.pk]))
    assert response.status_code == 200 and "Renamed in the admin" in response.content.decode()


def test_history_cannot_revert(operator_client, settings):
    """A revert would write status and times past the services: no button, and the POST is refused."""
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is True
    incident = IncidentFactory(title="First title")
    incident.title = "Second title"
    incident.save()
    first = incident.history.earliest("history_date")
    url = reverse("admin:incidents_incident_simple_history", args=[incident.pk, first.history_id])
    assert operator_client.get(url).status_code == 200
    assert operator_client.post(url, {"title": "First title", "severity": 2}).status_code == 403
    incident.refresh_from_db()
    assert incident.title == "Second title"


def test_every_admin_form_takes_a_link_without_its_scheme_as_https(operator):
    """Every admin change form and inline that shows a link (a model URLField) says which scheme a bare
    ``wiki.example.com/x`` gets (https), rather than leaving Django's http default, which Django 6 changes and
    warns about (RemovedInDjango60Warning)."""
    request = RequestFactory().get("/admin/")
    request.user = operator
    links = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", RemovedInDjango60Warning)
        for model, model_admin in admin.site._registry.items():
            built = [model_admin.get_form(request)]
            built += [inline.get_formset(request).form for inline in model_admin.get_inline_instances(request)]
            for form in built:
                links += [(model, name, field) for name, field in form.base_fields.items()
                          if isinstance(field, forms.URLField)]  # fmt: skip
    assert len(links) >= 8  # services' three links, repositories, CI runs, action items, tests, page webhooks
    for model, name, field in links:
        assert field.clean("wiki.example.com/x") == "https://wiki.example.com/x", (model, name)
