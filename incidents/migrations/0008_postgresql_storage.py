"""PostgreSQL storage for the alert webhook's two busiest tables. SQLite: nothing to do.

- incidents_alert gets 30% free space per page: every notification of a
  firing alert bumps its row (last_seen_at, times_seen); with full pages each
  bump writes the new row version elsewhere and adds an entry to every index,
  with room PostgreSQL updates in place (HOT) and leaves the indexes alone.
  Existing pages keep their layout until rewritten.
- incidents_webhookdelivery.body (raw request bodies, kept for days) is
  compressed with lz4 instead of the default pglz: several times faster to
  compress, a little larger.
"""

from django.db import migrations

FILLFACTOR = 70


def set_fillfactor(apps, schema_editor, value: int = FILLFACTOR) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE incidents_alert SET (fillfactor = {int(value)})")
        schema_editor.execute("ALTER TABLE incidents_webhookdelivery ALTER COLUMN body SET COMPRESSION lz4")


def reset_fillfactor(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE incidents_alert RESET (fillfactor)")
        schema_editor.execute("ALTER TABLE incidents_webhookdelivery ALTER COLUMN body SET COMPRESSION DEFAULT")


class Migration(migrations.Migration):
    dependencies = [("incidents", "0007_timeline_announcement")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor, elidable=False)]
