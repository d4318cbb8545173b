"""Writing SLOs (create, change and delete) and a team's error-budget policy, for every door (the API, OpenSLO
import, the web form, the demo).

Each service takes the acting person (``actor``; None is sredesk itself) and
applies the one write rule (``ownership.permissions``: an SLO follows its
service, so its team's members and staff) before anything is written, then
checks the whole SLO (``SLO.full_clean``) so every door refuses the same
values with the same messages (Django ``ValidationError`` by field, 400 at the
API). Nothing is evaluated here: the beat's next evaluation (``slos.evaluate``,
every minute) computes the state of a new or changed SLO.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ownership.models import Service, Team, User
from ownership.permissions import require_write

from . import alerts
from .models import SLO, BudgetPolicy, BurnAlert
from .windows import window_of

# The fields a door may set; everything else (ids, times, state) is sredesk's.
WRITABLE = (
    "slug", "name", "description", "target", "window_kind", "window_days", "timezone", "sli_kind", "bucket_seconds",
    "good_query", "total_query", "min_severity", "measured_since", "min_coverage", "alert_min_bad_events",
    "absent_after_seconds", "paused",
)  # fmt: skip
SLUG_TAKEN = "This service already has an SLO with this slug."


def _save(slo: SLO) -> None:
    """``full_clean`` then save; a taken slug is an error on ``slug``, also when a concurrent write took it."""
    try:
        slo.full_clean(validate_constraints=False)  # the constraints' own messages name no field
    except ValidationError as exc:
        errors = exc.message_dict
    else:
        errors = {}
    if slo.service_id and SLO.objects.filter(service_id=slo.service_id, slug=slo.slug).exclude(pk=slo.pk).exists():
        errors.setdefault("slug", []).append(SLUG_TAKEN)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            slo.save()
    except IntegrityError as exc:
        if "slo_unique_slug_per_service" in str(exc):
            raise ValidationError({"slug": [SLUG_TAKEN]}) from None
        raise


def _unknown(fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - set(WRITABLE))
    if unknown:
        raise TypeError(f"Not writable SLO fields: {', '.join(unknown)}")


@transaction.atomic
def slo_create(*, actor: User | None, service: Service, **fields: Any) -> SLO:
    """A new SLO of ``service`` with ``fields`` (names of ``WRITABLE``; the model's defaults for the rest).

    Raises ``PermissionDenied`` unless ``actor`` may write the service's SLOs,
    ``ValidationError`` (by field) for values the SLO refuses, a slug the
    service already uses included.
    """
    _unknown(fields)
    slo = SLO(service=service, **fields)
    require_write(actor, slo)
    _save(slo)
    return slo


@transaction.atomic
def slo_update(*, slo_id: int, actor: User | None, service: Service | None = None, **fields: Any) -> SLO:
    """Change the fields given (and the service, when given: ``actor`` must may write both services' SLOs).

    The bucket length of an SLO that has samples cannot change (its stored
    buckets would no longer line up): make a new SLO instead. Raises
    ``SLO.DoesNotExist``, ``PermissionDenied``, ``ValidationError`` by field.
    """
    _unknown(fields)
    slo = SLO.objects.select_for_update().select_related("service").get(pk=slo_id)
    require_write(actor, slo)
    if "bucket_seconds" in fields and fields["bucket_seconds"] != slo.bucket_seconds and slo.samples.exists():
        raise ValidationError(
            {"bucket_seconds": ["This SLO has samples in buckets of its current length: create a new SLO instead."]}
        )
    for name, value in fields.items():
        setattr(slo, name, value)
    if service is not None and service.pk != slo.service_id:
        slo.service = service
        require_write(actor, slo)
    _save(slo)
    return slo


@transaction.atomic
def slo_delete(*, slo_id: int, actor: User | None) -> None:
    """Delete the SLO with its samples and state; its firing burn alerts are resolved first (through ingestion,
    so their incident is not left with an alert that nothing will ever resolve). Raises ``SLO.DoesNotExist``,
    ``PermissionDenied``."""
    slo = SLO.objects.select_for_update().select_related("service").get(pk=slo_id)
    require_write(actor, slo)
    firing = list(BurnAlert.objects.filter(slo=slo, firing=True).values_list("rule", flat=True))
    if firing:
        now = timezone.now()
        alerts.send_changes(slo, dict.fromkeys(firing, False), window_of(slo, now), now)
    slo.delete()


# The fields of a team's error-budget policy a door may set (``slos.policy`` reads them).
POLICY_WRITABLE = ("enabled", "threshold", "reminder_steps_sooner", "due_factor")


@transaction.atomic
def budget_policy_set(*, team: Team, actor: User | None, **fields: Any) -> BudgetPolicy:
    """Set the ``fields`` given (names of ``POLICY_WRITABLE``) of ``team``'s error-budget policy; a team without
    one starts from the default policy (the field defaults). Setting the same values again changes nothing but
    ``updated_at``; two first writes at once land on the one row (the one-to-one key) one after the other.

    Raises ``PermissionDenied`` unless ``actor`` may write the team's policy (its members and staff,
    ``ownership.permissions``), ``TypeError`` for another field, ``ValidationError`` by field for values the
    policy refuses (threshold 0..1, 0..5 steps, due factor 0.1..1).
    """
    unknown = sorted(set(fields) - set(POLICY_WRITABLE))
    if unknown:
        raise TypeError(f"Not writable policy fields: {', '.join(unknown)}")
    require_write(actor, BudgetPolicy(team=team))
    BudgetPolicy.objects.get_or_create(team=team)
    policy = BudgetPolicy.objects.select_for_update().get(team=team)
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.full_clean(validate_unique=False, validate_constraints=False)
    policy.save()
    return policy
