from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Loop-closure and response reports"

    def ready(self) -> None:
        from sredesk.aggregates import register_sqlite_functions

        # The embedded SQLite has no percentile_cont: every connection gets ours (sredesk.aggregates).
        connection_created.connect(register_sqlite_functions, dispatch_uid="sredesk.aggregates.sqlite")
