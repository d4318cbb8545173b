"""The alerts of an incident as its page shows them (issue 15 item 3): grouped by name, firing first.

``incident_alert_groups`` reads the incident's alerts in one query (at most
``SHOWN_ALERTS``, plus one count when there are more), whatever their
number, and shapes them for ``incidents/_alerts.html``: labels with the
distinguishing ones marked (``incidents.alert_labels``), the well-known
annotations (``summary``, ``description``, ``runbook_url``, dashboard links)
apart from the rest, and every link checked to be ``http``/``https``
(``sredesk.inputs.http_url``: a ``javascript:`` URL from a sender runs in the
viewer's page; a relative ``generatorURL`` has no host to go to).
"""

from dataclasses import dataclass, field

from sredesk.inputs import http_url

from .alert_labels import distinguishing_labels
from .models import Alert, Incident

# An alert storm can attach thousands of alerts to one incident: the page shows the newest ones, firing first.
SHOWN_ALERTS = 100
TEXT_ANNOTATIONS = ("summary", "description", "message")
# Annotation names that link to a runbook or a dashboard (Prometheus conventions, Grafana's per-alert URLs).
RUNBOOK_ANNOTATIONS = ("runbook_url", "runbook")
DASHBOARD_ANNOTATIONS = ("dashboard", "dashboard_url", "grafana_dashboard", "dashboardURL", "panelURL")
COLUMNS = (
    "id",
    "name",
    "status",
    "labels",
    "annotations",
    "generator_url",
    "starts_at",
    "ends_at",
    "first_seen_at",
    "last_seen_at",
    "times_seen",
)


@dataclass
class Link:
    label: str
    url: str


@dataclass
class AlertView:
    alert: Alert
    labels: list[tuple[str, str, bool]]  # (name, value, distinguishing), distinguishing ones first
    texts: list[tuple[str, str]]  # summary, description, message
    links: list[Link]  # runbook, dashboards, other annotations that are http(s) URLs, the generatorURL ("Source")
    other: list[tuple[str, str]]  # every other annotation, as text
    generator_text: str  # a generatorURL that is not an http(s) URL, shown unlinked


@dataclass
class AlertGroup:
    name: str
    firing: int
    alerts: list[AlertView] = field(default_factory=list)


@dataclass
class AlertPanel:
    groups: list[AlertGroup]
    shown: int
    total: int
    distinguishing: list[str]


def _view(alert: Alert, distinguishing: list[str]) -> AlertView:
    labels = sorted(
        ((name, str(value), name in distinguishing) for name, value in (alert.labels or {}).items()),
        key=lambda item: (not item[2], item[0]),
    )
    annotations = {name: str(value) for name, value in (alert.annotations or {}).items()}
    texts = [(name, annotations.pop(name)) for name in TEXT_ANNOTATIONS if annotations.get(name)]
    if texts and texts[0][1] == alert.name:
        texts = texts[1:]  # the summary is the alert's name, shown already
    links = [
        Link("Runbook", annotations.pop(name)) for name in RUNBOOK_ANNOTATIONS if http_url(annotations.get(name, ""))
    ]
    links += [
        Link("Dashboard" if name != "panelURL" else "Panel", annotations.pop(name))
        for name in DASHBOARD_ANNOTATIONS
        if http_url(annotations.get(name, ""))
    ]
    links += [Link(name, annotations.pop(name)) for name in sorted(annotations) if http_url(annotations[name])]
    generator = alert.generator_url or ""
    if http_url(generator):
        links.append(Link("Source", generator))
    other = sorted(annotations.items())
    return AlertView(alert, labels, texts, links, other, "" if http_url(generator) else generator)


def incident_alert_groups(incident: Incident) -> AlertPanel:
    """The incident's alerts, grouped by name: groups with firing alerts first, then by name; in a group firing
    alerts first, then the most recently seen. One query, and a count when there are more than ``SHOWN_ALERTS``."""
    rows = list(
        Alert.objects.filter(incident_id=incident.pk)
        .only(*COLUMNS)
        .order_by("status", "-last_seen_at", "-id")[:SHOWN_ALERTS]  # "firing" sorts before "resolved"
    )
    total = len(rows) if len(rows) < SHOWN_ALERTS else Alert.objects.filter(incident_id=incident.pk).count()
    distinguishing = distinguishing_labels(alert.labels for alert in rows)
    groups: dict[str, AlertGroup] = {}
    for alert in rows:
        group = groups.setdefault(alert.name, AlertGroup(alert.name, 0))
        group.firing += alert.status == Alert.Status.FIRING
        group.alerts.append(_view(alert, distinguishing))
    ordered = sorted(groups.values(), key=lambda group: (group.firing == 0, group.name.lower()))
    return AlertPanel(ordered, len(rows), total, distinguishing)
