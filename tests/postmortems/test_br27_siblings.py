"""The kind of BR-27 for incident ids: ``INC-<n>`` read from a CI report's property is an ASCII id or nothing."""

import pytest

from postmortems.ci import ci_run_upload
from postmortems.models import RegressionTest
from tests.factories import PostMortemFactory, RepositoryFactory
from tests.postmortems.test_ci import incident_property_xml, service_using


@pytest.mark.parametrize(
    "value",
    [
        "INC-{digits}\u0660",  # an Arabic-Indic zero after the number
        "INC-" + "9" * 40,  # past any id the database can hold
        "INC-{arabic}",  # the same number in Arabic-Indic digits
        "INC-{digits}x",
    ],
)
def test_an_incident_property_that_is_no_ascii_id_links_nothing_and_fails_nothing(db, value):
    repository = RepositoryFactory(default_branch="main")
    postmortem = PostMortemFactory(published=True)
    postmortem.incident.services.add(service_using(repository))
    digits = str(postmortem.incident.pk)
    arabic = "".join(chr(0x0660 + int(d)) for d in digits)
    xml = incident_property_xml(value.format(digits=digits, arabic=arabic))
    result = ci_run_upload(repository=repository, branch="main", commit="c1", content=xml)
    assert result.auto_linked == 0
    assert not RegressionTest.objects.exists()
