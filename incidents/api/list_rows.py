"""The incident list's fast path: ``IncidentListSerializer``'s output built from plain rows.

The list is the API's hottest read (dashboards poll it). Building model instances and
walking ~50 DRF fields per row cost several times the SQL (bench/api.py), so the list reads
plain rows with .values() and shapes them here. IncidentListSerializer stays the documented
shape (the schema); tests/api/test_incidents.py checks that both give identical output.
"""

from datetime import UTC

from incidents.models import Incident, Severity, public_id_for

INCIDENT_LIST_VALUES = (
    "id",
    "title",
    "severity",
    "status",
    "started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "created_at",
    "updated_at",
    "version",
    "owning_team_id",
    "owning_team__slug",
    "owning_team__name",
    "commander_id",
    "commander__username",
    "commander__first_name",
    "commander__last_name",
    "primary_service_id",
    "primary_service__slug",
    "primary_service__name",
)
SEVERITY_LABELS = dict(Severity.choices)


def _iso(value):
    """DRF's DateTimeField output for an aware UTC datetime (``...Z``)."""
    if value is None:
        return None
    value = value.astimezone(UTC) if value.tzinfo is not UTC else value
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _seconds(start, end):
    return (end - start).total_seconds() if start and end else None


def incident_list_rows(rows: list[dict]) -> list[dict]:
    """``IncidentListSerializer(many=True).data`` for rows of ``INCIDENT_LIST_VALUES``, plus one query for
    the affected services of the whole page."""
    through = Incident.services.through.objects.filter(incident_id__in=[r["id"] for r in rows])
    services: dict[int, list[dict]] = {}
    for incident_id, sid, slug, name in through.order_by("service__name").values_list(
        "incident_id", "service__id", "service__slug", "service__name"
    ):
        services.setdefault(incident_id, []).append({"id": sid, "slug": slug, "name": name})
    out = []
    for r in rows:
        commander = None
        if r["commander_id"] is not None:
            name = f"{r['commander__first_name']} {r['commander__last_name']}".strip() or r["commander__username"]
            commander = {"id": r["commander_id"], "username": r["commander__username"], "name": name}
        team, service = r["owning_team_id"], r["primary_service_id"]
        out.append(
            {
                "id": r["id"],
                "public_id": public_id_for(r["id"]),
                "title": r["title"],
                "severity": SEVERITY_LABELS[r["severity"]],
                "status": r["status"],
                "started_at": _iso(r["started_at"]),
                "detected_at": _iso(r["detected_at"]),
                "acknowledged_at": _iso(r["acknowledged_at"]),
                "mitigated_at": _iso(r["mitigated_at"]),
                "resolved_at": _iso(r["resolved_at"]),
                "time_to_detect_seconds": _seconds(r["started_at"], r["detected_at"]),
                "mtta_seconds": _seconds(r["detected_at"], r["acknowledged_at"]),
                "time_to_mitigate_seconds": _seconds(r["started_at"], r["mitigated_at"]),
                "mttr_seconds": _seconds(r["started_at"], r["resolved_at"]),
                "owning_team": (
                    {"id": team, "slug": r["owning_team__slug"], "name": r["owning_team__name"]} if team else None
                ),
                "commander": commander,
                "primary_service": (
                    {"id": service, "slug": r["primary_service__slug"], "name": r["primary_service__name"]}
                    if service
                    else None
                ),
                "services": services.get(r["id"], []),
                "created_at": _iso(r["created_at"]),
                "updated_at": _iso(r["updated_at"]),
                "version": r["version"],
            }
        )
    return out
