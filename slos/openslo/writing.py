"""Writing sredesk SLOs as OpenSLO v1 ``SLO`` documents (the mapping: ``slos.openslo``)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from ..models import SLO
from .vocabulary import ANNOTATED, ANNOTATION, API_VERSION, SREDESK_SOURCE


def document_of(slo: SLO) -> dict:
    """The OpenSLO v1 ``SLO`` document of an SLO (``fields_of`` reads it back to the same SLO)."""
    annotations = {
        f"{ANNOTATION}{name}": _annotation_text(getattr(slo, field))
        for name, field in ANNOTATED.items()
        if field != "measured_since" or not slo.is_events
    }
    metadata = {"name": slo.slug, "displayName": slo.name, "annotations": annotations}
    spec: dict[str, Any] = {"description": slo.description} if slo.description else {}
    spec["service"] = slo.service.slug
    if slo.sli_kind == SLO.SLIKind.INCIDENT_TIME:
        severity = f"SEV{slo.min_severity}"
        source = {"type": SREDESK_SOURCE, "spec": {"incidentImpact": {"minSeverity": severity}}}
        indicator_spec = {"thresholdMetric": {"metricSource": source}}
        method = "Timeslices"
    elif slo.sli_kind == SLO.SLIKind.EVENTS_PUSHED:
        indicator_spec = {"ratioMetric": {"counter": True, **{
            part: {"metricSource": {"type": SREDESK_SOURCE, "spec": {"pushed": part}}} for part in ("good", "total")
        }}}  # fmt: skip
        method = "Occurrences"
    else:
        indicator_spec = {"ratioMetric": {"counter": True, **{
            part: {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}
            for part, query in (("good", slo.good_query), ("total", slo.total_query))
        }}}  # fmt: skip
        method = "Occurrences"
    spec["indicator"] = {"metadata": {"name": f"{slo.slug}-sli"[:63]}, "spec": indicator_spec}
    if slo.window_kind == SLO.WindowKind.CALENDAR_MONTH:
        spec["timeWindow"] = [{"duration": "1M", "calendar": {"timeZone": slo.timezone}, "isRolling": False}]
    else:
        spec["timeWindow"] = [{"duration": f"{slo.window_days}d", "isRolling": True}]
    spec["budgetingMethod"] = method
    objective: dict[str, Any] = {"displayName": slo.name, "target": float(slo.target)}
    if method == "Timeslices":
        objective |= {"op": "lte", "value": 0, "timeSliceTarget": 1, "timeSliceWindow": "1m"}
    spec["objectives"] = [objective]
    return {"apiVersion": API_VERSION, "kind": "SLO", "metadata": metadata, "spec": spec}


def _annotation_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)
