"""Alert webhooks: ``POST /hooks/<integration id>/`` from Alertmanager, Grafana, PagerDuty or the generic format.

Thin on purpose: find the integration, bound and read the raw body
(``sredesk.bodies``: raw or chunked, 413 past ``SREDESK_WEBHOOK_MAX_BYTES``),
authenticate, check the content type, decode the JSON (``sredesk.inputs.load_json``:
depth-bounded), make its text storable (``alert_formats.common.storable_payload``),
parse (``incidents.alert_formats``), and hand the parsed delivery to
``incidents.ingest``, which applies it and its receipt in one transaction.
Answers are JSON: ``{"outcome", "alerts": {...}, "incidents": [...]}`` on
success, ``{"error", "field"}`` otherwise; bad input is a 4xx naming the
field, never a 5xx. An authenticated delivery that is refused keeps its raw
bytes on a receipt of outcome ``rejected``, so it can be replayed (Alertmanager
does not retry a 4xx).

Authentication: ``incidents.alert_formats.signatures.authenticate`` (a bearer
token, or the sender's HMAC signature for an integration with a signing secret).
"""

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.http.request import HttpHeaders
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sredesk import bodies, sql
from sredesk.inputs import InputError, escape_text, load_json

from .alert_formats import alertmanager, generic, grafana, signatures
from .alert_formats import pagerduty as pagerduty_format
from .alert_formats.common import ROOT, PayloadError, storable_payload
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
# Content types a JSON body may come with: JSON's own, none, and the two a hand-typed curl sends (-d without -H
# says x-www-form-urlencoded; --data-binary with text/plain). Anything else (multipart, XML, HTML...) is not the
# JSON body the senders post: 415 naming Content-Type.
JSON_CONTENT_TYPES = ("", "application/json", "text/plain", "application/x-www-form-urlencoded")


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

    try:
        # Raw bytes, read once: signatures and re-parsing need them as sent. Chunked bodies are read, not taken as
        # empty (a 400 Alertmanager would not retry: the alert would be lost).
        body = bodies.read_bytes(request, setting="SREDESK_WEBHOOK_MAX_BYTES")
    except bodies.BodyError as exc:
        return bodies.error_response(request, exc)

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
        headers={name: escape_text(request.META[key]) for name, key in KEPT_META if key in request.META},
    )
    try:
        if not _json_content_type(request.content_type or ""):
            sent = escape_text(request.content_type)[:100]
            return _reject(delivery, 415, "Content-Type", f"send the body as application/json, not {sent}")
        try:
            payload = storable_payload(load_json(body, field=ROOT), body)
        except InputError as exc:
            raise PayloadError(exc.field, exc.message) from None
        if integration.kind == Integration.Kind.PAGERDUTY:
            event = pagerduty_format.parse_pagerduty(payload)
            result = pagerduty_ingest.ingest_pagerduty_event(integration=integration, event=event, delivery=delivery)
        else:
            batch = PARSERS[integration.kind](payload)
            result = alert_ingest.ingest_alert_batch(integration=integration, batch=batch, delivery=delivery)
    except PayloadError as exc:
        return _reject(delivery, 400, exc.field, exc.message)
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


def _json_content_type(content_type: str) -> bool:
    """Whether a body sent with this media type (parameters stripped) is read as JSON (``JSON_CONTENT_TYPES``)."""
    media = content_type.strip().lower()
    return media in JSON_CONTENT_TYPES or (media.startswith("application/") and media.endswith("+json"))


def _reject(delivery: WebhookDelivery, status: int, field: str, message: str) -> JsonResponse:
    """Answer ``status`` naming ``field``, and keep the delivery's raw bytes on a receipt of outcome ``rejected``."""
    delivery.pk = None
    delivery.outcome = WebhookDelivery.Outcome.REJECTED
    delivery.error = f"{field}: {message}"
    delivery.result = {"error": message, "field": field}
    delivery.save()
    logger.info(
        "Alert webhook payload rejected",
        extra={"integration_id": delivery.integration_id, "field": field, "reason": message},
    )
    return _error(status, message, field)


# Included from sredesk/urls.py at /hooks/.
urlpatterns = [
    path("<uuid:integration_id>/", alert_webhook, name="alert-webhook"),
]
