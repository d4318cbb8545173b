"""``celery beat`` for sredesk: the schedule is loaded before Ctrl-C can ask beat to save it.

Celery's beat installs its SIGINT/SIGTERM handler, which saves the schedule and exits, *before* it builds its
scheduler (``Service.scheduler`` is built lazily in ``Service.start``). A Ctrl-C in that moment ran the handler while
the scheduler was half built: the handler built a second one, whose imports (``dbm.ndbm``, the ``latin-1`` codec of
``dbm.dumb``) found modules the first had half imported. Beat then printed tracebacks and ERROR lines and exited
with code 1 instead of 0 (seen under ``make run`` and in tests/e2e/test_make_run.py on a busy machine).

:class:`Beat` builds the scheduler first, then installs Celery's handler, so the handler only ever saves a
scheduler that exists. "beat: Starting..." is logged after both.
"""

from celery.apps.beat import Beat as CeleryBeat


class Beat(CeleryBeat):
    """Celery's beat program with its scheduler built before the sync handler is installed."""

    def install_sync_handler(self, service) -> None:
        service.scheduler  # noqa: B018 -- a cached property: builds the scheduler (opens its store) now
        super().install_sync_handler(service)
