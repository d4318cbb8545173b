"""Writes to the service catalog shared by every front door (admin, API)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from sredesk.tokens import new_token

from .models import ApiToken, Repository, Service, User
from .permissions import require_write

SERVICE_CATALOG_FIELDS = ("description", "tier", "runbook_url", "dashboard_url", "alerts_url", "ci_reports_tests")


@transaction.atomic
def service_update(*, service_id: int, actor: User | None, **changes) -> Service:
    """Change catalog fields of a service (those in SERVICE_CATALOG_FIELDS); no-op when nothing changes.

    Validates with the model's own rules (``full_clean``), so a bad URL or tier
    raises ValidationError naming the field. The owning team and the name are
    left to the admin: changing them moves write permissions. Raises
    PermissionDenied for an ``actor`` outside the service's team who is not staff.
    """
    unknown = set(changes) - set(SERVICE_CATALOG_FIELDS)
    if unknown:
        raise ValidationError({field: "Not an editable catalog field." for field in sorted(unknown)})
    service = Service.objects.select_for_update().get(pk=service_id)
    require_write(actor, service)
    changed = [field for field, value in changes.items() if getattr(service, field) != value]
    if not changed:
        return service
    for field in changed:
        setattr(service, field, changes[field])
    service.full_clean(exclude=["team"])
    service.save(update_fields=changed)
    return service


@transaction.atomic
def api_token_issue(*, user: User) -> str:
    """Issue ``user`` a new REST API token and return it; the previous one stops working.

    Only the hash is stored, so the token cannot be shown again: issue a new one instead.
    """
    token, digest = new_token("sdapi")
    ApiToken.objects.update_or_create(user=user, defaults={"key_hash": digest})
    return token


def api_token_revoke(*, user: User) -> bool:
    """Delete ``user``'s API token; returns whether there was one."""
    return ApiToken.objects.filter(user=user).delete()[0] > 0


@transaction.atomic
def repository_token_issue(*, repository_id: int) -> tuple[Repository, str]:
    """Issue the repository a new CI upload token and return it (shown once); the previous one stops working.

    Only its SHA-256 is stored (``sredesk.tokens``): lost, it is re-issued, never shown again. A CI token may
    upload reports for its repository and link tests only for post-mortems whose services use that repository
    (``ownership.permissions.ci_may_link``).
    """
    repository = Repository.objects.select_for_update().get(pk=repository_id)
    token, repository.ci_token_hash = new_token("sdci")
    repository.save(update_fields=["ci_token_hash"])
    return repository, token
