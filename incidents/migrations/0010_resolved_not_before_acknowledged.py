"""Existing rows whose resolution was stored before their acknowledgement (an alert's ``endsAt`` written after a
person's acknowledge: issue 13, the kind of BR-15/BR-22) get the time the lifecycle rule gives them now: a
resolution is never before the acknowledgement, so ``resolved_at`` moves up to ``acknowledged_at``. The
timeline keeps the entries as they were written. Runs before 0011 adds the constraint."""

from django.db import migrations
from django.db.models import F


def resolved_not_before_acknowledged(apps, schema_editor):
    Incident = apps.get_model("incidents", "Incident")
    Incident.objects.filter(resolved_at__lt=F("acknowledged_at")).update(resolved_at=F("acknowledged_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0009_drop_indexes_covered_by_composites"),
    ]

    operations = [
        migrations.RunPython(resolved_not_before_acknowledged, migrations.RunPython.noop, elidable=True),
    ]
