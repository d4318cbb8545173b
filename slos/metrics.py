"""SLO gauges for Prometheus' ``/metrics`` (``sredesk.observability``), read from the stored state.

Nothing is aggregated at scrape time: the evaluation (beat, every minute)
stores each SLO's figures in ``SLOState``, and a scrape reads them with one
query whatever the number of SLOs. Labels: ``service`` and ``slo`` (slugs,
unique together) and ``team``. A figure the data cannot tell (no data, no
traffic; BR-36) has no sample at all rather than a made-up 100 %; its status
says why. An SLO not evaluated yet shows only in ``sredesk_slo_target_ratio``.
``sredesk_service_error_budget_policy_in_force`` says, per service with an SLO,
whether its team's error-budget policy holds it (``slos.policy``; one query more).
"""

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily

from .models import Status
from .policy import services_under_policy
from .selectors import slos_with_state, state_of
from .windows import BURN_WINDOWS, window_name

LABELS = ["service", "slo", "team"]


def slo_metric_families() -> Iterator[GaugeMetricFamily]:
    """The SLO gauges and the policy gauge, two queries."""
    target = GaugeMetricFamily("sredesk_slo_target_ratio", "The SLO's target (0.999 is 99.9 %).", labels=LABELS)
    attainment = GaugeMetricFamily(
        "sredesk_slo_attainment_ratio",
        "Good ÷ total over the covered part of the SLO's window at the last evaluation; absent without data.",
        labels=LABELS,
    )
    left = GaugeMetricFamily(
        "sredesk_slo_error_budget_remaining_ratio",
        "Error budget left as a fraction of the window's budget (1 untouched, 0 exhausted, negative overspent).",
        labels=LABELS,
    )
    left_amount = GaugeMetricFamily(
        "sredesk_slo_error_budget_remaining",
        "Error budget left in its unit: events (events SLIs) or seconds (the time SLI from incidents).",
        labels=[*LABELS, "unit"],
    )
    burn = GaugeMetricFamily(
        "sredesk_slo_burn_rate",
        "Error ratio ÷ (1 − target) over the last `window`; absent when that window has no data.",
        labels=[*LABELS, "window"],
    )
    coverage = GaugeMetricFamily(
        "sredesk_slo_coverage_ratio",
        "Part of the elapsed window that has SLI data (missing data is never counted as good).",
        labels=LABELS,
    )
    status = GaugeMetricFamily(
        "sredesk_slo_status",
        "1 for the SLO's status at the last evaluation, 0 for the others.",
        labels=[*LABELS, "status"],
    )
    computed = GaugeMetricFamily(
        "sredesk_slo_state_computed_timestamp_seconds",
        "Unix time of the SLO's last evaluation (a dead beat shows as a growing age).",
        labels=LABELS,
    )
    policy = GaugeMetricFamily(
        "sredesk_service_error_budget_policy_in_force",
        "1 while the team's error-budget policy holds the service (its post-mortems are reminded sooner, new ones "
        "due sooner), else 0; services with an SLO.",
        labels=["service", "team"],
    )
    held = set(services_under_policy().values_list("pk", flat=True))
    services: dict[int, list[str]] = {}
    for slo in slos_with_state():
        labels = [slo.service.slug, slo.slug, slo.service.team.slug if slo.service.team_id else ""]
        services[slo.service_id] = [labels[0], labels[2]]
        target.add_metric(labels, float(slo.target))
        state = state_of(slo)
        if state is None:
            continue
        for name in Status.values:
            status.add_metric([*labels, name], 1.0 if state.status == name else 0.0)
        computed.add_metric(labels, state.computed_at.timestamp())
        coverage.add_metric(labels, state.coverage)
        if state.attainment is not None:
            attainment.add_metric(labels, state.attainment)
        if state.budget_left_fraction is not None:
            left.add_metric(labels, state.budget_left_fraction)
        if state.budget_left is not None:
            left_amount.add_metric([*labels, "events" if slo.is_events else "seconds"], state.budget_left)
        for seconds in BURN_WINDOWS:
            rate = (state.burn_rates or {}).get(str(seconds))
            if rate is not None:
                burn.add_metric([*labels, window_name(seconds)], rate)
    for service_id, labels in services.items():
        policy.add_metric(labels, 1.0 if service_id in held else 0.0)
    yield from (target, attainment, left, left_amount, burn, coverage, status, computed, policy)
