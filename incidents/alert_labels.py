"""How one incident's alerts are told apart: the labels whose values differ between them (issue 15 item 3).

Two alerts of one incident usually share their name ("PaymentsGatewayDown")
and differ in a label or two (``instance``). Those *distinguishing* labels
are named wherever an alert is named — timeline entries
("Alert fired: PaymentsGatewayDown (instance=10.0.0.2:9090)"), announcements —
and highlighted on the incident page. This module is the one home of that
rule: ``distinguishing_labels`` finds them, ``alert_title`` names one alert
with them, ``incident_distinguishing_labels`` reads them for incidents from
the database.

An incident with one alert has none (there is nothing to tell apart); an
alert that joins later names the labels that set it apart from the ones
already there (timeline entries are written once, never rewritten).
"""

from collections.abc import Iterable, Mapping

from .models import Alert

# Bounds on what a title names: a few labels, each value cut (label values can be long URLs or queries).
MAX_NAMED_LABELS = 4
MAX_VALUE_LENGTH = 60
# How many of an incident's newest alerts the labels are compared over (an alert storm has thousands).
COMPARED_ALERTS = 200


def distinguishing_labels(label_sets: Iterable[Mapping[str, str]]) -> list[str]:
    """The names of the labels whose values differ between these alerts (missing counts as a value), sorted.

    ``[]`` for fewer than two alerts. E.g. ``[{"alertname": "Down", "instance": "a"}, {"alertname": "Down",
    "instance": "b"}]`` -> ``["instance"]``.
    """
    sets = [labels for labels in label_sets if isinstance(labels, Mapping)]
    if len(sets) < 2:
        return []
    names = set().union(*sets)
    return sorted(name for name in names if len({labels.get(name) for labels in sets}) > 1)


def _short(value: str) -> str:
    value = str(value)
    return value if len(value) <= MAX_VALUE_LENGTH else value[: MAX_VALUE_LENGTH - 1] + "…"


def alert_title(name: str, labels: Mapping[str, str], distinguishing: Iterable[str]) -> str:
    """``name (label=value, ...)`` with the alert's distinguishing labels, or ``name`` when it has none.

    A label whose value is the name itself (``alertname`` when the name is the
    alertname) is not repeated. At most ``MAX_NAMED_LABELS``, each value at
    most ``MAX_VALUE_LENGTH`` characters.
    """
    parts = [
        f"{label}={_short(labels[label])}" for label in distinguishing if label in labels and str(labels[label]) != name
    ][:MAX_NAMED_LABELS]
    return f"{name} ({', '.join(parts)})" if parts else name


def incident_distinguishing_labels(incident_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each incident's distinguishing labels over its ``COMPARED_ALERTS`` newest alerts: one query per incident."""
    return {
        incident_id: distinguishing_labels(
            Alert.objects.filter(incident_id=incident_id)
            .order_by("-id")
            .values_list("labels", flat=True)[:COMPARED_ALERTS]
        )
        for incident_id in sorted(set(incident_ids))
    }


# How many firing alerts an announcement names before "and N more".
ANNOUNCED_ALERTS = 3


def firing_alerts_line(incident_id: int) -> str:
    """``firing: Down (instance=a), Down (instance=b) and 3 more`` for an incident's firing alerts.

    "" when none fires, or when one fires with nothing to tell it apart (its name alone says nothing new).

    For announcements of an alert-made incident's moves (declared, escalated,
    re-opened), so the people paged know which instances are down. Two queries.
    """
    distinguishing = incident_distinguishing_labels([incident_id])[incident_id]
    firing = Alert.objects.filter(incident_id=incident_id, status=Alert.Status.FIRING).order_by("starts_at", "id")
    shown = list(firing.values_list("name", "labels")[: ANNOUNCED_ALERTS + 1])
    if not shown:
        return ""
    titles = [alert_title(name, labels, distinguishing) for name, labels in shown[:ANNOUNCED_ALERTS]]
    if len(shown) == 1 and titles[0] == shown[0][0]:
        return ""
    more = firing.count() - ANNOUNCED_ALERTS if len(shown) > ANNOUNCED_ALERTS else 0
    return "firing: " + ", ".join(titles) + (f" and {more} more" if more else "")
