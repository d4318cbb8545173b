"""Through which escalation step a service's paged person is reached at an instant (``GET /api/v1/oncall/``).

The step is the first step, in order, of the service's escalation policy whose targets reach the person then:
a person target naming them, or a schedule target whose final schedule (``oncall.selectors.on_call_at``, the
one function) names them at that instant. None when the service has no policy, nobody is paged, or no step
reaches the person (they are paged only as the service's responsibility says). A team-channel target reaches a
channel, not a person, and never answers.

Queries are flat in the number of services and schedules: steps with their targets in two, the schedule targets'
final schedules in four (only when a schedule target exists).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .models import EscalationPolicy, EscalationStep
from .paging import Paged
from .selectors import on_call_at


@dataclass(frozen=True)
class Through:
    """The policy and the step reaching the paged person; ``number`` is its 1-based place in the policy's order."""

    policy: EscalationPolicy
    step: EscalationStep
    number: int


def paged_through(answers: Iterable[Paged], at: dt.datetime) -> dict[int, Through]:
    """{service id: the step reaching its paged person at ``at``} for the answers that have one."""
    wanted = [a for a in answers if a.service is not None and a.person is not None and a.service.escalation_policy_id]
    if not wanted:
        return {}
    policy_ids = {a.service.escalation_policy_id for a in wanted}
    policies = EscalationPolicy.objects.in_bulk(policy_ids)
    ordered: dict[int, list[EscalationStep]] = defaultdict(list)
    for step in EscalationStep.objects.filter(policy_id__in=policy_ids).prefetch_related("targets"):
        ordered[step.policy_id].append(step)  # the model's order: policy, position, id
    schedules = {t.schedule_id for steps in ordered.values() for s in steps for t in s.targets.all() if t.schedule_id}
    on_call = on_call_at(schedules, at, ahead=dt.timedelta(hours=1)) if schedules else {}
    out = {}
    for answer in wanted:
        policy = policies.get(answer.service.escalation_policy_id)
        for number, step in enumerate(ordered.get(policy.pk, []) if policy else [], start=1):
            if any(_reaches(target, answer.person.pk, on_call) for target in step.targets.all()):
                out[answer.service.pk] = Through(policy, step, number)
                break
    return out


def _reaches(target, user_id: int, on_call) -> bool:
    if target.user_id is not None:
        return target.user_id == user_id
    if target.schedule_id is not None:
        shift = on_call.get(target.schedule_id, (None, None))[0]
        return shift is not None and shift.user_id == user_id
    return False
