"""Settings read from the environment: links follow the port `make run` serves on; bad values name the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def settings_in_subprocess(expr: str, **env: str) -> subprocess.CompletedProcess:
    """Evaluate ``expr`` on django.conf.settings in a fresh process with ``env`` (and no SREDESK_BASE_URL)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("SREDESK_BASE_URL", "SREDESK_PORT")}
    environ.update(env, DJANGO_SETTINGS_MODULE="sredesk.settings")
    code = f"import django; django.setup(); from django.conf import settings; print({expr})"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def test_links_point_at_the_port_make_run_serves_on():
    """Issue 15 item 5: with SREDESK_PORT=8110 every printed link used to say :8000."""
    moved = settings_in_subprocess("settings.SREDESK_BASE_URL", SREDESK_PORT="8110")
    default = settings_in_subprocess("settings.SREDESK_BASE_URL")
    given = settings_in_subprocess(
        "settings.SREDESK_BASE_URL", SREDESK_PORT="8110", SREDESK_BASE_URL="https://sredesk.example.com/"
    )

    assert moved.stdout.strip() == "http://127.0.0.1:8110", moved.stderr
    assert default.stdout.strip() == "http://127.0.0.1:8000", default.stderr
    assert given.stdout.strip() == "https://sredesk.example.com"  # a public URL is taken as given


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("SREDESK_PORT", "８１１０", "ASCII digits"),
        ("SREDESK_PORT", "0", "at least 1"),
        ("SREDESK_PORT", "70000", "at most 65535"),
        ("SREDESK_BASE_URL", "sredesk.example.com", "http:// or https://"),
        ("SREDESK_BASE_URL", "javascript:alert(1)", "http:// or https://"),
    ],
)
def test_a_bad_port_or_base_url_stops_every_process_with_a_sentence(name, value, problem):
    result = settings_in_subprocess("settings.SREDESK_BASE_URL", **{name: value})

    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert f"{name}={value!r}" in last and problem in last
