"""``/sredesk`` verbs that run an incident: ack, mitigate, resolve, reopen, sev, commander, note, status.

Each calls the domain service every door calls (``incidents.services``,
``incidents.update``) with ``source=slack``; the services apply the write
rule and are no-ops when the incident is already where asked.
"""

from django.utils import timezone

from incidents.models import Incident, Source, TimelineEvent
from incidents.moves import PAST, incident_move, who_and_when
from incidents.services import incident_add_note
from incidents.update import incident_assign_role, incident_set_severity
from sredesk.inputs import text_problem

from .commands import link, person_named, slack_escape, target_incident, usage
from .registry import Reply, SlackContext, SlackUserError, command

MOVES = {"ack": "acknowledge", "mitigate": "mitigate", "resolve": "resolve", "reopen": "reopen"}
NOTE_MAX = 10_000


def _move(ctx: SlackContext, verb: str) -> Reply:
    """The move through ``incidents.moves.incident_move``, the function the web and the API call: a repeat changes
    nothing and answers with its sentence (who got there first, and when)."""
    incident, _ = target_incident(ctx, verb)
    move = MOVES[verb]
    outcome = incident_move(verb=move, incident_id=incident.pk, actor=ctx.person, source=Source.SLACK)
    if not outcome.changed:
        return Reply(outcome.hint)
    incident = outcome.subject
    return Reply(
        f"<@{ctx.slack_user_id}> {PAST[move]} {link(incident)}: {slack_escape(incident.title)}", ephemeral=False
    )


def _by_whom(incident: Incident) -> str:
    """`` by Ada at 2026-12-05 14:02 UTC`` for an acknowledged incident (the first acknowledgement), else ""."""
    if incident.status != Incident.Status.ACKNOWLEDGED or incident.acknowledged_at is None:
        return ""
    return " " + who_and_when(incident, "acknowledge")


@command("ack")
def ack(ctx: SlackContext) -> Reply:
    """Acknowledge (a repeat says who acknowledged first, and when)."""
    return _move(ctx, "ack")


@command("mitigate")
def mitigate(ctx: SlackContext) -> Reply:
    """Mark the impact stopped."""
    return _move(ctx, "mitigate")


@command("resolve")
def resolve(ctx: SlackContext) -> Reply:
    """Resolve (the post-mortem draft follows for severities that need one)."""
    return _move(ctx, "resolve")


@command("reopen")
def reopen(ctx: SlackContext) -> Reply:
    """Back to triggered."""
    return _move(ctx, "reopen")


@command("sev")
def sev(ctx: SlackContext) -> Reply:
    """``sev 2`` (or ``sev SEV2``): change the severity; raising it is an escalation and announced."""
    incident, rest = target_incident(ctx, "sev")
    value = rest.strip().lower().removeprefix("sev")
    if value not in ("1", "2", "3", "4"):
        raise SlackUserError(f"Give a severity from 1 (worst) to 4: {usage('sev')}, e.g. `sev 2`.")
    before = incident.get_severity_display()
    incident = incident_set_severity(
        incident_id=incident.pk, severity=int(value), actor=ctx.person, source=Source.SLACK
    )
    if incident.get_severity_display() == before:
        return Reply(f"{link(incident)} is {before} already.")
    return Reply(
        f"<@{ctx.slack_user_id}> changed {link(incident)} from {before} to {incident.get_severity_display()}.",
        ephemeral=False,
    )


@command("commander")
def commander(ctx: SlackContext) -> Reply:
    """``commander @person``: hand over command (the service's rule decides who may appoint)."""
    incident, rest = target_incident(ctx, "commander")
    words = rest.split()
    if len(words) != 1:
        raise SlackUserError(f"Name one person: {usage('commander')}, e.g. `commander @ada`.")
    person = person_named(words[0])
    incident = incident_assign_role(
        incident_id=incident.pk, role="commander", user=person, actor=ctx.person, source=Source.SLACK
    )
    return Reply(f"{person} is now the incident commander of {link(incident)}.", ephemeral=False)


@command("note")
def note(ctx: SlackContext) -> Reply:
    """``note <text>``: add a note to the timeline (mentions and links kept as Slack sent them)."""
    incident, text = target_incident(ctx, "note")
    if not text.strip():
        raise SlackUserError(f"Say what to note: {usage('note')}.")
    problem = text_problem(text, NOTE_MAX)
    if problem:
        raise SlackUserError(f"The note cannot be saved: {problem}")
    incident_add_note(incident_id=incident.pk, text=text, actor=ctx.person, source=Source.SLACK)
    return Reply(f"Noted on {link(incident)}.")


@command("status")
def status(ctx: SlackContext) -> Reply:
    """Where the incident stands: status, severity, team, commander, times, the last timeline entries."""
    incident, _ = target_incident(ctx, "status")
    now = timezone.now()
    lines = [
        f"*{link(incident)}* {slack_escape(incident.title)}",
        f"{incident.get_severity_display()} · {incident.get_status_display()}{_by_whom(incident)} · "
        f"team: {incident.owning_team or 'none'} · commander: {incident.commander or 'none'}",
        f"Detected {_ago(now - incident.detected_at)} ago"
        + (f", resolved {_ago(now - incident.resolved_at)} ago" if incident.resolved_at else ""),
    ]
    last = TimelineEvent.objects.filter(incident=incident).order_by("-at", "-id")[:3]
    lines += [f"• {e.at:%H:%M} UTC {slack_escape(e.message[:200])}" for e in reversed(last)]
    return Reply("\n".join(lines))


def _ago(delta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} days"
