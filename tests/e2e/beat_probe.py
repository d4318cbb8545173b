"""A beat scheduler for tests/e2e/test_beat_stop.py: writes what SIGINT's handler is while it is being built."""

import os
import signal

from celery.beat import PersistentScheduler


class ProbeScheduler(PersistentScheduler):
    """Celery's file scheduler that records, when built, whether a SIGINT handler other than Python's is installed."""

    def setup_schedule(self) -> None:
        handler = signal.getsignal(signal.SIGINT)
        with open(os.environ["BEAT_PROBE_FILE"], "a") as probe:
            probe.write("default\n" if handler is signal.default_int_handler else "celery's handler\n")
        super().setup_schedule()
