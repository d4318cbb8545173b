"""An alert-made incident shows its alerts, and names them by what tells them apart (issue 15 item 3).

Inputs are the real Alertmanager and Grafana payloads (SREDESK_REALDATA_DIR) and small field-case bodies.
"""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.alert_labels import alert_title, distinguishing_labels
from incidents.models import Alert, Incident, Integration
from notifications.models import Notification
from tests.factories import UserFactory
from tests.incidents.payloads import am_alert, am_payload

pytestmark = pytest.mark.django_db

DOWN = {"alertname": "PaymentsGatewayDown", "service": "svc-a", "job": "gateway"}


@pytest.fixture
def viewer(client):
    client.force_login(UserFactory(username="viewer"))
    return client


def alerts_section(page: bytes) -> str:
    html = page.decode()
    return html[html.index('id="alerts"') : html.index('id="timeline"')]


def test_distinguishing_labels_are_the_ones_that_differ():
    a = {"alertname": "Down", "instance": "10.0.0.1:9090", "job": "node"}
    b = {"alertname": "Down", "instance": "10.0.0.2:9090", "job": "node", "zone": "eu"}
    assert distinguishing_labels([a, b]) == ["instance", "zone"]  # a missing label differs too
    assert distinguishing_labels([a]) == [] and distinguishing_labels([a, dict(a)]) == []
    assert alert_title("Down", b, ["instance", "zone"]) == "Down (instance=10.0.0.2:9090, zone=eu)"
    assert alert_title("Down", a, []) == "Down"
    assert alert_title("Down", {"alertname": "Down", "x": "v" * 100}, ["alertname", "x"]) == f"Down (x={'v' * 59}…)"


def test_the_timeline_and_the_announcement_name_the_instance(hook, slack_on):
    one = am_alert("aaaa000000000001", labels={**DOWN, "instance": "10.0.0.1:9090"})
    two = am_alert("aaaa000000000002", labels={**DOWN, "instance": "10.0.0.2:9090"})
    hook.post(am_payload(one, two, group_key="payments"))

    incident = Incident.objects.get()
    fired = sorted(incident.timeline.filter(message__startswith="Alert fired").values_list("message", flat=True))
    assert fired == [
        "Alert fired: PaymentsGatewayDown (instance=10.0.0.1:9090)",
        "Alert fired: PaymentsGatewayDown (instance=10.0.0.2:9090)",
    ]
    declared = Notification.objects.filter(subject__contains=" declared: ").values_list("subject", flat=True)
    assert set(declared) == {
        f"{incident.public_id} (SEV3) declared: PaymentsGatewayDown (firing: "
        "PaymentsGatewayDown (instance=10.0.0.1:9090), PaymentsGatewayDown (instance=10.0.0.2:9090))"
    }

    # A lone alert adds nothing to the headline.
    hook.post(am_payload(am_alert("bbbb000000000001", labels={**DOWN, "instance": "x"}), group_key="alone"))
    alone = Incident.objects.get(alert_group_key="alone")
    assert Notification.objects.filter(subject=f"{alone.public_id} (SEV3) declared: PaymentsGatewayDown").exists()

    # The first instance recovers: its resolution is named too.
    hook.post(am_payload({**one, "status": "resolved", "endsAt": "2024-05-01T10:05:00Z"}, two, group_key="payments"))
    assert incident.timeline.filter(message="Alert resolved: PaymentsGatewayDown (instance=10.0.0.1:9090)").exists()


def test_an_alert_joining_later_is_named_by_what_sets_it_apart(hook):
    hook.post(am_payload(am_alert("aaaa000000000001", labels={**DOWN, "instance": "10.0.0.1:9090"})))
    hook.post(
        am_payload(
            am_alert("aaaa000000000001", labels={**DOWN, "instance": "10.0.0.1:9090"}),
            am_alert("aaaa000000000002", labels={**DOWN, "instance": "10.0.0.2:9090"}),
        )
    )
    fired = list(
        Incident.objects.get()
        .timeline.filter(message__startswith="Alert fired")
        .order_by("id")
        .values_list("message", flat=True)
    )
    # Alone, the first had nothing to be told apart from; its entry is not rewritten.
    assert fired == ["Alert fired: PaymentsGatewayDown", "Alert fired: PaymentsGatewayDown (instance=10.0.0.2:9090)"]


def test_the_page_lists_the_alerts_of_a_real_payload(hook, realdata_dir, viewer):
    """Three alerts of one group told apart by the label ``name``; long generatorURLs; an investigate link."""
    payload = json.loads((realdata_dir / "alertmanager" / "firing-multi-long-generatorurl.json").read_bytes())
    hook.post(payload)
    hook.post(payload)  # a repeat: seen twice
    incident = Incident.objects.get()

    section = alerts_section(viewer.get(f"/incidents/{incident.pk}/").content)
    assert "3 alerts" in section and "told apart by name" in section
    assert section.count('class="badge st-firing"') == 3
    for name in ("grafana", "nginx", "prometheus"):
        label = f'<span class="k">name</span>=<span class="v">{name}</span>'
        assert re.search(rf'class="label distinct"[^>]*>{label}', section)
    assert '<span class="k">namespace</span>=<span class="v">whatever/promstack</span>' in section
    assert 'class="label distinct"' not in section.split("namespace")[0][-200:]  # shared labels are not marked
    assert "Lorem ipsum dolor sit amet" in section  # the description
    assert section.count(">investigate_link</a>") == 3
    assert section.count(">Source</a>") == 3
    assert section.count("seen 2 times") == 3
    assert "first seen" in section and "last seen" in section


def test_firing_alerts_come_first_and_groups_by_name(hook, viewer):
    alerts = [
        am_alert("aaaa000000000001", labels={**DOWN, "instance": "a"}),
        am_alert("aaaa000000000002", "resolved", ends="2024-05-01T10:05:00Z", labels={**DOWN, "instance": "b"}),
        am_alert("aaaa000000000003", labels={"alertname": "HighLatency", "service": "svc-a", "instance": "c"}),
        am_alert("aaaa000000000004", "resolved", ends="2024-05-01T10:06:00Z", labels={"alertname": "Zeta", "i": "d"}),
    ]
    hook.post(am_payload(*alerts))
    section = alerts_section(viewer.get(f"/incidents/{Incident.objects.get().pk}/").content)
    groups = re.findall(r"<h3>(\w+) <span class=\"meta\">(\d) firing of (\d)</span>", section)
    assert groups == [("HighLatency", "1", "1"), ("PaymentsGatewayDown", "1", "2"), ("Zeta", "0", "1")]
    down = section[section.index("<h3>PaymentsGatewayDown") :]
    assert down.index("st-firing") < down.index("st-resolved")


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://prometheus.example/graph?g0.expr=up", True),
        ("javascript:alert(1)", False),
        ("/graph?g0.expr=up", False),
        ("data:text/html,<script>alert(1)</script>", False),
    ],
)
def test_only_http_links_are_links(hook, viewer, url, linked):
    alert = am_alert(
        "aaaa000000000001", annotations={"runbook_url": url, "summary": "Down", "dashboard": "https://g.example/d/x"}
    )
    alert["generatorURL"] = url
    hook.post(am_payload(alert))
    section = alerts_section(viewer.get(f"/incidents/{Incident.objects.get().pk}/").content)
    assert (f'href="{url}"' in section) == linked
    assert ">Runbook</a>" in section if linked else ">Runbook</a>" not in section
    assert '<a href="https://g.example/d/x" rel="noopener noreferrer" target="_blank">Dashboard</a>' in section
    assert 'href="javascript:' not in section and 'href="data:' not in section and 'href="/graph' not in section
    if not linked:  # still shown, as text: the generatorURL as the alert's source, the runbook among the annotations
        assert "source: <code>" in section and "runbook_url" in section


def test_grafana_dashboard_links_are_kept(make_hook, svc_a, realdata_dir, viewer):
    grafana = make_hook(Integration.Kind.GRAFANA, default_service=svc_a)
    grafana.post((realdata_dir / "grafana" / "v11-firing-values-imageURL.json").read_bytes())
    alert = Alert.objects.get()
    assert alert.annotations["dashboardURL"].startswith("https://play.grafana.org/d/")
    section = alerts_section(viewer.get(f"/incidents/{alert.incident_id}/").content)
    assert f'href="{alert.annotations["dashboardURL"]}"' in section and ">Dashboard</a>" in section


def _alert_incident(hook, n: int) -> Incident:
    labels = {**DOWN, "cluster": f"size-{n}"}
    alerts = [am_alert(f"{n:04d}{i:012d}", labels={**labels, "instance": f"10.0.0.{i}:9090"}) for i in range(n)]
    hook.post(am_payload(*alerts, group_key=f"size-{n}"))
    return Incident.objects.get(alert_group_key=f"size-{n}")


def test_the_page_query_count_does_not_grow_with_the_alerts(hook, viewer):
    counts = {}
    for n in (2, 40):
        incident = _alert_incident(hook, n)
        viewer.get(f"/incidents/{incident.pk}/")  # warm the session and caches alike for both sizes
        with CaptureQueriesContext(connection) as queries:
            page = viewer.get(f"/incidents/{incident.pk}/")
        assert alerts_section(page.content).count('class="alert st-firing"') == n
        counts[n] = len(queries.captured_queries)
    assert counts[2] == counts[40]


def test_a_declared_incident_has_no_alerts_section(viewer):
    from incidents import services

    incident = services.incident_declare(title="By hand", severity=3, actor=None, source="web")
    assert b'id="alerts"' not in viewer.get(f"/incidents/{incident.pk}/").content


def test_the_timeline_shows_an_alert_entry_once_labelled_capitalised_and_to_the_minute(hook, viewer):
    """The walk saw "… 10:00:00 UTC · Alert · Alert" over "alert fired: …": the kind and the source said the
    same, the message began lower-case and only the timeline showed seconds."""
    hook.post(am_payload(am_alert("aaaa000000000001", labels={**DOWN, "instance": "10.0.0.1:9090"})))
    incident = Incident.objects.get()
    page = viewer.get(f"/incidents/{incident.pk}/").content.decode()
    timeline = re.sub(r"<[^>]+>", "", page[page.index('id="timeline"') : page.index("</ol>")])
    entry = re.search(
        r"(\d{4}-\d\d-\d\d [\d:]+ UTC) · Alert(?: · [^\n]*)?\s+Alert fired: PaymentsGatewayDown", timeline
    )
    assert entry, timeline
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", entry.group(1))
    assert "Alert · Alert" not in timeline and "alert fired" not in timeline
