"""A beat scheduler for tests/e2e/test_beat_stop.py: writes which SIGINT handler is installed while it is built."""

import os
import signal

from celery.beat import PersistentScheduler


class ProbeScheduler(PersistentScheduler):
    """Celery's file scheduler that records, when built, which SIGINT handler is installed (its qualified name)."""

    def setup_schedule(self) -> None:
        handler = signal.getsignal(signal.SIGINT)
        with open(os.environ["BEAT_PROBE_FILE"], "a") as probe:
            probe.write(f"{getattr(handler, '__qualname__', repr(handler))}\n")
        super().setup_schedule()
