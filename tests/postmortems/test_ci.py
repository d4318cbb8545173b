"""CI test runs: JUnit uploads move linked regression tests between linked, verified, failing and missing."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from notifications.models import Notification
from postmortems.ci import ci_run_complete, ci_run_upload
from postmortems.models import RegressionTest, TestResult, TestRun, TestRunFile
from postmortems.regression_tests import regression_test_link
from sredesk.tokens import new_token
from tests.factories import PostMortemFactory, RepositoryFactory, ServiceFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
TEST_ID = "tests/payments/test_retry.py::test_timeout_is_retried[eu]"


def pytest_xml(*cases: str) -> bytes:
    """A pytest-style report; each case is 'name' (pass), 'name:failure', 'name:skipped' or 'name:error'."""
    rows = []
    for case in cases:
        name, _, outcome = case.partition(":")
        body = f'<{outcome} message="boom">trace</{outcome}>' if outcome else ""
        rows.append(f'<testcase classname="tests.payments.test_retry" name="{name}" time="0.1">{body}</testcase>')
    return (
        '<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="1">'
        + "".join(rows)
        + "</testsuite></testsuites>"
    ).encode()


@pytest.fixture
def linked():
    team = TeamFactory(slack_channel="C0PAY")
    postmortem = PostMortemFactory(published=True, incident__owning_team=team, owner=UserFactory(username="ana"))
    repository = RepositoryFactory(name="acme/payments", default_branch="main")
    test, _ = regression_test_link(postmortem=postmortem, repository=repository, test_id=TEST_ID, actor=None)
    return test


def upload(test, xml, *, branch="main", run_key, complete=False, **kwargs):
    return ci_run_upload(
        repository=test.repository, branch=branch, run_key=run_key, content=xml, complete=complete, **kwargs
    )


def state(test) -> str:
    test.refresh_from_db()
    return test.state


def test_a_passing_run_on_the_default_branch_verifies(linked):
    upload(linked, pytest_xml("test_timeout_is_retried[eu]"), run_key="build-1", branch="feature/x")
    assert state(linked) == "linked"  # feature branches do not count

    upload(linked, pytest_xml("test_timeout_is_retried[eu]"), run_key="build-2")

    assert state(linked) == "verified"
    assert linked.state_run.run_key == "build-2"
    assert linked.postmortem.incident.timeline.filter(message__contains="linked → verified").exists()


def test_extra_counted_branches(linked):
    linked.repository.extra_counted_branches = "release, hotfix"
    linked.repository.save()
    upload(linked, pytest_xml("test_timeout_is_retried[eu]"), run_key="r1", branch="release")
    assert state(linked) == "verified"


def test_failing_notifies_owner_and_team_once(linked, django_capture_on_commit_callbacks):
    upload(linked, pytest_xml("test_timeout_is_retried[eu]"), run_key="b1")
    with django_capture_on_commit_callbacks(execute=True):
        upload(linked, pytest_xml("test_timeout_is_retried[eu]:failure"), run_key="b2")
        upload(linked, pytest_xml("test_timeout_is_retried[eu]:failure"), run_key="b2")  # retried upload

    assert state(linked) == "failing"
    assert sorted(Notification.objects.values_list("address", flat=True)) == [
        "team:" + linked.postmortem.incident.owning_team.slug,
        "user:ana",
    ]
    assert "is failing" in Notification.objects.first().text
    assert TestRunFile.objects.filter(test_run__run_key="b2").count() == 1


@pytest.mark.parametrize("outcome", ["skipped", "error"])
def test_skipped_is_not_a_pass_and_error_is_a_failure(linked, outcome):
    upload(linked, pytest_xml(f"test_timeout_is_retried[eu]:{outcome}"), run_key="b1")
    assert state(linked) == {"skipped": "linked", "error": "failing"}[outcome]


def test_attempts_that_disagree_are_flaky_not_a_pass(linked):
    upload(linked, pytest_xml("test_timeout_is_retried[eu]:failure"), run_key="b1", filename="a.xml")
    upload(linked, pytest_xml("test_timeout_is_retried[eu]"), run_key="b1", filename="b.xml")

    result = TestResult.objects.get(test_id=TEST_ID)
    assert (result.flaky, result.attempts) == (True, 2)
    assert state(linked) == "failing"  # the earlier failure still decides; the flaky pass is not a pass


def test_only_a_complete_run_can_make_a_test_missing(linked):
    upload(linked, pytest_xml("test_timeout_is_retried[eu]"), run_key="b1")
    result = upload(linked, pytest_xml("test_other"), run_key="b2")
    assert state(linked) == "verified"  # b2 may still get more files

    ci_run_complete(run=result.run)
    assert state(linked) == "missing"
    ci_run_complete(run=result.run)  # idempotent

    upload(linked, pytest_xml("test_timeout_is_retried[eu]"), run_key="b3", complete=True)
    assert state(linked) == "verified"


def test_runs_uploaded_before_the_link_count():
    postmortem = PostMortemFactory(published=True)
    repository = RepositoryFactory(default_branch="main")
    ci_run_upload(repository=repository, branch="main", commit="abc", content=pytest_xml("test_timeout_is_retried[eu]"))

    test, _ = regression_test_link(postmortem=postmortem, repository=repository, test_id=TEST_ID, actor=None)

    assert test.state == "verified"


def service_using(repository):
    service = ServiceFactory()
    service.repositories.add(repository)
    return service


def incident_property_xml(public_id: str, name: str = "test_retry") -> bytes:
    return (
        f'<testsuites><testsuite name="pytest"><testcase classname="tests.test_pay" name="{name}">'
        f'<properties><property name="incident" value="{public_id}"/></properties>'
        "</testcase></testsuite></testsuites>"
    ).encode()


def test_a_property_naming_the_incident_links_the_test():
    repository = RepositoryFactory(default_branch="main")
    postmortem = PostMortemFactory(published=True)
    postmortem.incident.services.add(service_using(repository))
    xml = incident_property_xml(postmortem.incident.public_id)

    first = ci_run_upload(repository=repository, branch="main", commit="c1", content=xml)
    again = ci_run_upload(repository=repository, branch="main", commit="c2", content=xml)

    assert (first.auto_linked, again.auto_linked) == (1, 0)
    test = RegressionTest.objects.get()
    assert (test.postmortem, test.test_id, test.state) == (postmortem, "tests/test_pay.py::test_retry", "verified")


def test_a_ci_token_cannot_link_a_test_to_another_teams_postmortem():
    """Issue 12 item 2: any repository's token linked its test into another team's post-mortem via incident=INC-n,
    made it verified, and so silenced that team's reminders."""
    theirs = RepositoryFactory(name="acme/payments", default_branch="main")
    mine = RepositoryFactory(name="evil/scratch", default_branch="main")
    postmortem = PostMortemFactory(published=True)
    postmortem.incident.services.add(service_using(theirs))
    stranger = PostMortemFactory(published=True)  # an incident with no service at all: no repository may claim it

    for target in (postmortem, stranger):
        result = ci_run_upload(
            repository=mine,
            branch="main",
            commit=f"c-{target.pk}",
            content=incident_property_xml(target.incident.public_id),
        )
        assert result.auto_linked == 0
    assert not RegressionTest.objects.exists()

    primary = PostMortemFactory(published=True, incident__primary_service=service_using(mine))
    result = ci_run_upload(
        repository=mine, branch="main", commit="c9", content=incident_property_xml(primary.incident.public_id)
    )
    assert result.auto_linked == 1  # its primary service uses this repository


def test_unreadable_xml_is_refused_and_stores_nothing(linked):
    with pytest.raises(ValidationError) as exc:
        upload(linked, b"<testsuites><testcase", run_key="b1")
    assert "file" in exc.value.message_dict
    assert not TestResult.objects.exists()


def test_the_real_surefire_flaky_file_is_not_a_pass(realdata_dir):
    repository = RepositoryFactory(default_branch="main")
    content = (realdata_dir / "junit" / "surefire-flakyFailure-rerun.xml").read_bytes()
    ci_run_upload(repository=repository, branch="main", commit="c1", content=content, filename="TEST-x.xml")
    flaky = TestResult.objects.filter(flaky=True)
    assert flaky.exists()
    assert all(not r.passed for r in flaky)


# --- The HTTP endpoint and the command ------------------------------------------------------------


@pytest.fixture
def token(linked):
    token, digest = new_token("sdci")
    linked.repository.ci_token_hash = digest
    linked.repository.save()
    return token


def test_upload_endpoint(client, linked, token):
    url = reverse("ci:junit_upload") + "?branch=main&commit=abc123&complete=1"

    response = client.post(
        url,
        pytest_xml("test_timeout_is_retried[eu]"),
        content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 201, response.content
    assert response.json() | {} == {
        "run": "abc123",
        "branch": "main",
        "complete": True,
        "files": 1,
        "new_files": 1,
        "tests": 1,
        "auto_linked": 0,
        "changed": 1,
    }
    assert state(linked) == "verified"


def test_upload_endpoint_takes_several_multipart_files_and_ignores_a_session(client, linked, token):
    """BR-26: a token request with a browser session cookie and no CSRF token still succeeds."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(UserFactory())
    files = [
        SimpleUploadedFile("TEST-a.xml", pytest_xml("test_timeout_is_retried[eu]")),
        SimpleUploadedFile("TEST-b.xml", pytest_xml("test_other")),
    ]
    response = browser.post(
        reverse("ci:junit_upload") + "?branch=main&run_key=42", {"file": files}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 201, response.content
    assert response.json()["files"] == 2 and response.json()["complete"] is False

    done = browser.post(reverse("ci:run_complete", args=["42"]), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert done.json() == {"run": "42", "complete": True, "changed": 0}


@pytest.mark.parametrize(
    ("auth", "query", "body", "status", "field"),
    [
        ("", "?branch=main&commit=a", b"<x/>", 401, ""),
        ("Bearer wrong", "?branch=main&commit=a", b"<x/>", 401, ""),
        ("TOKEN", "?commit=a", pytest_xml("t"), 400, "branch"),
        ("TOKEN", "?branch=main", pytest_xml("t"), 400, "run_key"),
        ("TOKEN", "?branch=main&commit=a", b"not xml", 400, "file"),
        ("TOKEN", "?branch=main&commit=a", b"", 400, "file"),
    ],
)
def test_upload_endpoint_errors(client, token, auth, query, body, status, field):
    headers = {"HTTP_AUTHORIZATION": auth.replace("TOKEN", f"Bearer {token}")} if auth else {}
    response = client.post(reverse("ci:junit_upload") + query, body, content_type="application/xml", **headers)
    assert response.status_code == status
    assert response.json()["field"] == field
    assert not TestResult.objects.exists()


def test_upload_command(linked, tmp_path, capsys):
    report = tmp_path / "report.xml"
    report.write_bytes(pytest_xml("test_timeout_is_retried[eu]"))

    call_command("upload_junit", str(report), repository="acme/payments", branch="main", commit="abc", complete=True)

    assert state(linked) == "verified"
    said = capsys.readouterr().out
    assert said.startswith("1 file, 1 test (1 new file, 0 already uploaded), 0 linked, 1 regression test changed;")
    with pytest.raises(CommandError, match="No repository named 'acme/nope'"):
        call_command("upload_junit", str(report), repository="acme/nope", branch="main", commit="abc")
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"nope")
    with pytest.raises(CommandError, match=r"bad\.xml"):
        call_command("upload_junit", str(bad), repository="acme/payments", branch="main", commit="abc")


def test_repository_token_command_prints_a_working_token(client, capsys):
    RepositoryFactory(name="acme/web")
    call_command("repository_token", "acme/web")
    token = capsys.readouterr().out.splitlines()[1]
    response = client.post(
        reverse("ci:junit_upload") + "?branch=main&commit=a", pytest_xml("t"), content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert response.status_code == 201


BR28_CASE = '<testcase classname="pkg.RegTest" name="test_issue_123"><failure message="boom">x</failure></testcase>'


@pytest.mark.parametrize(
    "document",
    [
        '<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:noNamespaceSchemaLocation="surefire.xsd" name="pkg.RegTest" tests="1">{BR28_CASE}</testsuite>',
        f'<testsuites><testsuite name="pkg.RegTest" tests="1">{BR28_CASE}</testsuite></testsuites>',
        f'<testsuites><testsuite name="outer"><testsuite name="inner">{BR28_CASE}</testsuite></testsuite></testsuites>',
    ],
    ids=["bare-testsuite-with-namespace", "testsuites", "nested-testsuites"],
)
def test_every_document_shape_finds_the_linked_test_failing(document):
    """BR-28: the linked test is found, and failing, whatever the shape around it; totals count testcases."""
    postmortem = PostMortemFactory(published=True)
    repository = RepositoryFactory(default_branch="main")
    test, _ = regression_test_link(
        postmortem=postmortem, repository=repository, test_id="pkg.RegTest::test_issue_123", actor=None
    )

    result = ci_run_upload(repository=repository, branch="main", commit="c1", content=document.encode())

    assert result.tests == 1
    assert state(test) == "failing"


# --- Hostile run parameters (issue 12 items 3 and 4) ------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("branch=" + "b" * 201 + "&commit=a", "branch"),
        ("branch=main&commit=" + "c" * 101, "commit"),
        ("branch=main&commit=a&run_key=" + "r" * 201, "run_key"),
        ("branch=main&commit=a&url=https://ci.example.com/" + "u" * 500, "url"),
        ("branch=ma%00in&commit=a", "branch"),
        ("branch=main&commit=a%00", "commit"),
        ("branch=main&commit=a&url=javascript:alert(document.cookie)", "url"),
        ("branch=main&commit=a&url=JavaScript://%0aalert(1)", "url"),
        ("branch=main&commit=a&url=data:text/html,x", "url"),
        ("branch=main&commit=a&filename=a%00.xml", "filename"),
    ],
)
def test_bad_run_parameters_are_400_naming_the_field_and_store_nothing(client, token, query, field):
    response = client.post(
        reverse("ci:junit_upload") + "?" + query,
        pytest_xml("test_timeout_is_retried[eu]"),
        content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert not TestRun.objects.exists()


def test_a_run_url_that_is_not_http_is_never_a_link_even_if_stored_before_the_check(client, linked):
    """The stored-XSS report: a javascript: URL on a CI run rendered as a link on the post-mortem page."""
    upload(linked, pytest_xml("test_timeout_is_retried[eu]"), run_key="b1", url="https://ci.example.com/b1")
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    page = client.get(reverse("postmortems:detail", args=[linked.postmortem.pk])).content.decode()
    assert 'href="https://ci.example.com/b1"' in page

    TestRun.objects.update(url="javascript:alert(document.cookie)")  # a row stored before URLs were checked
    page = client.get(reverse("postmortems:detail", args=[linked.postmortem.pk])).content.decode()
    assert "javascript:" not in page


def test_the_command_names_the_bad_parameter(linked, tmp_path):
    report = tmp_path / "report.xml"
    report.write_bytes(pytest_xml("test_timeout_is_retried[eu]"))
    with pytest.raises(CommandError, match=r"--url: Give an http:// or https:// URL"):
        call_command("upload_junit", str(report), repository="acme/payments", branch="main", url="javascript:x")


# --- Test ids of any length (issue 12 item 4) ------------------------------------------------------------

LONG_PARAM_MODULE = """
import pytest

CASES = ["{}-{}".format("payload" * 160, i) for i in range(2)]


@pytest.mark.parametrize("body", CASES, ids=CASES)
def test_retries_keep_the_payload(body):
    assert body
"""


def test_a_real_pytest_id_of_over_a_thousand_characters_is_stored_matched_and_indexed(client, linked, token, tmp_path):
    """A parametrized id pytest writes is as long as its parameters: 1,138 characters refused every report of a team."""
    from tests.postmortems.producers import run_pytest

    report = run_pytest(tmp_path, LONG_PARAM_MODULE)
    long_id = f"test_regression.py::test_retries_keep_the_payload[{'payload' * 160}-1]"
    assert len(long_id) > 1138
    test, created = regression_test_link(
        postmortem=linked.postmortem, repository=linked.repository, test_id=long_id, actor=None
    )
    assert created

    response = client.post(
        reverse("ci:junit_upload") + "?branch=main&commit=long1",
        report,
        content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 201, response.content
    assert response.json()["tests"] == 2
    assert state(test) == "verified"
    assert TestResult.objects.get(test_id=long_id).outcome == "passed"
    again, created = regression_test_link(
        postmortem=linked.postmortem, repository=linked.repository, test_id=long_id, actor=None
    )
    assert (again.pk, created) == (test.pk, False)  # the key keeps it unique


def test_upload_command_counts_read_naturally_for_several(linked, tmp_path, capsys):
    """No "file(s)": one file reads as one, two as two (``upload_junit``'s summary)."""
    paths = []
    for n, cases in enumerate([("test_a", "test_b"), ("test_c",)]):
        paths.append(tmp_path / f"report-{n}.xml")
        paths[-1].write_bytes(pytest_xml(*cases))

    call_command("upload_junit", *map(str, paths), repository="acme/payments", branch="main", commit="abc")

    said = capsys.readouterr().out
    assert said.startswith("2 files, 3 tests (2 new files, 0 already uploaded), 0 linked, 0 regression tests changed;")


@pytest.mark.parametrize(
    ("good", "says"), [(1, "The file before it was stored."), (2, "The 2 files before it were stored.")]
)
def test_a_bad_file_after_good_ones_says_how_many_were_stored(linked, tmp_path, good, says):
    paths = [tmp_path / f"report-{n}.xml" for n in range(good + 1)]
    for n, path in enumerate(paths):
        path.write_bytes(pytest_xml(f"test_{n}") if n < good else b"not xml")

    with pytest.raises(CommandError) as refused:
        call_command("upload_junit", *map(str, paths), repository="acme/payments", branch="main", commit="abc")
    assert str(refused.value).endswith(says)
