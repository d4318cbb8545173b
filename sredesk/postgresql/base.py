"""Django's PostgreSQL backend with every bulk statement bounded in parameters.

Django splits bulk operations (``bulk_create``, ``bulk_update``, the deletion
collector's ``IN`` lists when a delete cascades, django-simple-history's bulk
history rows) into batches only where the backend reports a limit; SQLite and
Oracle do, PostgreSQL does not, so on PostgreSQL a bulk operation over N rows is
ONE statement with N x columns parameters, and past 65,535 PostgreSQL refuses
it (``number of parameters must be between 0 and 65535``). This backend reports
the limit: at most ``MAX_PARAMETERS`` per statement (half the server's, because
``bulk_update`` binds two per field and row: a ``WHEN pk THEN value`` pair).

Selected in ``sredesk.settings.core`` for every ``postgres://`` ``DATABASE_URL``.
"""

from django.db.backends.postgresql import base, operations

MAX_PARAMETERS = 32_767


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields, objs) -> int:
        """Rows per statement: as many as keep ``len(fields)`` parameters a row under ``MAX_PARAMETERS``."""
        return max(1, min(len(objs), MAX_PARAMETERS // max(len(fields), 1)))


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
