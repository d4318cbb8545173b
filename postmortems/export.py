"""Markdown export of a whole post-mortem, in the section order of the Google SRE book's example."""

from slos.budget import incident_budget

from .models import PostMortem

SECTIONS = [
    ("summary", "Summary"),
    ("impact", "Impact"),
    ("trigger", "Trigger"),
    ("root_cause", "Root cause"),
    ("detection", "Detection"),
    ("resolution", "Resolution"),
    ("went_well", "What went well"),
    ("went_wrong", "What went wrong"),
    ("got_lucky", "Where we got lucky"),
    ("timeline", "Timeline"),
]


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|") or "—"


def postmortem_markdown(postmortem: PostMortem) -> str:
    """The post-mortem as one Markdown document: header, sections, action items, regression tests.

    The impact section ends with what the incident used of each SLO's error budget (``slos.budget``).

    Times are UTC with their date. Empty sections are kept with "—" so a
    reader sees what is missing.
    """
    incident = postmortem.incident
    lines = [
        f"# {incident.public_id} post-mortem: {incident.title}",
        "",
        f"- Severity: {incident.get_severity_display()}",
        f"- Status: {postmortem.get_status_display()}",
        f"- Owner: {postmortem.owner or '—'}",
        f"- Due: {postmortem.due_at:%Y-%m-%d %H:%M} UTC",
        f"- Incident started {incident.started_at:%Y-%m-%d %H:%M} UTC, "
        f"detected {incident.detected_at:%Y-%m-%d %H:%M} UTC"
        + (f", resolved {incident.resolved_at:%Y-%m-%d %H:%M} UTC" if incident.resolved_at else ""),
    ]
    if postmortem.source_url:
        lines.append(f"- Public write-up: {postmortem.source_url}")
    budget = incident_budget(incident)
    for field, title in SECTIONS:
        lines += ["", f"## {title}", "", getattr(postmortem, field).strip() or "—"]
        if field == "impact" and budget:
            lines += ["", "Error budget:", ""]
            lines += [f"- {use.slo.name} ({use.slo.service.slug}): {use.sentence}." for use in budget]
    lines += ["", "## Action items", ""]
    items = list(postmortem.action_items.select_related("owner"))
    if items:
        lines += ["| Action item | Kind | Priority | Owner | Due | Status | Tracker |", "|---|---|---|---|---|---|---|"]
        for item in items:
            due = f"{item.due_date:%Y-%m-%d}" if item.due_date else "—"
            lines.append(
                f"| {_cell(item.title)} | {item.get_kind_display()} | {item.get_priority_display()} | "
                f"{_cell(item.owner or '')} | {due} | {item.get_status_display()} | {_cell(item.tracker_url)} |"
            )
    else:
        lines.append("—")
    lines += ["", "## Regression tests", ""]
    tests = list(postmortem.regression_tests.select_related("repository"))
    for test in tests:
        lines.append(
            f"- `{test.test_id}` in {test.repository}: {test.get_state_display().lower()} "
            f"since {test.state_changed_at:%Y-%m-%d %H:%M} UTC"
        )
    if not tests:
        lines.append("— (none linked yet)")
    return "\n".join(lines) + "\n"
