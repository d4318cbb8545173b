"""What the HTTP benchmarks share: gunicorns on loopback ports, their CPU, and closed-loop client threads.

``bench/ingest.py`` and ``bench/slack.py`` each start two gunicorns (sredesk
and its floor, ``bench/floors.py``) with ``Server`` and send them the same
kind of load with ``drive``: a few client threads, each sending its next
request as soon as the previous one is answered, over keep-alive HTTP/1.1
(``http.client``; a server that closes after each response, as gunicorn's sync
worker does, is reconnected to). Any answer other than 200 fails the run.
CPU is read from ``/proc`` (Linux): the server's gunicorn workers, and its
PostgreSQL backends found by ``application_name`` (``bench-<label>``).
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import REPO

# (path, body, headers) of one request, or None: that client has nothing more to send.
Request = tuple[str, bytes, dict[str, str]] | None


class Failure(RuntimeError):
    """A client got an answer other than 200, or could not send."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_of(pid: int) -> float:
    """utime + stime of a process, in seconds (0 for one that has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_used(before: dict | None, after: dict | None) -> tuple[float, float] | None:
    """(gunicorn, postgres) CPU seconds between two snapshots; a process that started in between counts whole."""
    if before is None or after is None:
        return None
    used = {"gunicorn": 0.0, "postgres": 0.0}
    for key, seconds in after.items():
        used[key[0]] += seconds - before.get(key, 0.0)
    return used["gunicorn"], used["postgres"]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank; 0 for none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0


class Server:
    """One gunicorn on a free loopback port, its output in a log file; ``stop()`` ends it and its workers.

    ``args`` carries ``workers`` and ``worker_class``; anything else gunicorn should take (``--threads``) goes
    through ``GUNICORN_CMD_ARGS``, which both servers of a run read alike. The environment is this process's, with
    DEBUG off, connections kept (``DJANGO_CONN_MAX_AGE``) and the PostgreSQL backends named ``bench-<label>``.
    """

    def __init__(self, label: str, app: str, settings_module: str, args, logdir: Path) -> None:
        self.label = label
        self.port = free_port()
        self.log_path = logdir / f"{label}.log"
        env = dict(os.environ)
        parts = urlsplit(env["DATABASE_URL"])
        query = "&".join(filter(None, [parts.query, f"application_name=bench-{label}"]))
        env.update(
            DATABASE_URL=parts._replace(query=query).geturl(),  # names its PostgreSQL backends, for cpu_snapshot()
            DJANGO_SETTINGS_MODULE=settings_module,
            DJANGO_DEBUG="false",
            DJANGO_CONN_MAX_AGE="600",  # no reconnection during a run (it would also blur the CPU accounting)
            PYTHONUNBUFFERED="1",
        )
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            args.worker_class,
            "--log-level",
            "warning",
            "--error-logfile",
            "-",
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label} gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path)
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.label} gunicorn did not answer on port {self.port} within {timeout:.0f} s")

    def cpu_snapshot(self) -> dict[tuple[str, int], float] | None:
        """CPU seconds used so far by each of this server's gunicorn workers and their PostgreSQL backends.

        Keys ``("gunicorn", pid)`` and ``("postgres", pid)``; a server with no backend (no database) has gunicorn
        keys only. None when unknown (no /proc, or PostgreSQL on another host).
        """
        from django.db import connection

        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [f"bench-{self.label}"])
                backends = [pid for (pid,) in cursor.fetchall()]
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except (OSError, ValueError):
            return None
        if not all(Path(f"/proc/{pid}").exists() for pid in backends):
            return None
        return {("gunicorn", int(pid)): cpu_of(int(pid)) for pid in children} | {
            ("postgres", pid): cpu_of(pid) for pid in backends
        }

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()  # gunicorn's master stops its workers on SIGTERM
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: only what we started
            self.process.wait(timeout=5)


@dataclass
class ClientRun:
    """What one client thread did in a ``drive``: requests answered and each one's latency (seconds)."""

    sent: int = 0
    latencies: list[float] = field(default_factory=list)


def drive(
    port: int,
    clients: int,
    seconds: float,
    request_for: Callable[[int, int], Request],
    *,
    answered: Callable[[int, int, bytes], None] | None = None,
    timeout: float = 60.0,
) -> tuple[float, list[ClientRun]]:
    """``clients`` threads send requests to ``127.0.0.1:port`` POST for ``seconds``: (wall seconds, each client's run).

    Client ``n`` sends ``request_for(n, i)`` as its ``i``-th request (``i`` from 0) and stops early when it
    returns None. ``answered(n, i, body)``, when given, sees each answer's body in the client's thread (timed).
    The clocks start together (a barrier). Raises Failure, naming the client, on any answer other than 200.
    """
    barrier = threading.Barrier(clients + 1)
    results: list[ClientRun | BaseException | None] = [None] * clients
    stop = threading.Event()

    def client(n: int) -> None:
        run = ClientRun()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            barrier.wait()
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline and not stop.is_set():
                request = request_for(n, run.sent)
                if request is None:
                    break
                path, body, headers = request
                started = time.perf_counter()
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                answer = response.read()
                run.latencies.append(time.perf_counter() - started)
                if response.status != 200:
                    raise Failure(f"HTTP {response.status} from port {port}: {answer[:500]!r}")
                if response.will_close:
                    conn.close()  # gunicorn's sync worker closes after every response; reconnect on the next
                if answered is not None:
                    answered(n, run.sent, answer)
                run.sent += 1
            results[n] = run
        except BaseException as exc:  # handed to the main thread
            stop.set()
            results[n] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    runs = []
    for n, result in enumerate(results):
        if not isinstance(result, ClientRun):
            raise Failure(f"client {n}: {result}") from result
        runs.append(result)
    return elapsed, runs
