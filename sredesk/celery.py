"""The Celery application: configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import worker_init
from kombu.utils.objects import cached_property

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sredesk.settings")


class SredeskCelery(Celery):
    """Celery with sredesk's beat program (sredesk.beat.Beat: safe to stop with Ctrl-C as soon as it starts)."""

    @cached_property
    def Beat(self):
        return self.subclass_with_self("sredesk.beat:Beat")


app = SredeskCelery("sredesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _worker_database_timeouts(**kwargs) -> None:
    """A worker's PostgreSQL connections wait on locks and statements at most SREDESK_WORKER_DB_* seconds."""
    from sredesk import dbtrouble

    dbtrouble.use_timeouts("worker")
