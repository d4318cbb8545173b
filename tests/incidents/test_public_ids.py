"""``INC-<n>`` is read by one function (``incidents.models.parse_public_id``) at every door, with one answer.

The doors: the API's ``search`` filter, its ``incident`` reference filters, its
incident URLs, the admin's incident search, and a CI report's ``incident``
property. Each test below asks its door about the same values and must get the
same answer: which incident they name, or none. The admin once read ``INC-٣``
(Arabic-Indic 3) as incident 3, because its pattern's ``\\d`` matches any
Unicode digit and ``int()`` reads them.
"""

from urllib.parse import quote

import pytest
from django.urls import reverse

from incidents.models import Incident, parse_public_id
from postmortems.ci import ci_run_upload
from postmortems.models import RegressionTest
from sredesk.inputs import BIGINT_MAX, InputError
from tests.api.clients import client_for
from tests.factories import PostMortemFactory, RepositoryFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

NAMES_IT = "names it"
NAMES_NONE = "names none"
# Each value, written with the incident's number where it has "{n}" ("{arabic}": that number in Arabic-Indic
# digits), and what every door must make of it.
CASES = {
    "INC-{n}": NAMES_IT,
    "inc-{n}": NAMES_IT,
    "INC-00{n}": NAMES_IT,
    " INC-{n}": NAMES_IT,
    "INC-{arabic}": NAMES_NONE,
    "{arabic}": NAMES_NONE,
    "INC-\u0663": NAMES_NONE,  # '٣' alone: int() reads it as 3
    "INC-0": NAMES_NONE,
    f"INC-{BIGINT_MAX + 1}": NAMES_NONE,
    "INC-" + "9" * 40: NAMES_NONE,
    "INC--{n}": NAMES_NONE,
    "INC- {n}": NAMES_NONE,
}


@pytest.fixture
def incident():
    """Incident 3 or later (so ``INC-٣`` could name another incident), with a post-mortem, titled unlike any case."""
    PostMortemFactory.create_batch(2, published=True)
    return PostMortemFactory(published=True, incident__title="Card payments failing", incident__summary="").incident


def values(incident: Incident) -> dict[str, str]:
    arabic = "".join(chr(0x0660 + int(digit)) for digit in str(incident.pk))
    return {case: case.format(n=incident.pk, arabic=arabic) for case in CASES}


def answers(incident: Incident, door) -> dict[str, str]:
    """What ``door(value)`` (the incident id it found, or None) makes of each case."""
    found = {case: door(value) for case, value in values(incident).items()}
    return {
        case: NAMES_IT if pk == incident.pk else NAMES_NONE if pk is None else f"names {pk}"
        for case, pk in found.items()
    }


def test_parse_public_id_reads_ascii_numbers_after_the_prefix_and_names_what_is_wrong():
    assert parse_public_id("INC-42") == parse_public_id(" inc-042\n") == parse_public_id("42", bare=True) == 42
    for value in ("42", "INC-\u0663", "INC-", "INC-4 2", "INC-+4", "#42", "INC-42x", "INC-１"):
        with pytest.raises(InputError, match="public id") as refused:
            parse_public_id(value, field="q")
        assert refused.value.field == "q"
    with pytest.raises(InputError) as zero:
        parse_public_id("INC-0")
    with pytest.raises(InputError) as large:
        parse_public_id(f"INC-{BIGINT_MAX + 1}")
    assert (zero.value.code, large.value.code) == ("min_value", "max_value")
    assert parse_public_id(f"INC-{BIGINT_MAX}") == BIGINT_MAX


def test_the_api_search(incident):
    api = client_for(UserFactory())

    def door(value):
        rows = api.get("/api/v1/incidents/", {"search": value}).json()["results"]
        return rows[0]["id"] if rows else None

    assert answers(incident, door) == CASES


def test_the_api_incident_filters(incident):
    api = client_for(UserFactory())

    def door(value):
        response = api.get("/api/v1/postmortems/", {"incident": value})
        if response.status_code == 400:
            assert "incident" in response.json()["error"]["fields"]
            return None
        return response.json()["results"][0]["incident"]["id"]

    assert answers(incident, door) == CASES
    assert door(str(incident.pk)) == incident.pk  # a reference filter also takes the number alone


def test_the_api_urls(incident):
    api = client_for(UserFactory())

    def door(value):
        response = api.get(f"/api/v1/incidents/{quote(value)}/")
        assert response.status_code in (200, 404), response.content[:200]
        return response.json()["id"] if response.status_code == 200 else None

    assert answers(incident, door) == CASES
    assert door(str(incident.pk)) == incident.pk
    assert api.get(f"/api/v1/incidents/inc-{incident.pk}/timeline/").status_code == 200


def test_the_admin_search(incident, operator_client):
    url = reverse("admin:incidents_incident_changelist")

    def door(value):
        pks = [row.pk for row in operator_client.get(url, {"q": value}).context["cl"].result_list]
        assert len(pks) <= 1, pks
        return pks[0] if pks else None

    assert answers(incident, door) == CASES


def test_a_ci_report_incident_property(incident):
    repository = RepositoryFactory(default_branch="main")
    service = ServiceFactory()
    service.repositories.add(repository)
    for each in Incident.objects.all():
        each.services.add(service)
    cases = list(values(incident).items())
    xml = "".join(
        f'<testcase classname="tests.test_pay" name="test_{i}"><properties>'
        f'<property name="incident" value="{value}"/></properties></testcase>'
        for i, (_, value) in enumerate(cases)
    )
    ci_run_upload(repository=repository, branch="main", commit="c1", content=f"<testsuite>{xml}</testsuite>".encode())
    linked = dict(RegressionTest.objects.values_list("test_id", "postmortem__incident_id"))

    def door(value):
        i = next(i for i, (_, each) in enumerate(cases) if each == value)
        return linked.get(f"tests.test_pay::test_{i}")

    assert answers(incident, door) == CASES
