"""Reading OpenSLO v1 documents into sredesk SLO fields (the mapping: ``slos.openslo``).

``fields_of`` maps one ``SLO`` document (with the ``SLI`` and ``DataSource``
documents of the same import, ``side_documents``) to a catalog service and the
fields ``slos.services`` writes, or raises ``Refused`` with the path and a
sentence. No database writes; one query for the service.
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from ownership.models import Service

from ..models import SLO
from .vocabulary import ANNOTATED, ANNOTATION, API_VERSION, SREDESK_SOURCE

NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")  # RFC 1123 label, as the spec requires
DURATION = re.compile(r"^([1-9][0-9]{0,4})([mhdwMQY])$")
SELECTOR = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^{}]*\})?$")
SEVERITY = {"SEV1": 1, "SEV2": 2, "SEV3": 3, "SEV4": 4}
IGNORED_KINDS = {"Service"}
SIDE_KINDS = {"SLI", "DataSource"}


class Refused(ValueError):
    """A document sredesk does not take: ``path`` is where (``spec.timeWindow``), ``str()`` the sentence."""

    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


def _get(doc: Any, path: str, kind: type | tuple = object, required: bool = False) -> Any:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict):
            value = None
            break
        value = value.get(part)
    if value is None:
        if required:
            raise Refused(path, "Required.")
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
        names = " or ".join(k.__name__ for k in _tuple(kind)).replace("str", "text").replace("dict", "a mapping")
        raise Refused(path, f"Give {names}.")
    return value


def _tuple(kind) -> tuple:
    return kind if isinstance(kind, tuple) else (kind,)


def side_documents(documents: list[Any]) -> dict[tuple[str, str], dict]:
    """``SLI`` and ``DataSource`` documents by (kind, metadata.name), for ``indicatorRef``/``metricSourceRef``."""
    found = {}
    for doc in documents:
        if isinstance(doc, dict) and doc.get("apiVersion") == API_VERSION and doc.get("kind") in SIDE_KINDS:
            name = _get(doc, "metadata.name", str)
            if name:
                found[(doc["kind"], name)] = doc
    return found


def fields_of(doc: Any, side: dict[tuple[str, str], dict]) -> tuple[Service, dict[str, Any]] | None:
    """The service and SLO fields (``slos.services.WRITABLE``) an ``SLO`` document gives; None for documents
    that are accepted and write nothing (``Service``, ``SLI``, ``DataSource``). Raises ``Refused``."""
    if not isinstance(doc, dict):
        raise Refused("", "A document must be a mapping with apiVersion, kind, metadata and spec.")
    version, kind = doc.get("apiVersion"), doc.get("kind")
    if version != API_VERSION:
        raise Refused("apiVersion", f"Only {API_VERSION} documents are read (this one says {str(version)[:40]!r}).")
    if kind in IGNORED_KINDS or kind in SIDE_KINDS:
        return None
    if kind != "SLO":
        raise Refused(
            "kind",
            f"Only SLO documents are imported (with the SLI and DataSource documents they refer to); not "
            f"{str(kind)[:40]!r}. sredesk derives its burn-rate alerts from each SLO's window, so AlertPolicy, "
            "AlertCondition and AlertNotificationTarget have no place to go.",
        )
    unknown = sorted(set(doc) - {"apiVersion", "kind", "metadata", "spec"})
    if unknown:
        raise Refused(unknown[0], "Unknown member of an OpenSLO document.")
    name = _get(doc, "metadata.name", str, required=True)
    if not NAME.match(name):
        raise Refused("metadata.name", "Give an RFC 1123 name: lowercase letters, digits and '-', at most 63.")
    spec = _get(doc, "spec", dict, required=True)
    if _get(doc, "spec.alertPolicies", list):
        raise Refused(
            "spec.alertPolicies",
            "Alert policies are not imported: sredesk's burn-rate alerts follow the SRE Workbook's multi-window "
            "rules with thresholds derived from this SLO's window. Remove alertPolicies.",
        )
    slug_service = _get(doc, "spec.service", str, required=True)
    service = Service.objects.filter(slug=slug_service).select_related("team").first()
    if service is None:
        raise Refused("spec.service", f"No service with slug {slug_service[:80]!r} in sredesk's catalog.")
    description = _get(doc, "spec.description", str) or ""
    if len(description) > 1050:
        raise Refused("spec.description", "At most 1050 characters, as OpenSLO says.")
    fields: dict[str, Any] = {
        "slug": name,
        "name": (_get(doc, "metadata.displayName", str) or name)[:120],
        "description": description,
        **_window(spec),
        "target": _target(spec),
    }
    fields |= _indicator(spec, side)
    fields |= _annotations(doc)
    return service, _with_defaults(fields)


def _with_defaults(fields: dict[str, Any]) -> dict[str, Any]:
    """Every writable field: a file is the whole truth about its SLO, so what it leaves out is the default."""
    from ..services import WRITABLE

    out = {}
    for name in WRITABLE:
        if name in fields:
            out[name] = fields[name]
        elif name != "measured_since":  # a time SLI measures from its creation unless the file says otherwise
            out[name] = SLO._meta.get_field(name).get_default()
    return out


def _window(spec: dict) -> dict[str, Any]:
    windows = _get(spec, "timeWindow", list)
    if windows is None:
        return {"window_kind": SLO.WindowKind.ROLLING, "window_days": 30}
    if len(windows) != 1 or not isinstance(windows[0], dict):
        raise Refused("spec.timeWindow", "Give exactly one time window (a mapping), as OpenSLO says.")
    window = windows[0]
    duration = _get(window, "duration", str, required=True)
    match = DURATION.match(duration)
    if not match:
        raise Refused("spec.timeWindow.0.duration", "Give a duration shorthand such as 28d, 4w or 1M.")
    number, unit = int(match.group(1)), match.group(2)
    calendar = _get(window, "calendar", dict)
    rolling = _get(window, "isRolling", bool)
    if rolling is None:
        rolling = calendar is None
    if rolling:
        if calendar is not None:
            raise Refused("spec.timeWindow.0", "A rolling window takes no calendar.")
        hours = {"d": 24, "w": 168, "h": 1}.get(unit)
        if hours is None or (number * hours) % 24:
            raise Refused(
                "spec.timeWindow.0.duration",
                "A rolling window is whole days (Nd, Nw, or a multiple of 24h); months, quarters and years roll "
                "only as calendar windows.",
            )
        days = number * hours // 24
        if not 1 <= days <= 90:
            raise Refused("spec.timeWindow.0.duration", "A rolling window of 1 to 90 days.")
        return {"window_kind": SLO.WindowKind.ROLLING, "window_days": days}
    if (number, unit) != (1, "M"):
        raise Refused("spec.timeWindow.0.duration", "A calendar window is one month (1M) in sredesk.")
    zone = _get(calendar or {}, "timeZone", str) or "UTC"
    start = (calendar or {}).get("startTime")
    if start is not None:
        start = start if isinstance(start, dt.datetime | dt.date) else _parse_start(start)
        if start.day != 1 or (isinstance(start, dt.datetime) and start.time() != dt.time(0)):
            raise Refused(
                "spec.timeWindow.0.calendar.startTime", "Calendar months start on the 1st at midnight in sredesk."
            )
    return {"window_kind": SLO.WindowKind.CALENDAR_MONTH, "timezone": zone[:64]}


def _parse_start(value: Any) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise Refused("spec.timeWindow.0.calendar.startTime", "Give a date and time: 2024-01-01 00:00:00.") from None


def _target(spec: dict) -> Decimal:
    objectives = _get(spec, "objectives", list, required=True)
    if len(objectives) != 1 or not isinstance(objectives[0], dict):
        raise Refused(
            "spec.objectives", "sredesk takes exactly one objective per SLO: write one SLO document per target."
        )
    objective = objectives[0]
    target, percent = objective.get("target"), objective.get("targetPercent")
    if (target is None) == (percent is None):
        raise Refused("spec.objectives.0", "Give target or targetPercent (one of them).")
    raw, path, scale = (target, "target", 1) if target is not None else (percent, "targetPercent", 100)
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise Refused(f"spec.objectives.0.{path}", "Give a number.")
    try:
        value = Decimal(str(raw)) / scale
    except InvalidOperation:
        raise Refused(f"spec.objectives.0.{path}", "Give a number.") from None
    if not value.is_finite() or not Decimal("0.5") <= value <= Decimal("0.99999"):
        raise Refused(f"spec.objectives.0.{path}", "sredesk takes targets from 50 % to 99.999 %.")
    if value != value.quantize(Decimal("0.00001")):
        raise Refused(f"spec.objectives.0.{path}", "At most five decimals of a fraction (99.999 %).")
    return value.quantize(Decimal("0.00001"))


def _indicator(spec: dict, side: dict) -> dict[str, Any]:
    indicator, ref = _get(spec, "indicator", dict), _get(spec, "indicatorRef", str)
    if (indicator is None) == (ref is None):
        raise Refused("spec.indicator", "Give indicator or indicatorRef (one of them).")
    path = "spec.indicator.spec"
    if ref is not None:
        indicator = side.get(("SLI", ref))
        if indicator is None:
            raise Refused("spec.indicatorRef", f"No SLI document named {ref[:80]!r} in this import.")
        path = f"SLI {ref}: spec"
    sli = _get(indicator, "spec", dict, required=True)
    method = _get(spec, "budgetingMethod", str, required=True)
    objective = spec["objectives"][0]
    if method == "Timeslices":
        source = _get(sli, "thresholdMetric.metricSource", dict)
        impact = _get(source or {}, "spec.incidentImpact", dict)
        if _source_type(source, side) != SREDESK_SOURCE or impact is None:
            raise Refused(
                "spec.budgetingMethod",
                "Timeslices budgeting is taken only with sredesk's incident-impact SLI (thresholdMetric of type "
                "sredesk with spec.incidentImpact); sredesk counts metric SLIs as events: use Occurrences.",
            )
        severity = impact.get("minSeverity", "SEV2")
        if severity not in SEVERITY:
            raise Refused(f"{path}.thresholdMetric.metricSource.spec.incidentImpact.minSeverity", "SEV1 to SEV4.")
        return {"sli_kind": SLO.SLIKind.INCIDENT_TIME, "min_severity": SEVERITY[severity]}
    if method != "Occurrences":
        raise Refused("spec.budgetingMethod", "Give Occurrences or Timeslices.")
    for key in ("op", "value", "timeSliceTarget", "timeSliceWindow"):
        if key in objective:
            raise Refused(f"spec.objectives.0.{key}", f"{key} belongs to threshold or Timeslices SLOs, not events.")
    if "thresholdMetric" in sli:
        raise Refused(f"{path}.thresholdMetric", "sredesk counts good and total events: use ratioMetric.")
    ratio = _get(sli, "ratioMetric", dict, required=True)
    for key in ("bad", "raw", "rawType"):
        if key in ratio:
            raise Refused(f"{path}.ratioMetric.{key}", "Give good and total; bad and raw ratios are not taken.")
    good = _get(ratio, "good.metricSource", dict) or {}
    total = _get(ratio, "total.metricSource", dict) or {}
    if not good or not total:
        raise Refused(f"{path}.ratioMetric", "Give good and total, each with a metricSource.")
    kinds = {_source_type(good, side), _source_type(total, side)}
    if kinds == {SREDESK_SOURCE}:
        if (_get(good, "spec.pushed", str), _get(total, "spec.pushed", str)) != ("good", "total"):
            raise Refused(f"{path}.ratioMetric", "A sredesk source says spec.pushed: good, and total.")
        return {"sli_kind": SLO.SLIKind.EVENTS_PUSHED}
    if kinds != {"prometheus"}:
        raise Refused(
            f"{path}.ratioMetric", "Metric sources of type Prometheus (or sredesk, for pushed events) are taken."
        )
    counter = ratio.get("counter", True)
    return {
        "sli_kind": SLO.SLIKind.EVENTS_PROMETHEUS,
        "good_query": _promql(good, counter, f"{path}.ratioMetric.good"),
        "total_query": _promql(total, counter, f"{path}.ratioMetric.total"),
    }


def _source_type(source: dict | None, side: dict) -> str | None:
    if not source:
        return None
    kind = source.get("type")
    if kind is None and isinstance(source.get("metricSourceRef"), str):
        kind = _get(side.get(("DataSource", source["metricSourceRef"])) or {}, "spec.type", str)
    return kind.lower() if isinstance(kind, str) else None


def _promql(source: dict, counter: Any, path: str) -> str:
    query = _get(source, "spec.query", str)
    if not query or not query.strip():
        raise Refused(f"{path}.metricSource.spec.query", "Give the PromQL query.")
    query = query.strip()
    if "$window" in query:
        return query
    if counter is True and SELECTOR.match(query):
        return f"sum(increase({query}[$window]))"
    raise Refused(
        f"{path}.metricSource.spec.query",
        "Write $window where the bucket length goes (sum(increase(http_requests_total[$window]))), or give a "
        "plain counter selector with counter: true.",
    )


def _annotations(doc: dict) -> dict[str, Any]:
    annotations = _get(doc, "metadata.annotations", dict) or {}
    fields = {}
    for key, value in annotations.items():
        if not key.startswith(ANNOTATION):
            continue
        name = key[len(ANNOTATION) :]
        field = ANNOTATED.get(name)
        if field is None:
            raise Refused(f"metadata.annotations.{key}", f"Known sredesk annotations: {', '.join(ANNOTATED)}.")
        text = str(value).strip()
        if field == "paused":
            if text.lower() not in ("true", "false"):
                raise Refused(f"metadata.annotations.{key}", "Give true or false.")
            fields[field] = text.lower() == "true"
        elif field == "measured_since":
            try:
                since = dt.datetime.fromisoformat(text)
            except ValueError:
                since = None
            if since is None or since.tzinfo is None:
                raise Refused(f"metadata.annotations.{key}", "Give an ISO 8601 time with its offset.")
            fields[field] = since
        elif field == "min_coverage":
            try:
                fields[field] = Decimal(text) if text.isascii() else None
            except InvalidOperation:
                fields[field] = None
            if fields[field] is None or not fields[field].is_finite():
                raise Refused(f"metadata.annotations.{key}", "Give a number from 0 to 1.")
        else:
            if not (text.isascii() and text.isdigit() and len(text) < 10):
                raise Refused(f"metadata.annotations.{key}", "Give a whole number.")
            fields[field] = int(text)
    return fields
