"""``make run``'s process manager: honcho running the Procfile, stopping every process cleanly on Ctrl-C.

Run as ``python -m sredesk.procfile`` (the app never imports it). Two of
honcho's choices, neither configurable in honcho 2.0, broke a clean stop:

* it sends SIGTERM to each process's whole *group*, so a Celery worker's pool
  processes are killed under it (one ``ERROR ... exited with 'signal 15'`` each)
  instead of being closed by their parent, which is how Celery and gunicorn
  want to be stopped (the signal goes to the main process; it stops its own
  children after their current work);
* it sends SIGKILL 5 s later (``honcho.manager.KILL_WAIT``), and a worker's warm
  shutdown on the filesystem broker takes longer: its loop waits for the broker
  in 2-second polls (twice before it sees the stop), then the pool finishes.

So here SIGTERM goes to the process honcho started (each Procfile line ``exec``s
its program, so that is gunicorn's master or Celery's main process, not a
shell), and SIGKILL, to the whole group, only after ``SHUTDOWN_WAIT`` seconds.
"""

import contextlib
import os
import signal
import sys

from honcho import command, compat, manager

SHUTDOWN_WAIT = 30  # seconds; gunicorn's graceful timeout, the longest any process here may take


class ProcessManager(compat.ProcessManager):
    """honcho's, with SIGTERM to the process itself rather than to its group (SIGKILL still takes the group)."""

    def terminate(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


manager.ProcessManager = ProcessManager  # honcho's Manager builds its ProcessManager from this module name
manager.KILL_WAIT = SHUTDOWN_WAIT

if __name__ == "__main__":
    sys.exit(command.main(["start", *sys.argv[1:]]))
