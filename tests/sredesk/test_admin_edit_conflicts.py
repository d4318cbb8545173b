"""Issue 15 item 1 in the admin: a change form opened before someone else saved merges instead of overwriting."""

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from postmortems.models import ActionItem
from tests.factories import ActionItemFactory, UserFactory

pytestmark = pytest.mark.django_db


class FormValues(HTMLParser):
    """What a browser posts from the page's main form: inputs, checked boxes, textareas, selected options."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea = self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "checkbox", "radio", "file"):
            self.values[a["name"]] = a.get("value") or ""
        elif tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" in a:
            self.values[a["name"]] = a.get("value") or "on"
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.values[self._textarea] = ""
        elif tag == "select":
            self._select = a.get("name")
            self.values.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data.lstrip("\n") if not self.values[self._textarea] else data


def opened(client, url) -> dict[str, str]:
    parser = FormValues()
    parser.feed(client.get(url).content.decode())
    return {k: v for k, v in parser.values.items() if k not in ("csrfmiddlewaretoken", "q")}


@pytest.fixture
def other_operator(db):
    client = Client()
    client.force_login(
        UserFactory(username="ops2", first_name="Ada", last_name="Ops", is_staff=True, is_superuser=True)
    )
    return client


def test_two_admins_changing_different_fields_keep_both(operator_client, other_operator):
    item = ActionItemFactory(title="Add a retry budget", tracker_url="")
    url = reverse("admin:postmortems_actionitem_change", args=[item.pk])
    mine, theirs = opened(operator_client, url), opened(other_operator, url)
    assert mine["seen_version"] == str(item.version)

    assert other_operator.post(url, {**theirs, "title": "Add a retry budget to the card client"}).status_code == 302
    answer = operator_client.post(url, {**mine, "tracker_url": "https://tracker.example.com/PAY-9"})

    assert answer.status_code == 302
    item = ActionItem.objects.get(pk=item.pk)
    assert (item.title, item.tracker_url) == (
        "Add a retry budget to the card client",
        "https://tracker.example.com/PAY-9",
    )


def test_two_admins_changing_one_field_is_an_error_naming_theirs_until_saved_again(operator_client, other_operator):
    item = ActionItemFactory(title="Add a retry budget")
    url = reverse("admin:postmortems_actionitem_change", args=[item.pk])
    mine, theirs = opened(operator_client, url), opened(other_operator, url)
    other_operator.post(url, {**theirs, "title": "Theirs"})

    answer = operator_client.post(url, {**mine, "title": "Mine"})

    assert answer.status_code == 200
    assert "Ada Ops at" in answer.content.decode() and "changed this meanwhile to “Theirs”" in answer.content.decode()
    assert ActionItem.objects.get(pk=item.pk).title == "Theirs"
    again = {**mine, "title": "Mine", "seen_version": str(ActionItem.objects.get(pk=item.pk).version)}
    assert operator_client.post(url, again).status_code == 302
    assert ActionItem.objects.get(pk=item.pk).title == "Mine"
