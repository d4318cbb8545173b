"""Integration writes shared by every door (the admin, ``manage.py create_integration``, the demo).

An integration's credentials are made here only: the bearer token (generated,
returned once, stored as its hash) and the signing secret (stored encrypted;
the rule for which kinds take one is ``Integration.clean``, checked by
``full_clean`` on every write below and by the admin's form).
"""

from django.db import transaction

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
