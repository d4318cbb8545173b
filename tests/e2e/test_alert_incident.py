"""An alert-made incident's page in Chromium (issue 15 items 3 and 4): its alerts, and when it was detected.

Alertmanager posts a group of alerts over HTTP to the live server, as it
would: two instances of PaymentsGatewayDown firing (one with a long pod
label, as Kubernetes writes them) and one already resolved. The on-call
person opens the incident at laptop (1366x768) and phone (390x844) width: the
alerts are listed firing first with the instance that tells them apart, their
runbook and dashboard links; nothing is wider than the phone's screen.
Screenshots go to ``var/screenshots/incident-alerts-<width>.png``.
"""

import datetime as dt
import json
import urllib.request

import pytest
from django.utils import timezone

from incidents.models import Incident, Integration
from tests.e2e.test_browser import SCREENSHOTS, browser, browser_ready, shoot, sign_in, world  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
POD = "card-payments-api-7d9f8c6b5-x2x9z-canary-eu-west-1b-with-a-sidecar-named-envoy-proxy-v1-29-3"


def _alert(instance: str, status: str, starts: dt.datetime, **labels) -> dict:
    return {
        "status": status,
        "labels": {"alertname": "PaymentsGatewayDown", "service": "card-payments-api", "severity": "critical",
                   "job": "payments-gateway", "instance": instance, **labels},
        "annotations": {
            "summary": "PaymentsGatewayDown",
            "description": f"The payments gateway on {instance} has not answered its health check for 2 minutes.",
            "runbook_url": "https://wiki.example.com/runbooks/payments-gateway-down",
            "dashboard": "https://grafana.example.com/d/pay/payments-gateway?var-instance=" + instance,
        },
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "endsAt": (starts + dt.timedelta(minutes=3)).isoformat().replace("+00:00", "Z")
        if status == "resolved"
        else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up%7Bjob%3D%22payments-gateway%22%7D+%3D%3D+0",
        "fingerprint": {"10.0.0.1:9090": "a1", "10.0.0.2:9090": "a2", "10.0.0.3:9090": "a3"}[instance] + "0" * 14,
    }  # fmt: skip


def test_an_alert_incident_lists_its_alerts(world, live_server, browser):  # noqa: F811 (fixtures)
    from playwright.sync_api import expect

    base = live_server.url
    integration = Integration(kind="alertmanager", name="Prometheus (card payments)", default_service=world["service"])
    token = integration.set_new_token()
    integration.save()
    started = timezone.now() - dt.timedelta(minutes=6)
    payload = {
        "version": "4", "status": "firing", "receiver": "sredesk", "groupKey": '{}:{alertname="PaymentsGatewayDown"}',
        "truncatedAlerts": 0, "groupLabels": {"alertname": "PaymentsGatewayDown"}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            _alert("10.0.0.1:9090", "firing", started),
            _alert("10.0.0.2:9090", "firing", started + dt.timedelta(seconds=30), pod=POD),
            _alert("10.0.0.3:9090", "resolved", started - dt.timedelta(minutes=1)),
        ],
    }  # fmt: skip
    request = urllib.request.Request(
        f"{base}/hooks/{integration.public_id}/",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    assert answer["alerts"]["new"] == 2 and answer["alerts"]["resolved"] == 1
    incident = Incident.objects.get(integration=integration)

    for name, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport)
        context.set_default_timeout(15_000)
        page = context.new_page()
        sign_in(page, base)
        page.goto(f"{base}/incidents/{incident.pk}/")
        alerts = page.locator("#alerts")
        expect(alerts).to_contain_text("3 alerts")
        expect(alerts).to_contain_text("2 firing of 3")
        rows = alerts.locator("li.alert")
        expect(rows).to_have_count(3)
        expect(rows.nth(0)).to_have_class("alert st-firing")
        expect(rows.nth(2)).to_have_class("alert st-resolved")  # firing first
        for instance in ("10.0.0.1:9090", "10.0.0.2:9090", "10.0.0.3:9090"):
            expect(alerts.locator("li.label.distinct", has_text=f"instance={instance}")).to_have_count(1)
        expect(alerts.get_by_role("link", name="Runbook")).to_have_count(3)
        expect(alerts.get_by_role("link", name="Dashboard")).to_have_count(3)
        expect(alerts.get_by_role("link", name="Source", exact=True)).to_have_count(3)
        expect(page.locator("#timeline")).to_contain_text("Alert fired: PaymentsGatewayDown (instance=10.0.0.2:9090")
        expect(page.locator("#detected-at")).to_contain_text("sredesk received the alert")
        # Nothing is wider than the screen: the long pod label wraps inside its card.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than the screen"
        box = alerts.locator("li.label", has_text="pod=").bounding_box()
        assert box["x"] + box["width"] <= viewport["width"]
        shoot(page, "incident-alerts", str(viewport["width"]))
        if name == "laptop":
            page.click("button[data-verb=acknowledge]")
            expect(page.locator("#incident-status")).to_have_text("Acknowledged")
        context.close()

    incident.refresh_from_db()
    assert incident.mtta_seconds < 120  # from receipt, not from the alert's start six minutes earlier
    shots = {path.name for path in SCREENSHOTS.glob("incident-alerts-*.png")}
    assert shots == {"incident-alerts-1366.png", "incident-alerts-390.png"}
