"""Alert webhook helpers for the incidents tests: Alertmanager v4 bodies, a poster for one integration, counts.

Inputs follow FORMATS.md; real payloads are read from SREDESK_REALDATA_DIR, never copied here.
"""

import contextlib
import datetime as dt
import hashlib
import hmac
import json

import time_machine
from django.test import Client

from incidents.models import Alert, Incident, Integration, TimelineEvent
from notifications.models import Notification

UTC = dt.UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def am_payload(*alerts: dict, status: str = "", group_key: str = '{}:{alertname="DiskFull"}', **extra) -> dict:
    """An Alertmanager v4 body around ``alerts``; the group status is derived from them unless given."""
    status = status or ("firing" if any(a["status"] == "firing" for a in alerts) else "resolved")
    return {
        "version": "4",
        "status": status,
        "receiver": "incident-app",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am.example:9093",
        "alerts": list(alerts),
        **extra,
    }


def am_alert(
    fingerprint: str,
    status: str = "firing",
    *,
    starts: str = "2024-05-01T10:00:00Z",
    ends: str = "0001-01-01T00:00:00Z",
    labels: dict | None = None,
    annotations: dict | None = None,
) -> dict:
    return {
        "status": status,
        "labels": labels if labels is not None else {"alertname": "DiskFull", "service": "svc-a"},
        "annotations": annotations or {},
        "startsAt": starts,
        "endsAt": ends,
        "generatorURL": "http://prom.example/g",
        "fingerprint": fingerprint,
    }


class Hook:
    """Posts to one integration's webhook URL; on-commit work (announcements) runs as after a real commit."""

    def __init__(self, client: Client, capture, integration: Integration, token: str) -> None:
        self.client, self.capture, self.integration, self.token = client, capture, integration, token

    @property
    def url(self) -> str:
        return f"/hooks/{self.integration.public_id}/"

    def post(
        self,
        payload,
        *,
        token: str | None = None,
        headers: dict | None = None,
        query: str = "",
        received: dt.datetime | None = None,
    ):
        """POST ``payload``; ``received``: the clock's time while it is received (a live delivery of a past alert).

        sredesk records an alert-made incident as detected when it receives the
        alert, so a test about an alert's own times delivers it just after them.
        """
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        auth = {} if token == "" else {"Authorization": f"Bearer {self.token if token is None else token}"}
        with self.capture(execute=True), time_machine.travel(received) if received else contextlib.nullcontext():
            return self.client.post(
                self.url + query, data=body, content_type="application/json", headers={**auth, **(headers or {})}
            )


def counts() -> dict[str, int]:
    """Everything a delivery may write, except the receipt."""
    return {
        "alerts": Alert.objects.count(),
        "incidents": Incident.objects.count(),
        "timeline": TimelineEvent.objects.count(),
        "notifications": Notification.objects.count(),
    }


def pd_signature(body: bytes, secret: str) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
