"""Reading SLOs for pages, the API and /metrics: each with its service and last state, in one query."""

from collections import defaultdict

from django.db.models.functions import Lower

from .models import SLO, BurnAlert, SLOState


def slos_with_state():
    """Every SLO with its service, owning team and last state (``slo.state``; missing before the first evaluation),
    by service name then SLO name, each regardless of case ("CI runners" after "Certificate service")."""
    return SLO.objects.select_related("service", "service__team", "state").order_by(
        Lower("service__name"), Lower("name"), "pk"
    )


def state_of(slo: SLO) -> SLOState | None:
    """The SLO's last state, or None before its first evaluation."""
    try:
        return slo.state
    except SLOState.DoesNotExist:
        return None


def slos_by_service(service_ids=None) -> dict[int, list[SLO]]:
    """SLOs (with state) grouped by service id, for the catalog and service pages. One query."""
    rows = slos_with_state()
    if service_ids is not None:
        rows = rows.filter(service_id__in=list(service_ids))
    grouped = defaultdict(list)
    for slo in rows:
        grouped[slo.service_id].append(slo)
    return grouped


def firing_alerts(slo: SLO) -> list[BurnAlert]:
    """The SLO's alert rules that are firing now, oldest first."""
    return list(slo.burn_alerts.filter(firing=True).order_by("starts_at"))
