"""Writes to the service catalog shared by every front door (admin, API)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Service

SERVICE_CATALOG_FIELDS = ("description", "tier", "runbook_url", "dashboard_url", "alerts_url", "ci_reports_tests")


@transaction.atomic
def service_update(*, service_id: int, **changes) -> Service:
    """Change catalog fields of a service (those in SERVICE_CATALOG_FIELDS); no-op when nothing changes.

    Validates with the model's own rules (``full_clean``), so a bad URL or tier
    raises ValidationError naming the field. The owning team and the name are
    left to the admin: changing them moves write permissions.
    """
    unknown = set(changes) - set(SERVICE_CATALOG_FIELDS)
    if unknown:
        raise ValidationError({field: "Not an editable catalog field." for field in sorted(unknown)})
    service = Service.objects.select_for_update().get(pk=service_id)
    changed = [field for field, value in changes.items() if getattr(service, field) != value]
    if not changed:
        return service
    for field in changed:
        setattr(service, field, changes[field])
    service.full_clean(exclude=["team"])
    service.save(update_fields=changed)
    return service
