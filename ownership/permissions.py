"""Who may change what: the write-permission rules, applied by every door.

**CI tokens.** A repository's CI token acts for that repository alone: it may
link a test to a post-mortem (a test case's ``incident=INC-42`` property), and
so let that repository's runs verify it, only when the incident's services
(its primary service or one of its affected services) use that repository
(``ci_may_link``). Any other team's post-mortem is out of its reach: a link
there would mark the test verified and silence that team's reminders.
Tests a person links are that person's call, under the person's rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from .models import Repository, Service

if TYPE_CHECKING:  # the post-mortem app builds on ownership, not the other way round
    from postmortems.models import PostMortem


def ci_may_link(repository: Repository, postmortem: PostMortem) -> bool:
    """Whether ``repository``'s CI token may link (and so verify) tests for ``postmortem``. One query."""
    incident_id = postmortem.incident_id
    return Service.objects.filter(
        Q(incidents__id=incident_id) | Q(primary_incidents__id=incident_id), repositories=repository
    ).exists()
