"""`make run`'s processes start quietly and stop cleanly on Ctrl-C (issue 15 item 10).

The Procfile runs under ``python -m sredesk.procfile`` (what ``make run`` starts)
in the embedded default: SQLite and the filesystem broker in a private folder,
on a free port. Ctrl-C (SIGINT to the foreground process group, as a terminal
sends it) must stop web, worker and beat each with exit code 0: no SIGKILL, no
pool process killed under the worker, no ERROR line, and no kombu warning
about a broker URL without a host at start-up.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fakes import wait_until

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_ctrl_c_stops_web_worker_and_beat_cleanly(tmp_path):
    port = free_port()
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "REDIS_", "DATABASE_", "SREDESK_"))}
    env.update(
        SREDESK_VAR_DIR=str(var),
        SREDESK_PORT=str(port),
        DATABASE_URL=f"sqlite:///{var / 'sredesk.sqlite3'}",
        PYTHONUNBUFFERED="1",
    )
    (tmp_path / "empty.env").write_text("")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        honcho = subprocess.Popen(
            [sys.executable, "-m", "sredesk.procfile", "-e", str(tmp_path / "empty.env")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own foreground group, like a terminal's
        )
    try:
        wait_until(
            # beat too: a SIGTERM before it has installed its handlers (its first seconds) ends it with rc=-15
            lambda: (
                answers(f"http://127.0.0.1:{port}/healthz")
                and "ready." in log.read_text()
                and "beat: Starting..." in log.read_text()
            ),
            timeout=120,
            what="web answering, the worker ready and beat started",
            interval=0.5,
            diagnostics=log.read_text,
        )
        started = time.monotonic()
        os.killpg(honcho.pid, signal.SIGINT)  # Ctrl-C
        honcho.wait(timeout=60)
        took = time.monotonic() - started
    finally:
        output = log.read_text()
        for pid in re.findall(r"started \(pid=(\d+)\)", output):  # leave nothing running, whatever happened
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(pid), signal.SIGKILL)
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)

    for name in ("web", "worker", "beat"):
        assert f"{name}.1 stopped (rc=0)" in output, output
    assert "SIGKILL" not in output
    assert "ERROR" not in output
    assert "No hostname was supplied" not in output
    assert took < 45
