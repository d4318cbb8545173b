"""``repository_token`` prints a curl line that works when pasted into a shell (issue 15 item 5)."""

import os
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command

from postmortems.models import TestRun
from tests.factories import RepositoryFactory

PASSING = b'<testsuite name="pytest"><testcase classname="tests.test_pay" name="test_retry" time="0.1"/></testsuite>'


@pytest.mark.django_db(transaction=True)
def test_the_printed_upload_command_runs_as_pasted_and_expands_the_commit(live_server, settings, tmp_path):
    settings.SREDESK_BASE_URL = live_server.url
    RepositoryFactory(name="acme/payments", default_branch="release/$(touch pwned)")
    out = StringIO()
    call_command("repository_token", "acme/payments", stdout=out)
    [command] = [line for line in out.getvalue().splitlines() if line.startswith("curl ")]
    (tmp_path / "report.xml").write_bytes(PASSING)

    pasted = subprocess.run(
        ["bash", "-c", command],
        cwd=tmp_path,
        env={**os.environ, "GIT_COMMIT": "4f9c2e1"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert pasted.returncode == 0, pasted.stderr
    run = TestRun.objects.get()
    assert run.commit == "4f9c2e1"  # the single-quoted URL used to send the letters "$GIT_COMMIT"
    assert run.branch == "release/$(touch pwned)"  # the branch reached the server as written ...
    assert not (tmp_path / "pwned").exists()  # ... and the shell ran nothing from it
    assert run.complete
