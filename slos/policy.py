"""The error-budget policy: the one rule for which services have spent their budget, and what that changes.

A service is **under its team's error-budget policy** while one of its SLOs
(not paused, with a budget the data can tell: status ok, at risk or
exhausted) has ``budget_left_fraction`` at or below the threshold of its
owning team's ``BudgetPolicy`` (0 — exhausted — for a team without one), and
that policy is enabled. Then the post-mortems of incidents on that service
(their primary service) are reminded ``reminder_steps_sooner`` cadence steps
ahead (``postmortems.reminders``) and new ones are due after ``due_factor``
of the usual days (``postmortems.services``). The reminder sweep, the
post-mortem draft, the pages and the API all ask here.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, DecimalField, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.template.defaultfilters import pluralize

from ownership.models import Service, Team
from sredesk.templatetags.sredesk_ui import percent

from .models import SLO, BudgetPolicy, SLOState, Status

# Statuses whose budget the data can tell: a policy never bites on no data, no traffic or too little data.
TRUSTED = (Status.OK, Status.AT_RISK, Status.EXHAUSTED)
DEFAULT = BudgetPolicy()  # the field defaults: on, at exhaustion, one step sooner, due in half the time


def policy_for(team: Team | None) -> BudgetPolicy:
    """The team's policy, or the default one (unsaved) when it has none or there is no team."""
    if team is None:
        return DEFAULT
    try:
        return team.budget_policy
    except BudgetPolicy.DoesNotExist:
        return DEFAULT


def spent_slos(service_ref: OuterRef | Service):
    """SLO states of the service that put it under its team's policy (see the module docstring)."""
    threshold = Coalesce("slo__service__team__budget_policy__threshold", Value(DEFAULT.threshold))
    enabled = Coalesce("slo__service__team__budget_policy__enabled", Value(DEFAULT.enabled))
    return (
        SLOState.objects.filter(slo__service=service_ref, slo__paused=False, status__in=TRUSTED)
        .alias(threshold=threshold, policy_on=enabled)
        .filter(policy_on=True, budget_left_fraction__lte=F("threshold"))
    )


def under_policy_q(service_path: str = "pk") -> Q:
    """A condition on any model reaching a service by ``service_path`` (``"pk"`` on Service,
    ``"incident__primary_service"`` on PostMortem): the service is under its team's policy."""
    return Q(Exists(spent_slos(OuterRef(service_path))))


def steps_sooner(service_path: str) -> Case:
    """An expression on any model reaching a service by ``service_path`` (as ``under_policy_q``): how many
    reminder cadence steps ahead its post-mortems' reminders go, the team policy's ``reminder_steps_sooner``
    while the service is under it, else 0. One subquery in the statement (the reminder sweep stays flat)."""
    prefix = "" if service_path == "pk" else f"{service_path}__"
    steps = Coalesce(f"{prefix}team__budget_policy__reminder_steps_sooner", Value(DEFAULT.reminder_steps_sooner))
    return Case(When(under_policy_q(service_path), then=steps), default=Value(0), output_field=IntegerField())


def steps_sooner_by_service() -> dict[int, int]:
    """{service id: reminder steps ahead} for every service under its team's policy (absent: 0). One query over
    the services, whatever the number of post-mortems: the reminder sweep reads it once and looks each
    post-mortem's primary service up, instead of a subquery per post-mortem row."""
    rows = Service.objects.filter(under_policy_q()).annotate(steps=steps_sooner("pk")).values_list("pk", "steps")
    return dict(rows)


def policy_annotations(service_path: str = "pk") -> dict:
    """Annotations for a queryset of any model reaching a service by ``service_path`` (as ``under_policy_q``),
    for lists that show the policy without a query per row: ``budget_policy_in_force`` (bool),
    ``budget_policy_steps_sooner`` (reminder steps ahead, 0 when not in force) and ``budget_policy_due_factor``
    (of a new post-mortem's usual time, 1 when not in force)."""
    prefix = "" if service_path == "pk" else f"{service_path}__"
    factor = Coalesce(f"{prefix}team__budget_policy__due_factor", Value(DEFAULT.due_factor))
    return {
        "budget_policy_in_force": Exists(spent_slos(OuterRef(service_path))),
        "budget_policy_steps_sooner": steps_sooner(service_path),
        "budget_policy_due_factor": Case(
            When(under_policy_q(service_path), then=factor),
            default=Value(Decimal(1)),
            output_field=DecimalField(max_digits=3, decimal_places=2),
        ),
    }


def postmortem_due_in(service: Service | None, usual: dt.timedelta) -> tuple[dt.timedelta, "PolicyEffect | None"]:
    """How long a new post-mortem of an incident on ``service`` (its primary service) has: ``usual``, times the
    policy's ``due_factor`` while the service is under its team's policy. Returns (that time, the policy in force
    or None). Two queries when there is a service."""
    effect = policy_effect(service) if service is not None else None
    if effect is None:
        return usual, None
    return usual * float(effect.policy.due_factor), effect


def services_under_policy():
    """Services under their team's error-budget policy."""
    return Service.objects.filter(under_policy_q())


@dataclass(frozen=True)
class PolicyEffect:
    """The policy in force for one service, for pages to show: why, and what it changes."""

    policy: BudgetPolicy
    slos: list[SLO]

    @property
    def reason(self) -> str:
        """Why it is in force, e.g. "the error budget of “Availability” is exhausted" (one verb per count of SLOs)."""
        names, count = ", ".join(f"“{slo.name}”" for slo in self.slos), len(self.slos)
        if self.policy.threshold == 0:
            return f"the error budget{pluralize(count)} of {names} {pluralize(count, 'is,are')} exhausted"
        return (
            f"{names} {pluralize(count, 'is,are')} at or below {percent(self.policy.threshold, 0)} of "
            f"{pluralize(count, 'its,their')} error budget{pluralize(count)}"
        )

    @property
    def due_percent(self) -> str:
        """A new post-mortem's time to its due date, as a percentage of the usual ("50 %")."""
        return percent(self.policy.due_factor, 0)

    @property
    def sentence(self) -> str:
        """The policy in force and what it changes, as the pages show it."""
        steps = self.policy.reminder_steps_sooner
        return (
            f"Error-budget policy in force: {self.reason}. Post-mortems of this service's incidents are reminded "
            f"{steps} step{'' if steps == 1 else 's'} sooner, and new ones are due in {self.due_percent} of "
            "the usual time."
        )


def policy_effect(service: Service) -> PolicyEffect | None:
    """The policy in force for ``service``, with the SLOs that put it there; None when it is not under it."""
    states = spent_slos(service).select_related("slo")
    slos = [state.slo for state in states]
    if not slos:
        return None
    return PolicyEffect(policy_for(service.team), slos)
