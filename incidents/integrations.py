"""Integration writes shared by every door (the admin, the API, ``manage.py create_integration``, the demo).

An integration's credentials are made here only: the bearer token (generated,
returned once, stored as its hash) and the signing secret (stored encrypted;
the rule for which kinds take one is ``Integration.clean``, checked by
``full_clean`` on every write below and by the admin's form).
"""

from django.db import transaction

from ownership.models import User
from ownership.permissions import require_write

from .models import Integration


@transaction.atomic
def integration_create(*, integration: Integration, signing_secret: str = "") -> tuple[Integration, str]:
    """Save a new ``integration`` (unsaved, its settings filled in) with a new token; returns it and the token.

    ``signing_secret`` is stored encrypted ("" for none). Raises
    ``ValidationError`` naming the field for a name in use, a setting out of
    range, or a signing secret on a kind that signs nothing
    (``Integration.clean``). The token is not stored: show it once.
    """
    if integration.pk is not None:
        raise ValueError("integration_create takes an unsaved integration")
    integration.signing_secret = signing_secret
    token = integration.set_new_token()
    integration.full_clean()
    integration.save()
    return integration, token


@transaction.atomic
def integration_token_rotate(*, integration_id: int) -> tuple[Integration, str]:
    """Give the integration a new bearer token and return it (shown once); the old one stops working at commit."""
    integration = Integration.objects.select_for_update().get(pk=integration_id)
    token = integration.set_new_token()
    integration.save(update_fields=["token_hash", "token_rotated_at"])
    return integration, token


@transaction.atomic
def integration_update(
    *,
    integration_id: int,
    actor: User | None,
    postmortem_min_duration_seconds: int | None = None,
    postmortem_requires_ack: bool | None = None,
) -> Integration:
    """Set which of the integration's incidents earn a post-mortem draft (``Integration.POSTMORTEM_FIELDS``).

    ``None`` leaves a setting as it is. ``postmortem_min_duration_seconds`` is
    the shortest incident (started to resolved, seconds, 0 to 7 days) that earns
    one; ``postmortem_requires_ack`` asks for a person's acknowledgement too.
    Applies to incidents resolved from now on. Raises ``PermissionDenied``
    unless ``actor`` may write it (staff; ``ownership.permissions``) and
    ``ValidationError`` naming the field for a value out of range.
    """
    integration = Integration.objects.select_for_update().get(pk=integration_id)
    require_write(actor, integration)
    changes = {"postmortem_min_duration_seconds": postmortem_min_duration_seconds,
               "postmortem_requires_ack": postmortem_requires_ack}  # fmt: skip
    changed = [name for name, value in changes.items() if value is not None]
    for name in changed:
        setattr(integration, name, changes[name])
    integration.full_clean()
    if changed:
        integration.save(update_fields=changed)
    return integration
