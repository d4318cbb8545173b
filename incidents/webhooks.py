"""Alert webhooks: ``POST /hooks/<integration id>/`` from Alertmanager, Grafana, PagerDuty or the generic format.

Thin on purpose: find the integration, bound and read the raw body,
authenticate, parse (``incidents.alert_formats``), and hand the parsed
delivery to ``incidents.ingest``, which applies it and its receipt in one
transaction. Answers are JSON: ``{"outcome", "alerts": {...}, "incidents": [...]}``
on success, ``{"error", "field"}`` otherwise.

Authentication: ``incidents.alert_formats.signatures.authenticate`` (a bearer
token, or the sender's HMAC signature for an integration with a signing secret).
"""

import json
import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.http.request import HttpHeaders
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sredesk import sql

from .alert_formats import alertmanager, generic, grafana, signatures
from .alert_formats import pagerduty as pagerduty_format
from .alert_formats.common import ROOT, PayloadError
from .ingest import alerts as alert_ingest
from .ingest import pagerduty as pagerduty_ingest
from .models import Integration, WebhookDelivery

logger = logging.getLogger(__name__)

PARSERS = {
    Integration.Kind.ALERTMANAGER: alertmanager.parse_alertmanager,
    Integration.Kind.GRAFANA: grafana.parse_grafana,
    Integration.Kind.GENERIC: generic.parse_generic,
}
# Headers kept on the receipt (never Authorization: it carries the token).
KEPT_HEADERS = (
    "Content-Type",
    "User-Agent",
    "X-Webhook-Id",
    "X-Webhook-Subscription",
    signatures.PAGERDUTY_SIGNATURE_HEADER,
    *signatures.GRAFANA_SIGNATURE_HEADERS,
    signatures.GRAFANA_TIMESTAMP_HEADER,
    "X-Forwarded-For",
)
# The same, as WSGI names: read from request.META, without building request.headers (all of META) per delivery.
KEPT_META = tuple((name, HttpHeaders.to_wsgi_name(name)) for name in KEPT_HEADERS)


def _error(status: int, message: str, field: str = "") -> JsonResponse:
    return JsonResponse({"error": message, "field": field}, status=status)


def _enabled_integration(public_id) -> Integration | None:
    """The enabled integration with this public id, or None.

    Every delivery starts here, so it skips the ORM's query compilation and
    doubles as the connection's health check (``sredesk.sql.select_first``).
    The default service is loaded only when an alert is routed to it.
    """
    key = Integration._meta.get_field("public_id").get_db_prep_value(public_id, connection)
    found = sql.select_first(Integration, "public_id = %s AND enabled", [key])
    return found[0] if found else None


@csrf_exempt
@require_POST
def alert_webhook(request: HttpRequest, integration_id) -> JsonResponse:
    """Receive one alert delivery for the integration ``integration_id`` (its public UUID)."""
    integration = _enabled_integration(integration_id)
    if integration is None:
        return _error(404, "no enabled integration with this id", "integration_id")
    if integration.kind not in PARSERS and integration.kind != Integration.Kind.PAGERDUTY:
        # The slo kind is fed by sredesk's own SLO evaluator (slos.alerts), never over HTTP.
        return _error(404, "this integration takes no webhook deliveries", "integration_id")

    limit = settings.SREDESK_WEBHOOK_MAX_BYTES
    too_big = f"request body is larger than SREDESK_WEBHOOK_MAX_BYTES ({limit} bytes)"
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "Content-Length is not a number", "Content-Length")
    if declared > limit:
        return _error(413, too_big, "body")
    body = request.read(limit + 1)  # raw bytes, read at most once: signatures and re-parsing need them as sent
    if len(body) > limit:
        return _error(413, too_big, "body")

    refused = signatures.authenticate(integration, request, body)
    if refused is not None:
        logger.warning(
            "Alert webhook refused",
            extra={"integration_id": integration.pk, "status": refused.status},
        )
        return _error(*refused)

    delivery = WebhookDelivery(
        integration=integration,
        body=body,
        headers={name: request.META[key] for name, key in KEPT_META if key in request.META},
    )
    try:
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise PayloadError(ROOT, f"body is not valid JSON: {exc}") from exc
        if integration.kind == Integration.Kind.PAGERDUTY:
            event = pagerduty_format.parse_pagerduty(payload)
            result = pagerduty_ingest.ingest_pagerduty_event(integration=integration, event=event, delivery=delivery)
        else:
            batch = PARSERS[integration.kind](payload)
            result = alert_ingest.ingest_alert_batch(integration=integration, batch=batch, delivery=delivery)
    except PayloadError as exc:
        delivery.pk = None
        delivery.outcome = WebhookDelivery.Outcome.REJECTED
        delivery.error = str(exc)
        delivery.result = {"error": exc.message, "field": exc.field}
        delivery.save()
        logger.info(
            "Alert webhook payload rejected",
            extra={"integration_id": integration.pk, "field": exc.field, "reason": exc.message},
        )
        return _error(400, exc.message, exc.field)
    except Exception as exc:
        # Keep the raw bytes of a delivery we failed on, so it can be replayed once the bug is fixed.
        delivery.pk = None
        delivery.outcome = WebhookDelivery.Outcome.ERROR
        delivery.error = f"{type(exc).__name__}: {exc}"
        try:
            delivery.save()
        except Exception:
            logger.exception("Could not keep the receipt of a failed alert delivery")
        raise
    return JsonResponse(result.as_dict(), status=200)


# Included from sredesk/urls.py at /hooks/.
urlpatterns = [
    path("<uuid:integration_id>/", alert_webhook, name="alert-webhook"),
]
