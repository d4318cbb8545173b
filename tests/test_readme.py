"""Every command the README shows runs as written against `make run`'s demo data (issue 15 item 6).

The README's ``sh`` blocks are read, split into commands, and each one runs in
order: ``manage.py`` commands in this process (``call_command`` parses the same
argv), ``curl`` commands in bash against a live server holding the demo data.
``<...>`` placeholders stand for what an earlier command printed and are filled
from its output; an example with a placeholder nobody printed fails here, as
does a command of a kind this test does not know (add it to ``NOT_AGAINST_THE_DEMO``
if it is not meant to run against the demo: servers, benchmarks, the test suite).
"""

import os
import re
import shlex
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from demo.loader import load_demo
from incidents.models import Alert, Integration

README = Path(__file__).resolve().parents[1] / "README.md"
MANAGE = ".venv/bin/python manage.py "
# Commands that start servers, run the test suite or benchmarks: not examples to run against the demo.
NOT_AGAINST_THE_DEMO = re.compile(r"^(make( |$)|\.venv/bin/pytest |DATABASE_URL=|[A-Z_]+=\S+ )")


def readme_commands(text: str) -> list[str]:
    """The commands of every ```sh block, continuation lines and multi-line quotes joined, comments kept."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        pending = ""
        for line in block.splitlines():
            pending = f"{pending}\n{line}" if pending else line
            if not pending.strip() or (pending.lstrip().startswith("#") and not pending.endswith("\\")):
                pending = ""
                continue
            if pending.endswith("\\"):
                continue
            try:
                shlex.split(pending, comments=True)
            except ValueError:  # a quote still open: the command goes on
                continue
            commands.append(pending)
            pending = ""
        assert not pending, f"unfinished command in the README: {pending!r}"
    return commands


def fill(command: str, printed: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        name = match[1]
        assert name in printed, f"the README's <{name}> is not printed by any command before: {command!r}"
        return printed[name]

    return re.sub(r"<([A-Za-z][A-Za-z ]*)>", value, command)


def remember(output: str, printed: dict[str, str]) -> None:
    """What later examples call ``<webhook URL>``, ``<token>`` and ``<key>``, from a command's output."""
    patterns = {
        "webhook URL": r"^Webhook URL:\s*(\S+)",
        "token": r"^Token:\s*(\S+)",
        "key": r"^API token for .*\n(\S+)",
    }
    for name, pattern in patterns.items():
        found = re.search(pattern, output, flags=re.MULTILINE)
        if found:
            printed[name] = found[1]


def test_the_readme_commands_are_found():
    commands = readme_commands(README.read_text())
    assert any(c.startswith(MANAGE + "create_integration") for c in commands)
    assert any(c.startswith("curl ") and "\n" in c for c in commands)  # a multi-line one is joined


@pytest.mark.django_db(transaction=True)
def test_every_readme_command_runs_against_the_demo_data(live_server, settings, tmp_path):
    settings.SREDESK_BASE_URL = live_server.url
    load_demo(demo_login=True)
    printed = {"base URL": live_server.url}
    ran = []

    for command in readme_commands(README.read_text()):
        if NOT_AGAINST_THE_DEMO.match(command):
            continue
        if command.startswith(MANAGE):
            argv = shlex.split(command.removeprefix(MANAGE), comments=True)
            assert not any("<" in arg for arg in argv), f"placeholder in {command!r}"
            out = StringIO()
            call_command(*argv, stdout=out)  # a CommandError fails the test with its sentence
            remember(out.getvalue(), printed)
        elif command.startswith("curl "):
            # --fail-with-body: an HTTP error status fails like a shell user would see it.
            runnable = "curl --fail-with-body -sS " + fill(command, printed).removeprefix("curl ")
            result = subprocess.run(
                ["bash", "-c", runnable], cwd=tmp_path, capture_output=True, text=True, timeout=60, env=os.environ
            )
            assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        else:
            pytest.fail(f"the README shows a command this test does not know how to run: {command!r}")
        ran.append(command)

    assert len(ran) >= 6
    # The examples did what the README says they do.
    assert set(Integration.objects.values_list("name", flat=True)) == {"Prod AM", "Try it", "Demo Alertmanager"}
    alert = Alert.objects.get(integration__name="Try it")
    assert alert.incident.primary_service.slug == "payments-api"
