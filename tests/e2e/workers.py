"""Real ``celery worker`` subprocesses for the end-to-end tests (the ``celery_workers`` fixture starts them).

Each worker runs in its own process group with the solo pool, so a test can
SIGKILL exactly one of them (``Worker.kill``) to play a crashed host.
"""

import contextlib
import http.client
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

from tests.fakes import FakeSlack, free_port, wait_until

SLACK_TOKEN = "xoxb-test"
WAIT = 60  # the longest any single wait may take, in seconds


def database_url() -> str:
    """A DATABASE_URL for the database this test is using (pytest-django's ``test_...`` one)."""
    db = settings.DATABASES["default"]
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{quote(db['NAME'], safe='')}"


@dataclass
class Worker:
    """One ``celery worker`` subprocess and its log file."""

    name: str
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_tail(self, lines: int = 60) -> str:
        state = "running" if self.alive() else f"exited with {self.process.returncode}"
        tail = "\n".join(self.log_text().splitlines()[-lines:])
        return f"--- celery worker {self.name} ({state}), last {lines} log lines ---\n{tail}"

    def received(self, task_id: str) -> bool:
        """Whether this worker took the message of task ``task_id`` (Celery logs ``Task name[id] received``)."""
        return f"[{task_id}] received" in self.log_text()

    def outcome(self, task_id: str) -> str | None:
        """What task ``task_id`` returned here (``'sent'``, ``'not_pending'``...), from its ``succeeded`` log line."""
        match = re.search(rf"\[{re.escape(task_id)}\] succeeded in [0-9.e-]+s: (.*)", self.log_text())
        return match.group(1).strip() if match else None

    def kill(self) -> None:
        """SIGKILL the worker's whole process group, as a host crash or the OOM killer would, and reap it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


class CeleryWorkers:
    """Starts real ``celery worker`` subprocesses for one test; ``stop_all`` runs in the fixture's finalizer."""

    def __init__(self, *, broker_url: str, fake_slack: FakeSlack, tmp_path: Path) -> None:
        self.broker_url = broker_url
        self.fake_slack = fake_slack
        self.tmp_path = tmp_path
        self.workers: list[Worker] = []

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        var_dir = self.tmp_path / "var"
        var_dir.mkdir(exist_ok=True)
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "sredesk.settings",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DJANGO_SECRET_KEY": "e2e-test-secret-key-not-for-production",
            "SREDESK_VAR_DIR": str(var_dir),
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SREDESK_SLACK_API_URL": self.fake_slack.url,
            "SREDESK_SLACK_TIMEOUT_SECONDS": "5",
            "SREDESK_LOG_LEVEL": "INFO",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
            **(extra or {}),
        }

    def start(self, name: str, *, beat: bool = False, env: dict[str, str] | None = None) -> Worker:
        """Start one worker (solo pool, queues ``default`` and ``notify``) without waiting for it to be ready."""
        command = [sys.executable, "-m", "celery", "-A", "sredesk", "worker"]
        if beat:
            command += ["--beat", "-s", str(self.tmp_path / f"celerybeat-schedule-{name}")]
        command += [
            "-Q", "default,notify", "--pool", "solo", "--concurrency", "1",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--hostname", f"e2e-{name}-{os.getpid()}@%h", "--loglevel", "INFO",
        ]  # fmt: skip
        log = self.tmp_path / f"worker-{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=self.environment(env),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: an embedded beat goes down with it
            )
        worker = Worker(name, process, log)
        self.workers.append(worker)
        return worker

    def start_beat(self, name: str, *, env: dict[str, str] | None = None) -> Worker:
        """Start a ``celery beat`` alone (no worker in it), so a test can kill workers and keep the schedule."""
        command = [sys.executable, "-m", "celery", "-A", "sredesk", "beat", "-s",
                   str(self.tmp_path / f"celerybeat-schedule-{name}"), "--loglevel", "INFO"]  # fmt: skip
        log = self.tmp_path / f"beat-{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=self.environment(env), stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        beat = Worker(name, process, log)
        self.workers.append(beat)
        return beat

    def start_web(self, name: str, *, env: dict[str, str] | None = None, workers: int = 1) -> tuple[Worker, int]:
        """Start gunicorn (``workers`` sync workers; one, as the Procfile's web) on a free loopback port, with the
        workers' environment (the same database, broker and Slack); returns it and its port once ``/healthz``
        answers."""
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "sredesk.wsgi", "--bind", f"127.0.0.1:{port}",
                   "--workers", str(workers)]  # fmt: skip
        log = self.tmp_path / f"web-{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=self.environment(env), stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        web = Worker(name, process, log)
        self.workers.append(web)

        def up() -> bool:
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                return connection.getresponse().status == 200
            return False

        wait_until(lambda: not web.alive() or up(), timeout=WAIT, what="gunicorn to answer /healthz",
                   diagnostics=web.log_tail)  # fmt: skip
        assert web.alive(), web.log_tail()
        return web, port

    def wait_ready(self, *workers: Worker) -> None:
        for worker in workers:
            wait_until(
                lambda w=worker: not w.alive() or "ready." in w.log_text(),
                timeout=WAIT,
                what=f"celery worker {worker.name} to be ready",
                diagnostics=worker.log_tail,
            )
            assert worker.alive(), worker.log_tail()

    def start_ready(self, name: str, *, beat: bool = False, env: dict[str, str] | None = None) -> Worker:
        worker = self.start(name, beat=beat, env=env)
        self.wait_ready(worker)
        return worker

    def logs(self, lines: int = 60) -> str:
        return "\n".join(worker.log_tail(lines) for worker in self.workers)

    def stop_all(self) -> None:
        """SIGTERM (warm shutdown), then SIGKILL to each worker's whole process group; prints the logs."""
        for worker in self.workers:
            if worker.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(worker.pid, signal.SIGTERM)
        for worker in self.workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=15)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)  # whatever is left in its group, embedded beat included
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=5)
        print(self.logs(200))  # pytest shows it only when the test failed
