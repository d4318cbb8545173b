"""Beat builds its scheduler before Celery's SIGINT handler can ask it to save (sredesk/beat.py).

Celery's own beat installed that handler first and built the scheduler afterwards, so a Ctrl-C in beat's first
moments ran the handler on a half-built scheduler: tracebacks, ERROR lines, exit code 1 (CI saw it once in
test_make_run.py). The probe scheduler writes which SIGINT handler is installed while it is built; sredesk's beat
must build it under Python's default one, not Celery's, and a Ctrl-C right after "beat: Starting..." must stop it
with 0.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_beat_builds_its_scheduler_before_ctrl_c_can_save_it(tmp_path):
    probe = tmp_path / "probe"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "REDIS_", "DATABASE_", "SREDESK_"))}
    env.update(
        SREDESK_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'sredesk.sqlite3'}",
        BEAT_PROBE_FILE=str(probe),
        PYTHONUNBUFFERED="1",
    )
    command = [sys.executable, "-m", "celery", "-A", "sredesk", "beat", "--loglevel", "INFO"]
    beat = subprocess.Popen(
        [*command, "--scheduler", "tests.e2e.beat_probe:ProbeScheduler"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # As from a terminal: a background job (CI under nohup, `make test &`) inherits SIGINT ignored, and
        # Python then installs no default handler of its own.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    output = ""
    try:
        while "beat: Starting..." not in output:
            line = beat.stdout.readline()
            assert line, output
            output += line
        beat.send_signal(signal.SIGINT)
        output += beat.communicate(timeout=60)[0]
    finally:
        if beat.poll() is None:
            beat.kill()

    assert probe.read_text() == "default_int_handler\n", output  # not Celery's "...install_sync_handler.<locals>._sync"
    assert beat.returncode == 0, output
    assert "ERROR" not in output
