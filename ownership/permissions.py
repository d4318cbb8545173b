"""Who may change what: the write-permission rules, applied by every door.

The services enforce these rules (they take the acting person, ``actor``, and
raise ``sredesk.exceptions.PermissionDenied`` before anything is written), so
the web pages, the REST API, the admin and the commands that act for a person
all answer alike: there is one home for the rule, and it is here. Reading is
for everyone signed in.

**People.** ``actor`` is the signed-in person a door acts for. ``None`` is
sredesk itself (alert ingestion, workers, the CI path below), which acts under
its own rules; an anonymous user may write nothing.

- **Staff** (``is_staff`` or superuser) may write everywhere.
- **Incidents** belong to their owning team: its members may change them
  (notes, severity, title and summary, roles, responders, every lifecycle
  move). So may the incident's **commander**, appointed by someone who may
  write: appointing a commander (or a communications lead, or a responder) is
  itself a write to the incident, and at declaration only a person who may
  write for the owning team may name one (``require_declare``). Naming
  yourself commander is therefore never what gives you write access: only a
  team member, staff, or a commander they appointed (handing over command, as
  incident commanders do) can make you one. SRE teams often take an
  incident commander from outside the owning team (a central IC rotation);
  such a commander must be able to run the incident, hence the grant.
  An incident no team owns yet (an alert for an unknown service, or one
  declared without a service) is everyone's to triage: any signed-in person
  may write to it until it has a team.
- **Declaring** is open to every signed-in person, for any team: raising the
  alarm on another team's service must never wait for permission (the owning
  team is announced and paged). Only naming the commander needs write access
  to the owning team; a declarer from elsewhere leaves it empty.
- **Post-mortems, their action items and regression-test links** follow the
  incident's rule, and the post-mortem's **owner** may write to them too (the
  owner is the commander or the team's lead when the draft is made, or whoever
  a writer names since). An **action item**'s owner may change that action
  item (its status above all): follow-ups are often handed to another team,
  which must be able to say when its part is done. Owners too are named only
  by writers.
- **Services** (catalog fields) belong to their team: its members and staff.
  A service no team owns is staff's (it is configuration, not triage).
- **Integrations** (alert sources) are configuration shared by every team:
  staff only.
- **SLOs** and their pushed samples follow their service: its team's members
  and staff (moving an SLO to another service needs both services).
- A team's **error-budget policy** (how hard its spent services' post-mortems
  are chased) is the team's: its members and staff. Nobody tightens or
  loosens another team's policy.
- **On-call schedules** (layers, members, overrides) belong to the schedule's
  team: its members and staff, as services do. Nobody else puts a person on
  another team's rotation.
- **Swaps** of a schedule: a person asks for someone to take their own time on
  call (the schedule's writers may ask for them), and the asker and the
  schedule's writers may cancel it. Taking one is for oneself: anyone signed
  in who is on the schedule's team or has a place in one of its layers, never
  the asker (``may_take_swap``); the taker's override is the swap's, so taking
  needs no write access to the schedule itself.
- **A person's calendar feed** (their shifts across schedules) is theirs:
  they and staff issue or stop it.
- **Hand-off notes** are their author's own (the outgoing person's, who must
  be on call then or within a day, ``oncall.handoffs``); nobody writes one in
  another person's name, staff included.

**Not testable.** Letting a post-mortem owe no regression test (a waiver)
is asked for by its writers and decided by the owning team's lead or staff
(``may_approve_waiver``).

**CI tokens.** A repository's CI token acts for that repository alone: it may
link a test to a post-mortem (a test case's ``incident=INC-42`` property), and
so let that repository's runs verify it, only when the incident's services
(its primary service or one of its affected services) use that repository
(``ci_may_link``). Any other team's post-mortem is out of its reach: a link
there would mark the test verified and silence that team's reminders.
Tests a person links are that person's call, under the person's rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from sredesk.exceptions import PermissionDenied

from .models import Membership, Repository, Service, Team, User

if TYPE_CHECKING:  # the incident and post-mortem apps build on ownership, not the other way round
    from incidents.models import Incident
    from postmortems.models import PostMortem


def is_staff(user: Any) -> bool:
    """Staff or superuser: may write everywhere."""
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_member(user: Any, team_id: int | None) -> bool:
    """Whether ``user`` belongs to the team (one query; False for no team)."""
    return team_id is not None and Membership.objects.filter(team_id=team_id, user_id=user.pk).exists()


def may_write_incident(actor: User | None, incident: Incident) -> bool:
    """Staff, the owning team's members, the appointed commander; anyone signed in while no team owns it."""
    if actor is None:
        return True
    if not _signed_in(actor):
        return False
    if is_staff(actor) or incident.owning_team_id is None:
        return True
    return actor.pk == incident.commander_id or is_member(actor, incident.owning_team_id)


def may_write_postmortem(actor: User | None, postmortem: PostMortem) -> bool:
    """The incident's writers (``may_write_incident``) and the post-mortem's owner."""
    if actor is not None and _signed_in(actor) and actor.pk == postmortem.owner_id:
        return True
    return may_write_incident(actor, postmortem.incident)


def may_write_action_item(actor: User | None, item: Any) -> bool:
    """The post-mortem's writers (``may_write_postmortem``) and the action item's own owner."""
    if actor is not None and _signed_in(actor) and item.owner_id is not None and actor.pk == item.owner_id:
        return True
    return may_write_postmortem(actor, item.postmortem)


def may_write_service(actor: User | None, service: Service) -> bool:
    """Staff and the members of the service's team (a service no team owns: staff only)."""
    if actor is None:
        return True
    if not _signed_in(actor):
        return False
    return is_staff(actor) or is_member(actor, service.team_id)


def may_write_team(actor: User | None, team_id: int | None) -> bool:
    """A team's own settings (its error-budget policy): its members and staff."""
    if actor is None:
        return True
    if not _signed_in(actor):
        return False
    return is_staff(actor) or is_member(actor, team_id)


def may_write_schedule(actor: User | None, schedule: Any) -> bool:
    """An on-call schedule (its layers, members, overrides) is its team's: members and staff, as a service."""
    if actor is None:
        return True
    if not _signed_in(actor):
        return False
    return is_staff(actor) or is_member(actor, schedule.team_id)


def may_write_contact_rules(actor: User | None, person: Any) -> bool:
    """How pages reach a person (their contact rules, their own page webhook) is theirs, and staff's."""
    if actor is None:
        return True
    return _signed_in(actor) and (is_staff(actor) or actor.pk == person.pk)


def may_write_page_webhook(actor: User | None, webhook: Any) -> bool:
    """A page webhook (``notifications.PageWebhook``): a person's follows ``may_write_contact_rules``, a team's
    ``may_write_team`` (its members and staff)."""
    if webhook.user_id:
        return may_write_contact_rules(actor, webhook.user)
    return may_write_team(actor, webhook.team_id)


def may_write_swap(actor: User | None, swap: Any) -> bool:
    """Ask for or cancel a swap: its asker (for their own time) and the schedule's writers."""
    if actor is not None and _signed_in(actor) and actor.pk == swap.asked_by_id:
        return True
    return may_write_schedule(actor, swap.schedule)


def may_take_swap(actor: User | None, swap: Any) -> bool:
    """Take a swap for oneself: someone signed in, not its asker, on the schedule's team or in one of its layers'
    orders (any place, past or future: people who stand in for each other), or staff. Two queries at most."""
    if actor is None or not _signed_in(actor) or actor.pk == swap.asked_by_id:
        return False
    if is_staff(actor) or is_member(actor, swap.schedule.team_id):
        return True
    return swap.schedule.layers.filter(members__user_id=actor.pk).exists()


def require_take_swap(actor: User | None, swap: Any) -> None:
    """Raise ``PermissionDenied`` unless ``may_take_swap(actor, swap)``."""
    if not may_take_swap(actor, swap):
        if actor is not None and actor.pk == swap.asked_by_id:
            raise PermissionDenied("You asked for this swap: someone else takes it (or cancel it).")
        raise PermissionDenied("Only people on the schedule's team or in its rotation take its swaps.")


# On-call objects and the attribute path to the schedule whose rule they follow.
_SCHEDULE_OF = {"oncall.schedule": (), "oncall.layer": ("schedule",), "oncall.override": ("schedule",),
                "oncall.layermember": ("layer", "schedule")}  # fmt: skip


def may_write(actor: User | None, obj: Any) -> bool:
    """Whether ``actor`` may change ``obj``: an incident, post-mortem, action item, regression test, service, SLO,
    error-budget policy, on-call object or integration.

    Regression tests follow their post-mortem; action items too, and their owner. Raises
    TypeError for any other object (a door asking about something this
    module has no rule for is a bug, not a refusal).
    """
    label = obj._meta.label_lower
    if label == "incidents.integration":
        return actor is None or (_signed_in(actor) and is_staff(actor))
    if label == "incidents.incident":
        return may_write_incident(actor, obj)
    if label == "postmortems.postmortem":
        return may_write_postmortem(actor, obj)
    if label == "postmortems.actionitem":
        return may_write_action_item(actor, obj)
    if label == "postmortems.regressiontest":
        return may_write_postmortem(actor, obj.postmortem)
    if label == "ownership.service":
        return may_write_service(actor, obj)
    if label == "slos.slo":
        return may_write_service(actor, obj.service)
    if label == "notifications.pagewebhook":
        return may_write_page_webhook(actor, obj)
    if label == "notifications.contactrule":
        return may_write_contact_rules(actor, obj.user)
    if label == "slos.budgetpolicy":
        return may_write_team(actor, obj.team_id)
    if label == "oncall.swap":
        return may_write_swap(actor, obj)
    if label == "oncall.personcalendar":
        return actor is not None and _signed_in(actor) and (actor.pk == obj.user_id or is_staff(actor))
    if label == "oncall.handoffnote":
        return actor is not None and _signed_in(actor) and actor.pk == obj.author_id
    if label in _SCHEDULE_OF:
        for attribute in _SCHEDULE_OF[label]:
            obj = getattr(obj, attribute)
        return may_write_schedule(actor, obj)
    raise TypeError(f"No write rule for {label}.")


def denied_message(obj: Any) -> str:
    """Who may change ``obj``, as a sentence for the refusal."""
    label = obj._meta.label_lower
    if label == "incidents.integration":
        return "Only staff may change an integration's settings."
    if label == "ownership.service":
        return "Only members of the service's team and staff may change this service."
    if label == "slos.slo":
        return "Only members of the service's team and staff may change its SLOs."
    if label == "slos.budgetpolicy":
        return "Only members of the team and staff may change its error-budget policy."
    if label == "incidents.incident":
        return "Only members of the owning team, the incident commander and staff may change this incident."
    if label == "notifications.contactrule":
        return "Only the person themself and staff may change how pages reach them."
    if label == "notifications.pagewebhook":
        return "Only its owner (the person, or the team's members) and staff may change this page webhook."
    if label == "oncall.personcalendar":
        return "A person's calendar feed is theirs: only they and staff issue or stop it."
    if label == "oncall.handoffnote":
        return "A hand-off note is its author's own: write yours while you are on call."
    if label == "oncall.swap":
        return "Only the person who asked for this swap, members of the schedule's team and staff may change it."
    if label in _SCHEDULE_OF:
        return "Only members of the schedule's team and staff may change its on-call schedule."
    return (
        "Only members of the owning team, the incident commander, the post-mortem's owner and staff "
        "may change this post-mortem."
    )


def require_write(actor: User | None, obj: Any) -> None:
    """Raise ``PermissionDenied`` (403 at every door) unless ``may_write(actor, obj)``."""
    if not may_write(actor, obj):
        if actor is not None and not _signed_in(actor):
            raise PermissionDenied("Sign in to change anything.")
        raise PermissionDenied(denied_message(obj))


def require_declare(actor: User | None, *, owning_team: Team | None, commander: User | None) -> None:
    """Refuse a declaration that names a commander for a team the declarer may not write for.

    Anyone signed in may declare, for any team; appointing the commander is a
    write to the owning team's incident (see the module docstring). Raises
    ``PermissionDenied`` with ``field="commander"``, or a plain one for an
    anonymous declarer.
    """
    if actor is None:
        return
    if not _signed_in(actor):
        raise PermissionDenied("Sign in to declare an incident.")
    if commander is None or owning_team is None or is_staff(actor) or is_member(actor, owning_team.pk):
        return
    raise PermissionDenied(
        f"Only members of {owning_team.name} and staff may appoint the commander of its incident: "
        "leave it empty and the team will appoint one.",
        field="commander",
    )


def may_approve_waiver(actor: User | None, postmortem: PostMortem) -> bool:
    """Whether ``actor`` may approve or reject a "not testable" request (``postmortems.waivers``) for
    ``postmortem``: the lead of the incident's owning team, and staff. Nobody else, not even the requester:
    letting a post-mortem owe no regression test is the lead's call."""
    if actor is None or not _signed_in(actor):
        return False
    if is_staff(actor):
        return True
    team = postmortem.incident.owning_team
    lead = team.lead if team is not None else None
    return lead is not None and lead.pk == actor.pk


def require_approve_waiver(actor: User | None, postmortem: PostMortem) -> None:
    """Raise ``PermissionDenied`` unless ``may_approve_waiver(actor, postmortem)``."""
    if not may_approve_waiver(actor, postmortem):
        raise PermissionDenied("Only the owning team's lead and staff may decide whether a post-mortem owes no test.")


def ci_may_link(repository: Repository, postmortem: PostMortem) -> bool:
    """Whether ``repository``'s CI token may link (and so verify) tests for ``postmortem``. One query."""
    incident_id = postmortem.incident_id
    return Service.objects.filter(
        Q(incidents__id=incident_id) | Q(primary_incidents__id=incident_id), repositories=repository
    ).exists()
