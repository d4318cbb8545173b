"""The weekly summary: last ISO week's figures to each team's channel, once per team and week.

Sent by the hourly beat task ``reports.weekly_summaries`` for the last
complete ISO week (Monday 00:00 UTC to Monday 00:00 UTC), so the first run
of a week sends and every later one (another hour, a second beat, a second
worker, a redelivered task) finds its key taken: each summary is a
``notifications.services.notify`` under the key
``weekly-report:<team id>:<ISO year>-W<week>``, which the
``Notification.dedup_key`` unique constraint holds to one row per channel
and address. It goes to the team's Slack channel (when Slack is configured
and the team has one) and to the outbox as ``team:<slug>``.
"""

import datetime as dt

from django.conf import settings
from django.urls import reverse

from notifications.services import notify
from ownership.models import Team
from sredesk.templatetags.sredesk_ui import duration

from .figures import report
from .period import Period, iso_week


def last_week(now: dt.datetime) -> Period:
    """The last complete ISO week before the aware instant ``now`` (UTC)."""
    return iso_week(now.astimezone(dt.UTC).date() - dt.timedelta(days=7))


def summary_text(figures: dict, week: Period) -> str:
    """The summary of one team's ``figures`` (a ``reports.figures.report`` row) for ``week``, as plain lines."""
    year, number, _ = week.start.isocalendar()
    pm, rt = figures["postmortems"], figures["regression_tests"]
    wait, green = pm["published_to_verified_seconds"], rt["time_to_green_seconds"]
    last_day = week.end - dt.timedelta(days=1)
    lines = [
        f"{figures['group']['name']}, week {year}-W{number:02d} ({week.start:%d %b} – {last_day:%d %b %Y} UTC)",
        f"Post-mortems: {pm['published']} published, {pm['declined']} declined; "
        f"{pm['with_verified_test']} with a verified regression test; "
        f"{pm['owing_regression_test']} owing a regression test since this week.",
    ]
    if wait["count"]:
        lines.append(f"Published → verified: median {duration(wait['median'])}, p90 {duration(wait['p90'])}.")
    lines.append(
        f"Regression tests: {rt['turned_red']} turned failing or missing, {rt['green_again']} green again"
        + (f" (median {duration(green['median'])})." if green["count"] else ".")
    )
    incidents = [s for s in figures["incidents"]["by_severity"] if s["count"]]
    if not incidents:
        lines.append("Incidents: none detected.")
    for s in incidents:
        tta, ttr = s["time_to_acknowledge_seconds"], s["time_to_resolve_seconds"]
        lines.append(
            f"{s['severity']}: {s['count']} incident{'s' if s['count'] != 1 else ''}, "
            f"MTTA {duration(tta['mean'])}, MTTR {duration(ttr['mean'])}"
            + (f" ({ttr['count']} resolved)." if ttr["count"] != s["count"] else ".")
        )
    return "\n".join(lines)


def weekly_summaries_send(*, now: dt.datetime) -> int:
    """Plan last week's summary for every team, once per team and ISO week (module docstring).

    Returns how many notification rows this call created (0 when every team's summary for that week
    was already planned)."""
    week = last_week(now)
    year, number, _ = week.start.isocalendar()
    teams = Team.objects.in_bulk()
    link = reverse("reports:team", args=["-slug-"])
    planned = 0
    for figures in report("team", week, now=now):
        team = teams.get(figures["group"]["id"])
        if team is None:  # incidents without a team have no channel
            continue
        url = f"{settings.SREDESK_BASE_URL}{link.replace('-slug-', team.slug)}?{week.query()}"
        planned += notify(
            key=f"weekly-report:{team.pk}:{year}-W{number:02d}",
            topic=f"{team} weekly report",
            subject=f"sredesk weekly report for {team}: {year}-W{number:02d}",
            text=summary_text(figures, week),
            url=url,
            slack=[team.slack_channel],
            outbox=[f"team:{team.slug}"],
        )
    return planned
