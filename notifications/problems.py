"""Slack errors a person must fix, made visible on the workspace, the team or the person they concern.

A delivery or a channel step that meets such an error (``slack_api.NEEDS_PERSON``:
``invalid_auth``, ``account_inactive``, ``not_in_channel``, ``channel_not_found``,
``user_not_found``...) stops retrying and calls ``slack_problem_record``; the
problem then shows in the admin's Slack health view, on the team in the admin,
and on the person's profile (``person_reach`` gaps) until the same kind of call
succeeds again (``slack_problems_clear``) or an operator marks it fixed.
"""

import logging

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import DeliveryBase, SlackProblem
from .slack_api import NEEDS_PERSON, WORKSPACE_ERRORS, plain_words, record_failure

logger = logging.getLogger(__name__)


def _owner(error: str, target: str, team, person) -> tuple[str, object, object]:
    """(key, team, person) a problem belongs to: the workspace for token errors, else whom ``target`` names."""
    from ownership.models import Team, User

    if error in WORKSPACE_ERRORS:
        return "workspace", None, None
    if team is None and person is None and target:
        team = Team.objects.filter(Q(slack_channel=target) | Q(slack_channel=f"#{target}")).first()
        if team is None:
            person = User.objects.filter(slack_user_id=target).first()
    if team is not None:
        return f"team:{team.pk}", team, None
    if person is not None:
        return f"person:{person.pk}", None, person
    return "workspace", None, None


def slack_problem_record(error: str, *, method: str, target: str = "", team=None, person=None) -> SlackProblem:
    """Record (or count again) the open problem ``error`` of ``method`` on ``target``; returns its row.

    It belongs to ``team`` or ``person`` when given, else to the team whose
    channel or the person whose member id ``target`` is, else to the workspace;
    token errors always to the workspace. One open row per (owner, error,
    target): a concurrent recorder that loses the insert counts on the winner's row.
    """
    key, team, person = _owner(error, target, team, person)
    now = timezone.now()
    open_rows = SlackProblem.objects.filter(key=key, error=error, target=target, fixed_at__isnull=True)
    if not open_rows.update(last_seen_at=now, occurrences=F("occurrences") + 1, method=method):
        try:
            with transaction.atomic():
                return SlackProblem.objects.create(
                    key=key, team=team, person=person, error=error, method=method, target=target,
                    words=plain_words(error, target), first_seen_at=now, last_seen_at=now,
                )  # fmt: skip
        except IntegrityError:  # another worker opened it first
            open_rows.update(last_seen_at=now, occurrences=F("occurrences") + 1)
    logger.warning("Slack problem needs a person", extra={"key": key, "error": error, "target": target})
    return open_rows.first()


def slack_problems_clear(*, target: str = "", workspace: bool = False) -> int:
    """Mark fixed the open problems about ``target`` (a call to it succeeded), or the workspace's token problems
    (``workspace=True``: the token works again). Returns how many."""
    rows = SlackProblem.objects.filter(fixed_at__isnull=True)
    rows = rows.filter(key="workspace", error__in=WORKSPACE_ERRORS) if workspace else rows.filter(target=target)
    if not workspace and not target:
        return 0
    return rows.update(fixed_at=timezone.now())


def open_slack_problems(*, team=None, person=None):
    """The open problems of ``team`` or ``person`` (or all, with neither), newest first."""
    rows = SlackProblem.objects.filter(fixed_at__isnull=True)
    if team is not None:
        rows = rows.filter(key=f"team:{team.pk}")
    if person is not None:
        rows = rows.filter(key=f"person:{person.pk}")
    return rows


def channel_failed(channel: str, address: str, exc, *, method: str = "chat.postMessage") -> None:
    """A delivery to ``address`` on ``channel`` failed with ``exc`` (a NotifyError) calling ``method`` (Slack's
    ``chat.postMessage``, or ``chat.update`` for a message edited in place): for Slack, record the failure for the
    health view, and make an error a person must fix (``exc.code`` in NEEDS_PERSON) a visible problem of the team
    whose channel, or the person whose member id, ``address`` is."""
    if channel != DeliveryBase.Channel.SLACK:
        return
    code = getattr(exc, "code", "") or "error"
    record_failure(method, code, target=address)
    if code in NEEDS_PERSON:
        slack_problem_record(code, method=method, target=address)


def channel_reached(channel: str, address: str) -> None:
    """A delivery to ``address`` on ``channel`` succeeded: Slack problems about that address are fixed."""
    if channel == DeliveryBase.Channel.SLACK:
        slack_problems_clear(target=address)
